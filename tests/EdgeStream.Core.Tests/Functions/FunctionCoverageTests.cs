using System.Text.RegularExpressions;

namespace EdgeStream.Tests.Functions;

/// <summary>
/// Every eKuiper function name (<c>Data/function-names.txt</c>, copied from the reference list) has cases in
/// <c>Data/functions/</c>: at least three, at least one that succeeds (so it is implemented) and one that fails (a
/// null, a wrong type or a wrong argument count). <see cref="FunctionCaseTests"/> runs them.
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
        });
    }
}
