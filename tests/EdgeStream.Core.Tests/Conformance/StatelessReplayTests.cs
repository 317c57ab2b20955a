using System.Text.Json;
using EdgeStream.Abstractions;
using EdgeStream.Runtime;
using EdgeStream.Runtime.Json;
using EdgeStream.Tests.Compilation;

namespace EdgeStream.Tests.Conformance;

/// <summary>
/// Replays corpus cases through the engine, for the cases the runtime can run so far. Which ones that is lives in
/// <c>Data/conformance-status.txt</c> (<c>case ⇒ pass</c> or <c>case ⇒ deferred: why</c>); this test checks that
/// every case is listed, every <c>pass</c> passes, and every deferred case is still refused at rule creation — so
/// a case that starts to work must be moved to <c>pass</c>.
/// </summary>
/// <remarks>
/// Stateless cases need no clock: events are published in arrival order, the rule is stopped (which drains it), and
/// the emissions are compared as the corpus README says (rows in order, numbers by value, an integer never equals a
/// float, error rows by their key only). The full replay harness with the mock clock comes with windows.
/// </remarks>
public sealed class StatelessReplayTests
{
    private static readonly Dictionary<string, string> Status = DataFileStatus();

    private static Dictionary<string, string> DataFileStatus() =>
        Support.DataFile.Cases("conformance-status.txt").ToDictionary(c => (string)c.Arguments[0]!, c => (string)c.Arguments[1]!);

    public static IEnumerable<TestCaseData> Cases() =>
        Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Conformance", "cases"), "*.json").Order(StringComparer.Ordinal)
            .Select(path => new TestCaseData(path).SetArgDisplayNames(Path.GetFileNameWithoutExtension(path)));

    [Test]
    public void Every_case_has_a_status()
    {
        var names = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Conformance", "cases"), "*.json").Select(Path.GetFileNameWithoutExtension);
        Assert.That(Status.Keys, Is.EquivalentTo(names));
    }

    [TestCaseSource(nameof(Cases))]
    public async Task Case_passes_or_is_deferred(string path)
    {
        using var doc = JsonDocument.Parse(await File.ReadAllTextAsync(path));
        var root = doc.RootElement;
        var name = root.GetProperty("name").GetString()!;
        var status = Status[name];

        await using var engine = new EdgeStreamEngine();
        var topics = new Dictionary<string, string>();
        Exception? refused = null;
        try
        {
            foreach (var stream in root.GetProperty("streams").EnumerateObject())
            {
                engine.Execute(stream.Value.GetProperty("ddl").GetString()!.Replace("TYPE=\"mock\"", "TYPE=\"memory\"", StringComparison.Ordinal));
                topics[stream.Name] = stream.Name;
            }

            var rule = new RuleDefinition("case", root.GetProperty("sql").GetString()!);
            rule.Actions.Add(new RuleAction("memory", new Dictionary<string, string> { ["topic"] = "case-out" }));
            var options = root.TryGetProperty("options", out var o) ? o : default;
            rule.Options.SendError = options.ValueKind == JsonValueKind.Object && options.TryGetProperty("sendError", out var se) && se.GetBoolean();
            var eventTime = options.ValueKind == JsonValueKind.Object && options.TryGetProperty("isEventTime", out var et) && et.GetBoolean();
            if (eventTime || root.GetProperty("streams").EnumerateObject().Any(s => s.Value.TryGetProperty("kind", out _)))
            {
                throw new NotSupportedException("event time and tables need the replay harness");
            }

            await engine.CreateRuleAsync(rule);
        }
        catch (Exception e) when (e is SqlException or NotSupportedException or ArgumentException)
        {
            refused = e;
        }

        if (status != "pass")
        {
            Assert.That(refused, Is.Not.Null, $"{name} runs now: replay it and mark it pass in conformance-status.txt");
            return;
        }

        Assert.That(refused, Is.Null, refused?.Message);
        using var stop = new CancellationTokenSource();
        var output = engine.Memory.Subscribe("case-out", stop.Token, capacity: 100_000);
        var events = root.GetProperty("streams").EnumerateObject()
            .SelectMany((s, order) => s.Value.GetProperty("events").EnumerateArray().Select((e, i) => (Ts: e.GetProperty("ts").GetInt64(), Order: order, Index: i, Topic: s.Name, Data: e.GetProperty("data").GetRawText())))
            .OrderBy(e => e.Ts).ThenBy(e => e.Index).ThenBy(e => e.Order);
        foreach (var e in events)
        {
            await engine.Memory.PublishJsonAsync(topics[e.Topic], System.Text.Encoding.UTF8.GetBytes(e.Data));
        }

        await engine.StopRuleAsync("case");
        var actual = new List<IReadOnlyList<IReadOnlyDictionary<string, object?>>>();
        while (output.TryRead(out var emission))
        {
            actual.Add(emission);
        }

        var expected = root.GetProperty("expected").EnumerateArray().ToList();
        Assert.That(actual, Has.Count.EqualTo(expected.Count), "emissions");
        for (var i = 0; i < expected.Count; i++)
        {
            var want = expected[i].EnumerateArray().Select(r => JsonValueReader.Parse(r.GetRawText()).AsObject).ToList();
            var got = actual[i].Select(r => ClrValues.FromClr(r).AsObject).ToList();
            Assert.That(got, Has.Count.EqualTo(want.Count), $"rows of emission {i}");
            for (var j = 0; j < want.Count; j++)
            {
                Assert.That(SameRow(want[j], got[j]), Is.True, $"emission {i} row {j}: expected {want[j]}, got {got[j]}");
            }
        }
    }

    private static bool SameRow(ValueObject expected, ValueObject actual)
    {
        if (expected.TryGet("error", out _))
        {
            return actual.TryGet("error", out _);
        }

        return expected.Count == actual.Count && expected.Fields.All(f => actual.TryGet(f.Key, out var v) && ValueComparer.Same(f.Value, v));
    }
}
