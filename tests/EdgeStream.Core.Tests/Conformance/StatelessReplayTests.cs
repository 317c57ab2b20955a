using EdgeStream.Testing;

namespace EdgeStream.Tests.Conformance;

/// <summary>
/// Replays every corpus case through the engine with <see cref="CaseReplayer"/>. Which cases the runtime runs so far
/// lives in <c>Data/conformance-status.txt</c> (<c>case ⇒ pass</c> or <c>case ⇒ deferred: why (issue N)</c>); this
/// test checks that every case is listed, every <c>pass</c> passes, and every deferred case still fails — so a case
/// that starts to work must be moved to <c>pass</c>.
/// </summary>
public sealed class StatelessReplayTests
{
    private static readonly Dictionary<string, string> Status =
        Support.DataFile.Cases("conformance-status.txt").ToDictionary(c => (string)c.Arguments[0]!, c => (string)c.Arguments[1]!);

    private static string CasesFolder => Path.Combine(AppContext.BaseDirectory, "Conformance", "cases");

    public static IEnumerable<TestCaseData> Cases() =>
        Directory.GetFiles(CasesFolder, "*.json").Order(StringComparer.Ordinal)
            .Select(path => new TestCaseData(path).SetArgDisplayNames(Path.GetFileNameWithoutExtension(path)));

    [Test]
    public void Every_case_has_a_status()
    {
        Assert.That(Status.Keys, Is.EquivalentTo(Directory.GetFiles(CasesFolder, "*.json").Select(Path.GetFileNameWithoutExtension)));
    }

    [TestCaseSource(nameof(Cases))]
    public async Task Case_passes_or_is_deferred(string path)
    {
        var conformanceCase = ConformanceCase.Load(path);
        var result = await CaseReplayer.ReplayAsync(conformanceCase);
        if (Status[conformanceCase.Name] == "pass")
        {
            Assert.That(result.Status, Is.EqualTo(ReplayStatus.Pass), $"{result.Reason}\nexpected {result.ExpectedJson}\nactual   {result.ActualJson}");
        }
        else
        {
            Assert.That(result.Status, Is.EqualTo(ReplayStatus.Fail), $"{conformanceCase.Name} passes now: mark it pass in conformance-status.txt");
        }
    }
}
