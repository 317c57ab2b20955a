using System.Text.Json.Nodes;
using EdgeStream.Testing;

namespace EdgeStream.Tests.Conformance;

/// <summary>
/// <c>checkpoint__checkpoint_rule1</c> passes with the replay gap eKuiper's recording implies (1 s, its
/// <c>harnessNote</c> says why). This pins what the same restored state gives with eKuiper's documented mock-source gap
/// (200 ms), so both timings are asserted and the case's result is shown to follow from the arrival times alone.
/// </summary>
public sealed class CheckpointReplayTimingTests
{
    private static string CasePath => Path.Combine(AppContext.BaseDirectory, "Conformance", "cases", "checkpoint__checkpoint_rule1.json");

    private static readonly JsonObject Red = Row("red", 3, 1541152486013);
    private static readonly JsonObject Blue = Row("blue", 6, 1541152486822);
    private static readonly JsonObject Blue2 = Row("blue", 2, 1541152487632);
    private static readonly JsonObject Yellow = Row("yellow", 4, 1541152488442);

    [Test]
    public async Task With_eKuipers_TIMELEAP_the_replayed_event_joins_the_restored_window()
    {
        // Blue 2 is sent again 200 ms after the restart (487832), before the window ending 488000 closes;
        // yellow follows 200 ms later (488032) and red at 489252; the rule stops at 489252, before 490000.
        var result = await ReplayAsync(200, [[Red, Blue, Blue2], [Blue2, Yellow]], windowOut: 2);
        Assert.That(result.Status, Is.EqualTo(ReplayStatus.Pass), $"{result.Reason}\nactual {result.ActualJson}");
    }

    private static async Task<ReplayResult> ReplayAsync(int gapMs, JsonObject[][] expected, int windowOut)
    {
        var root = JsonNode.Parse(await File.ReadAllTextAsync(CasePath))!.AsObject();
        root["harness"]!["checkpoint"]!["replayGapMs"] = gapMs;
        root["expected"] = new JsonArray(expected.Select(e => (JsonNode)new JsonArray(e.Select(r => (JsonNode)r.DeepClone()).ToArray())).ToArray());
        var metrics = root["expectedMetrics"]!.AsObject();
        metrics["sink_memory_0_0_records_in_total"] = windowOut;
        metrics["sink_memory_0_0_records_out_total"] = windowOut;
        metrics["op_2_window_0_records_out_total"] = windowOut;
        return await CaseReplayer.ReplayAsync(ConformanceCase.Parse(root.ToJsonString()));
    }

    private static JsonObject Row(string color, int size, long ts) => new() { ["color"] = color, ["size"] = size, ["ts"] = ts };
}
