using EdgeStream.Testing;

namespace EdgeStream.Tests.Conformance;

/// <summary>
/// Replays every corpus case through the engine with <see cref="CaseReplayer"/>. Which cases the runtime runs so far
/// lives in <c>Data/conformance-status.txt</c> (<c>case ⇒ pass</c>, <c>case ⇒ deviation</c> for a case whose file
/// records why EdgeStream differs, or <c>case ⇒ deferred: why (issue N)</c>); this test checks that every case is
/// listed, every <c>pass</c> passes, every deviation runs and differs only so, and every deferred case still fails —
/// so a case that starts to work must be moved to <c>pass</c>.
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
        else if (Status[conformanceCase.Name] == "deviation")
        {
            // Runs, and differs from eKuiper only as the case's recorded deviation explains.
            Assert.That(conformanceCase.Deviation, Is.Not.Null, "a deviation needs its reason in the case file");
            Assert.That(result.Status, Is.EqualTo(ReplayStatus.Deviation), $"{conformanceCase.Name}: {result.Reason}\nactual {result.ActualJson}");
        }
        else
        {
            Assert.That(result.Status, Is.EqualTo(ReplayStatus.Fail), $"{conformanceCase.Name} passes now: mark it pass in conformance-status.txt");
        }
    }
}

public sealed class ReplayMetricsTests
{
    private static string CasePath => Path.Combine(AppContext.BaseDirectory, "Conformance", "cases", "single_sql__single_sql_rule3.json");

    [Test]
    public async Task A_case_whose_expected_metric_differs_fails_with_the_metric_named()
    {
        var text = await File.ReadAllTextAsync(CasePath);
        Assert.That((await CaseReplayer.ReplayAsync(ConformanceCase.Parse(text))).Status, Is.EqualTo(ReplayStatus.Pass));

        var changed = ConformanceCase.Parse(text.Replace("\"op_2_filter_0_records_out_total\": 2", "\"op_2_filter_0_records_out_total\": 3", StringComparison.Ordinal));
        var result = await CaseReplayer.ReplayAsync(changed);
        Assert.That((result.Status, result.Reason), Is.EqualTo((ReplayStatus.Fail, "metric op_2_filter_0_records_out_total: expected 3, got 2")));

        var unknown = ConformanceCase.Parse(text.Replace("\"op_2_filter_0_records_out_total\": 2", "\"op_9_window_0_records_out_total\": 2", StringComparison.Ordinal));
        Assert.That((await CaseReplayer.ReplayAsync(unknown)).Reason, Is.EqualTo("metric op_9_window_0_records_out_total: expected 2, but the rule has no such metric"));
    }
}
