using System.Collections.Concurrent;
using System.Text;
using EdgeStream.TestExtensions;

namespace EdgeStream.Tests.Runtime;

/// <summary>The sink properties <c>dataTemplate</c> and <c>format</c>, for sinks that take rows and sinks that take payloads.</summary>
public sealed class SinkEncodingTests
{
    private sealed class PayloadRecorder : IPayloadSink
    {
        public static readonly ConcurrentQueue<string[]> Batches = new();

        public ValueTask OpenAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask WritePayloadsAsync(IReadOnlyList<ReadOnlyMemory<byte>> payloads, CancellationToken cancellationToken)
        {
            Batches.Enqueue(payloads.Select(p => Encoding.UTF8.GetString(p.Span)).ToArray());
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private static async Task<string[][]> Payloads(Dictionary<string, string> properties, params long[] values)
    {
        await using var engine = new EdgeStreamEngine();
        engine.RegisterSink("payloads", _ => new PayloadRecorder());
        engine.RegisterFormat("kv", new KeyValueFormat(new SourceFeed()));
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (DATASOURCE=\"in\", TYPE=\"memory\")");
        var rule = new RuleDefinition("r", "SELECT a, a * 10 AS b FROM s");
        rule.Actions.Add(new RuleAction("payloads", properties));
        PayloadRecorder.Batches.Clear();
        await engine.CreateRuleAsync(rule);
        foreach (var a in values)
        {
            await engine.Memory.PublishAsync("in", new Dictionary<string, object?> { ["a"] = a });
        }

        await engine.StopRuleAsync("r");
        return [.. PayloadRecorder.Batches];
    }

    [Test]
    [NonParallelizable]
    public async Task A_payload_sink_gets_json_by_default_an_array_per_emission_or_an_object_per_row()
    {
        Assert.That(await Payloads([], 1), Is.EqualTo(new[] { new[] { """[{"a":1,"b":10}]""" } }));
        Assert.That(await Payloads(new() { ["sendSingle"] = "true" }, 1), Is.EqualTo(new[] { new[] { """{"a":1,"b":10}""" } }));
        var batched = await Payloads(new() { ["batchSize"] = "2", ["lingerInterval"] = "200" }, 1, 2);
        Assert.That(batched, Is.EqualTo(new[] { new[] { """[{"a":1,"b":10},{"a":2,"b":20}]""" } }), "a batch is one message");
    }

    [Test]
    [NonParallelizable]
    public async Task A_payload_sink_gets_the_template_text_or_the_named_format()
    {
        var templated = await Payloads(new() { ["sendSingle"] = "true", ["dataTemplate"] = "a={{.a}} {{if gt .b 15}}high{{else}}low{{end}}" }, 1, 2);
        Assert.That(templated.SelectMany(b => b), Is.EqualTo(new[] { "a=1 low", "a=2 high" }));
        var formatted = await Payloads(new() { ["sendSingle"] = "true", ["format"] = "kv" }, 3);
        Assert.That(formatted.SelectMany(b => b), Is.EqualTo(new[] { "a=3;b=30" }));
        var delimited = await Payloads(new() { ["format"] = "delimited", ["delimiter"] = ";", ["hasHeader"] = "true", ["fields"] = "b,a" }, 4);
        Assert.That(delimited.SelectMany(b => b), Is.EqualTo(new[] { "b;a\n40;4" }), "`fields` sets the column order");
    }

    [Test]
    public async Task A_row_sink_gets_the_template_output_read_as_json()
    {
        await using var engine = new EdgeStreamEngine();
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (DATASOURCE=\"in\", TYPE=\"memory\")");
        using var stop = new CancellationTokenSource();
        var single = engine.Memory.Subscribe("single", stop.Token);
        var whole = engine.Memory.Subscribe("whole", stop.Token);
        var rule = new RuleDefinition("r", "SELECT a FROM s");
        rule.Actions.Add(new RuleAction("memory", new Dictionary<string, string>
        {
            ["topic"] = "single", ["sendSingle"] = "true",
            ["dataTemplate"] = """{"value": {{.a}}, "big": {{if gt .a 1}}true{{else}}false{{end}}}""",
        }));
        rule.Actions.Add(new RuleAction("memory", new Dictionary<string, string>
        {
            ["topic"] = "whole", ["dataTemplate"] = """[{{range $i, $r := .}}{{if $i}},{{end}}{"n": {{$r.a}}}{{end}}]""",
        }));
        await engine.CreateRuleAsync(rule);
        await engine.Memory.PublishAsync("in", new Dictionary<string, object?> { ["a"] = 2 });

        var row = (await single.ReadAsync(stop.Token))[0];
        Assert.That((row["value"], row["big"]), Is.EqualTo(((object?)2L, (object?)true)));
        Assert.That((await whole.ReadAsync(stop.Token))[0]["n"], Is.EqualTo(2L));
    }

    [Test]
    public async Task A_template_that_fails_on_a_row_is_counted_and_the_rule_goes_on()
    {
        await using var engine = new EdgeStreamEngine();
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (DATASOURCE=\"in\", TYPE=\"memory\")");
        using var stop = new CancellationTokenSource();
        var output = engine.Memory.Subscribe("out", stop.Token);
        var rule = new RuleDefinition("r", "SELECT a FROM s");
        rule.Actions.Add(new RuleAction("memory", new Dictionary<string, string>
        {
            ["topic"] = "out", ["sendSingle"] = "true", ["dataTemplate"] = """{{if eq .a 1}}not json{{else}}{"a": {{.a}}}{{end}}""",
        }));
        await engine.CreateRuleAsync(rule);
        await engine.Memory.PublishAsync("in", new Dictionary<string, object?> { ["a"] = 1 });
        await engine.Memory.PublishAsync("in", new Dictionary<string, object?> { ["a"] = 2 });

        Assert.That((await output.ReadAsync(stop.Token))[0]["a"], Is.EqualTo(2L));
        var status = engine.GetRuleStatus("r");
        Assert.That(status.Errors, Is.EqualTo(1));
        Assert.That(status.LastError, Is.EqualTo("sink `memory`: the dataTemplate output is not a JSON object or array of objects: not json"));
    }

    [Test]
    public async Task An_invalid_template_or_format_fails_rule_creation()
    {
        await using var engine = new EdgeStreamEngine();
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (DATASOURCE=\"in\", TYPE=\"memory\")");
        var rule = new RuleDefinition("r", "SELECT a FROM s");
        rule.Actions.Add(new RuleAction("log", new Dictionary<string, string> { ["dataTemplate"] = "{{if .a}}x" }));
        Assert.That(() => engine.CreateRuleAsync(rule), Throws.ArgumentException.With.Message.StartsWith(
            "sink `log`: `dataTemplate` is invalid: template: line 1, column 1: unexpected end of template: {{if}} has no {{end}}"));

        var other = new RuleDefinition("r", "SELECT a FROM s");
        other.Actions.Add(new RuleAction("log", new Dictionary<string, string> { ["format"] = "yaml" }));
        Assert.That(() => engine.CreateRuleAsync(other), Throws.ArgumentException.With.Message.StartsWith("sink `log`: unknown `format` `yaml`"));
    }

    [Test]
    public async Task The_log_sink_writes_the_template_text()
    {
        var logs = new Support.ListLoggerFactory();
        await using var engine = new EdgeStreamEngine(new EdgeStreamEngineOptions { LoggerFactory = logs });
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (DATASOURCE=\"in\", TYPE=\"memory\")");
        var rule = new RuleDefinition("r", "SELECT a FROM s");
        rule.Actions.Add(new RuleAction("log", new Dictionary<string, string> { ["sendSingle"] = "true", ["dataTemplate"] = "a is {{.a}}" }));
        await engine.CreateRuleAsync(rule);
        await engine.Memory.PublishAsync("in", new Dictionary<string, object?> { ["a"] = 5 });
        await engine.StopRuleAsync("r");

        Assert.That(logs.Entries.Select(e => e.Message), Does.Contain("Rule r result: a is 5"));
    }
}
