using System.Diagnostics.Metrics;
using EdgeStream.Tests.Support;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Tests.Runtime;

public sealed class ObservabilityTests
{
    [Test]
    public async Task The_log_sink_writes_each_emission_as_json_and_the_engine_logs_the_lifecycle()
    {
        var logs = new ListLoggerFactory();
        await using (var engine = new EdgeStreamEngine(new EdgeStreamEngineOptions { LoggerFactory = logs }))
        {
            engine.Execute("CREATE STREAM s (a BIGINT, b FLOAT) WITH (DATASOURCE=\"in\", TYPE=\"memory\")");
            var rule = RuleDefinition.FromJson("""{"id": "r1", "sql": "SELECT a, b FROM s", "actions": [{"log": {}}], "options": {"debug": true}}""");
            await engine.CreateRuleAsync(rule);
            await engine.Memory.PublishAsync("in", new Dictionary<string, object?> { ["a"] = 1, ["b"] = 2 });
            await engine.StopRuleAsync("r1");
        }

        var entries = logs.Entries.ToList();
        Assert.That(entries.Where(e => e.Category == "EdgeStream.Sinks.Log").Select(e => e.Message),
            Is.EqualTo(new[] { """Rule r1 result: [{"a":1,"b":2.0}]""" }));
        Assert.That(entries.Where(e => e.Category == "EdgeStream.Engine").Select(e => (e.Level, e.Message)), Is.EqualTo(new[]
        {
            (LogLevel.Warning, "Rule r1: rule option `debug` is accepted but not applied yet"),
            (LogLevel.Information, "Rule r1 started"),
            (LogLevel.Information, "Rule r1 stopped"),
        }));
    }

    [Test]
    public async Task Undecodable_events_go_to_the_dead_letter_topic()
    {
        await using var engine = new EdgeStreamEngine();
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (DATASOURCE=\"in\", TYPE=\"memory\", STRICT_VALIDATION=\"true\")");
        await engine.CreateRuleAsync(new RuleDefinition("r1", "SELECT a FROM s"));
        using var stop = new CancellationTokenSource();
        var letters = engine.Memory.Subscribe(EdgeStreamEngine.DeadLetterTopic, stop.Token);

        await engine.Memory.PublishJsonAsync("in", "{broken"u8.ToArray());
        await engine.Memory.PublishJsonAsync("in", """{"a": 1}"""u8.ToArray());
        await engine.Memory.PublishAsync("in", new Dictionary<string, object?> { ["a"] = "x" });

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var first = (await letters.ReadAsync(timeout.Token))[0];
        var second = (await letters.ReadAsync(timeout.Token))[0];
        Assert.Multiple(() =>
        {
            Assert.That(first["rule"], Is.EqualTo("r1"));
            Assert.That(first["stream"], Is.EqualTo("s"));
            Assert.That(first["payload"], Is.EqualTo("{broken"));
            Assert.That((string)first["error"]!, Does.StartWith("decode error"));
            Assert.That(second["payload"], Is.EqualTo(new Dictionary<string, object?> { ["a"] = "x" }));
            Assert.That(engine.GetRuleStatus("r1").Errors, Is.EqualTo(2));
        });
    }

    [Test]
    public async Task Counters_are_published_on_the_edgestream_meter()
    {
        var measured = new System.Collections.Concurrent.ConcurrentDictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "EdgeStream")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "rule" && (string?)tag.Value == "metered")
                {
                    measured.AddOrUpdate(instrument.Name, value, (_, v) => v + value);
                }
            }
        });
        listener.Start();

        await using var engine = new EdgeStreamEngine();
        engine.Execute("CREATE STREAM s () WITH (DATASOURCE=\"in\", TYPE=\"memory\")");
        var rule = new RuleDefinition("metered", "SELECT a * 2 AS b FROM s WHERE a > 1");
        rule.Actions.Add(new RuleAction("nop"));
        await engine.CreateRuleAsync(rule);
        foreach (var a in new object?[] { 1, 2, 3, "x" })
        {
            await engine.Memory.PublishAsync("in", new Dictionary<string, object?> { ["a"] = a });
        }

        await engine.StopRuleAsync("metered");
        Assert.That(measured.GetValueOrDefault("edgestream.rule.records_in"), Is.EqualTo(4));
        Assert.That(measured.GetValueOrDefault("edgestream.rule.records_out"), Is.EqualTo(2));
        Assert.That(measured.GetValueOrDefault("edgestream.rule.errors"), Is.EqualTo(1));
    }
}
