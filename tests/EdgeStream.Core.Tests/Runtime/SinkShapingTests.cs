using EdgeStream.Abstractions;
using EdgeStream.Runtime;

namespace EdgeStream.Tests.Runtime;

public sealed class SinkShapingTests
{
    private static ValueObject Row(params (string Key, long Value)[] fields)
    {
        var row = new ValueObject();
        foreach (var (key, value) in fields)
        {
            row[key] = Value.From(value);
        }

        return row;
    }

    private static string Show(IEnumerable<IReadOnlyList<ValueObject>> emissions) =>
        string.Join(" | ", emissions.Select(e => string.Join("; ", e)));

    private static SinkShaping Shaping(params (string Key, string Value)[] properties)
    {
        var action = new RuleAction("nop", properties.ToDictionary(p => p.Key, p => p.Value));
        return SinkShaping.Create(action, [], new List<string>());
    }

    private static readonly ValueObject[] TwoRows = [Row(("a", 1), ("b", 2), ("c", 3)), Row(("a", 4), ("b", 5), ("c", 6))];

    [Test]
    public void Without_properties_the_emission_passes_unchanged()
    {
        Assert.That(Show(Shaping().Shape(TwoRows)), Is.EqualTo("map[a:1 b:2 c:3]; map[a:4 b:5 c:6]"));
    }

    [Test]
    public void Fields_keeps_the_listed_columns_in_their_order_from_json_or_a_comma_list()
    {
        Assert.That(Show(Shaping(("fields", """["c", "a", "missing"]""")).Shape(TwoRows)), Is.EqualTo("map[c:3 a:1]; map[c:6 a:4]"));
        Assert.That(Show(Shaping(("fields", "b, a")).Shape(TwoRows)), Is.EqualTo("map[b:2 a:1]; map[b:5 a:4]"));
    }

    [Test]
    public void Exclude_fields_drops_the_listed_columns()
    {
        Assert.That(Show(Shaping(("excludeFields", """["b"]""")).Shape(TwoRows)), Is.EqualTo("map[a:1 c:3]; map[a:4 c:6]"));
    }

    [Test]
    public void Send_single_sends_one_emission_per_row()
    {
        Assert.That(Show(Shaping(("sendSingle", "true")).Shape(TwoRows)), Is.EqualTo("map[a:1 b:2 c:3] | map[a:4 b:5 c:6]"));
    }

    [Test]
    public void Omit_if_empty_skips_empty_emissions_only()
    {
        Assert.That(Shaping(("omitIfEmpty", "true")).Shape([]).Count(), Is.Zero);
        Assert.That(Shaping().Shape([]).Count(), Is.EqualTo(1), "without it an empty window result is sent as []");
        Assert.That(Shaping(("omitIfEmpty", "true")).Shape(TwoRows).Count(), Is.EqualTo(1));
    }

    [Test]
    public void Data_field_sends_the_object_in_that_field()
    {
        var inner = Row(("x", 9));
        var row = new ValueObject { ["payload"] = Value.From(inner), ["n"] = Value.From(1L) };
        Assert.That(Show(Shaping(("dataField", "payload")).Shape([row])), Is.EqualTo("map[x:9]"));
        Assert.That(Show(Shaping(("dataField", "n")).Shape([row])), Is.EqualTo("map[n:1]"));
    }

    [Test]
    public void Unknown_properties_and_bad_values_fail_rule_creation()
    {
        var typo = Assert.Throws<ArgumentException>(() => Shaping(("sendSingel", "true")))!;
        Assert.That(typo.Message, Does.StartWith("unknown property `sendSingel` for sink `nop`; did you mean `sendSingle`?"));
        Assert.Throws<ArgumentException>(() => Shaping(("omitIfEmpty", "sometimes")));
        Assert.Throws<ArgumentException>(() => Shaping(("fields", "[1, 2]")));
    }

    [Test]
    public void Properties_not_applied_yet_are_warned_about()
    {
        var warnings = new List<string>();
        SinkShaping.Create(new RuleAction("nop", new Dictionary<string, string> { ["batchSize"] = "10" }), [], warnings);
        Assert.That(warnings, Is.EqualTo(new[] { "sink property `batchSize` of `nop` is accepted but not applied yet" }));
    }

    [Test]
    public async Task The_engine_applies_them_and_reports_warnings_in_the_status()
    {
        await using var engine = new EdgeStreamEngine();
        engine.Execute("CREATE STREAM s () WITH (DATASOURCE=\"in\", TYPE=\"memory\")");
        var rule = RuleDefinition.FromJson("""
            {"id": "r", "sql": "SELECT a, b, c FROM s",
             "actions": [{"memory": {"topic": "out", "fields": ["c", "a"], "batchSize": 5}}], "options": {"debug": true}}
            """);
        await engine.CreateRuleAsync(rule);
        using var stop = new CancellationTokenSource();
        var output = engine.Memory.Subscribe("out", stop.Token);
        await engine.Memory.PublishAsync("in", new Dictionary<string, object?> { ["a"] = 1, ["b"] = 2, ["c"] = 3 });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var emission = await output.ReadAsync(timeout.Token);
        Assert.That(emission[0].Keys, Is.EqualTo(new[] { "c", "a" }));
        Assert.That(engine.GetRuleStatus("r").Warnings, Is.EqualTo(new[]
        {
            "rule option `debug` is accepted but not applied yet",
            "sink property `batchSize` of `memory` is accepted but not applied yet",
        }));
    }
}
