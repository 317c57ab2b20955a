using System.Text.RegularExpressions;

namespace EdgeStream.Tests.Functions;

/// <summary>
/// Every eKuiper function name (<c>Data/function-names.txt</c>, copied from the reference list) has cases in
/// <c>Data/functions/</c>: at least three, at least one that succeeds (so it is implemented), one that fails (a wrong
/// type or a wrong argument count) and, when it takes arguments, one with a null argument (a literal <c>null</c>, or a
/// field that is null in the case's row). <see cref="FunctionCaseTests"/> runs them.
/// </summary>
public sealed class FunctionCoverageTests
{
    private static readonly string[] Names = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Data", "function-names.txt"))
        .Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();

    public static IEnumerable<TestCaseData> EveryName() => Names.Select(n => new TestCaseData(n).SetArgDisplayNames(n));

    [TestCaseSource(nameof(EveryName))]
    public void Function_has_cases_that_succeed_and_cases_that_fail(string name)
    {
        var call = new Regex($@"(?<![A-Za-z0-9_]){Regex.Escape(name)}\s*\(", RegexOptions.IgnoreCase);
        var cases = FunctionCaseTests.Load().Where(c => call.IsMatch(c.Expression)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(cases, Has.Count.GreaterThanOrEqualTo(3), $"{name}: fewer than three cases in Data/functions/");
            Assert.That(cases.Any(c => !c.Expected.StartsWith('!')), Is.True, $"{name}: no case that succeeds");
            Assert.That(cases.Any(c => c.Expected.StartsWith('!')), Is.True, $"{name}: no case that fails (wrong type or argument count)");
            if (EdgeStream.Functions.FunctionRegistry.Builtins.TryGet(name, out var info) && info.MinArgs > 0
                && (info.Flags & EdgeStream.Functions.FunctionFlags.MetaKey) == 0) // meta(topic) names a key: an absent one is its null case
            {
                Assert.That(cases.Any(IsNullCase), Is.True, $"{name}: no case with a null argument");
            }
        });
    }

    /// <summary>Whether a case passes null: a literal <c>null</c>, or a field its row (or one of its rows) holds null.</summary>
    private static bool IsNullCase(FunctionCaseTests.Case c)
    {
        if (Regex.IsMatch(c.Expression, @"\bnull\b", RegexOptions.IgnoreCase))
        {
            return true;
        }

        var json = c.Rows ?? c.Row ?? "{}";
        var value = EdgeStream.Runtime.Json.JsonValueReader.Parse(json);
        var rows = value.Kind == EdgeStream.Abstractions.ValueKind.Array ? value.AsArray : [value];
        return rows.Where(r => r.Kind == EdgeStream.Abstractions.ValueKind.Object)
            .SelectMany(r => r.AsObject.Fields)
            .Any(f => f.Value.IsNull && Regex.IsMatch(c.Expression, $@"(?<![A-Za-z0-9_'""]){Regex.Escape(f.Key)}(?![A-Za-z0-9_'""])"));
    }
}
