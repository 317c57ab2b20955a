using EdgeStream.Mqtt;
using EdgeStream.Runtime;
using EdgeStream.Sinks.Mqtt;
using EdgeStream.Sinks.MySql;

namespace EdgeStream.Core.Tests.Docs;

/// <summary>
/// <c>docs/connectors.md</c> against the connectors: every property table lists exactly the names the source or
/// sink accepts, the common sink properties say truly which are applied by the runner and which not at all, and the
/// page documents exactly the built-in and packaged sources and sinks.
/// </summary>
public sealed class ConnectorReferenceDocTests
{
    private static readonly MarkdownDoc Page = MarkdownDoc.Load("connectors.md");

    private static readonly string[] PackagedSources = ["mqtt"];

    private static readonly string[] PackagedSinks = ["mysql", "mqtt"];

    [Test]
    public void The_sources_and_sinks_documented_are_the_built_in_and_packaged_ones()
    {
        static IEnumerable<string> Connectors(MarkdownDoc section) =>
            section.Headings(3).Where(h => h.StartsWith('`')).Select(h => h.Trim('`'));
        Assert.Multiple(() =>
        {
            Assert.That(Connectors(Page.Section("## Sources")), Is.EquivalentTo(EdgeStreamEngine.BuiltinSources.Concat(PackagedSources)));
            Assert.That(Connectors(Page.Section("## Sinks")), Is.EquivalentTo(EdgeStreamEngine.BuiltinSinks.Concat(PackagedSinks)));
        });
    }

    [Test]
    public void The_common_property_table_is_what_every_sink_accepts_and_says_who_applies_each()
    {
        var rows = Page.Section("### Common properties").Rows();
        Assert.That(rows.Select(r => r.Name), Is.EquivalentTo(SinkShaping.CommonProperties.Union(SinkRunner.RunnerProperties)));
        foreach (var (name, cells) in rows)
        {
            var expected = SinkRunner.RunnerProperties.Contains(name) ? "registered sinks"
                : SinkShaping.NotApplied.Contains(name) ? "—"
                : "every sink";
            Assert.That(cells[^1], Is.EqualTo(expected), name);
        }
    }

    [Test]
    public void The_memory_sink_table_is_its_property_list() =>
        Assert.That(Page.Section("### `memory`", under: "## Sinks").Names(), Is.EquivalentTo(EdgeStreamEngine.MemorySinkProperties));

    [Test]
    public void The_mysql_sink_table_is_its_options_class() =>
        Assert.That(Page.Section("### `mysql`").Names(), Is.EquivalentTo(OptionsBinder<MySqlSinkOptions>.Names));

    [Test]
    public void The_mqtt_sink_table_is_its_options_class() =>
        Assert.That(Page.Section("### `mqtt`", under: "## Sinks").Names(), Is.EquivalentTo(OptionsBinder<MqttSinkOptions>.Names));

    [Test]
    public void The_mqtt_profile_table_is_the_connection_options_class() =>
        Assert.That(Page.Section("### `mqtt`", under: "## Sources").Names(), Is.EquivalentTo(OptionsBinder<MqttConnectionOptions>.Names));

    [Test]
    public async Task A_sink_property_missing_from_the_tables_fails_rule_creation_for_every_documented_sink()
    {
        // The tables are the whole list: a name in none of them is refused (the test above would then be wrong too).
        await using var engine = new EdgeStreamEngine();
        engine.RegisterMqttSink();
        engine.RegisterMySqlSink();
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (DATASOURCE=\"s\", TYPE=\"memory\")");
        foreach (var sink in EdgeStreamEngine.BuiltinSinks.Concat(PackagedSinks))
        {
            var rule = new RuleDefinition("r-" + sink, "SELECT * FROM s");
            rule.Actions.Add(new RuleAction(sink, new Dictionary<string, string> { ["notDocumented"] = "1" }));
            var error = Assert.Throws<ArgumentException>(() => engine.ValidateRule(rule), sink);
            Assert.That(error!.Message, Does.Contain("unknown property `notDocumented`"), sink);
        }
    }
}
