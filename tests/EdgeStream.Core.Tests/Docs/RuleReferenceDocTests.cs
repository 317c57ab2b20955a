using System.Text.Json;
using EdgeStream.Sinks.Mqtt;

namespace EdgeStream.Core.Tests.Docs;

/// <summary>
/// <c>docs/rules.md</c> against the rule reader: the top-level keys, the options and the restart strategy's fields
/// are exactly those it takes, the options it accepts without applying are the ones the page says, and every rule
/// example is read and validated.
/// </summary>
public sealed class RuleReferenceDocTests
{
    private static readonly MarkdownDoc Page = MarkdownDoc.Load("rules.md");

    [Test]
    public void The_key_table_lists_exactly_the_top_level_keys_the_reader_takes() =>
        Assert.That(Page.Section("## Top-level keys").Names(), Is.EquivalentTo(RuleJson.TopLevel));

    [Test]
    public void The_option_table_lists_exactly_the_options_the_reader_takes() =>
        Assert.That(Page.Section("## Options").Rows().Select(r => r.Name)
            .Except(Page.Section("### `restartStrategy`").Names()), Is.EquivalentTo(RuleJson.KnownOptions));

    [Test]
    public void The_options_documented_as_not_applied_are_exactly_those_the_reader_does_not_apply()
    {
        var restart = Page.Section("### `restartStrategy`").Names();
        var options = Page.Section("## Options").Rows().Where(r => !restart.Contains(r.Name)).ToList();
        var documented = options.Where(r => r.Cells[1].StartsWith("Accepted, not applied yet", StringComparison.Ordinal)).Select(r => r.Name).ToList();
        Assert.That(documented, Is.Not.Empty);

        // An option the reader applies reads its value and refuses "x"; one it does not goes to UnsupportedOptions.
        var notApplied = new List<string>();
        foreach (var (name, _) in options)
        {
            var json = JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["id"] = "r",
                ["sql"] = "SELECT * FROM s",
                ["options"] = new Dictionary<string, string> { [name] = "x" },
            });
            try
            {
                var rule = RuleDefinition.FromJson(json);
                Assert.That(rule.UnsupportedOptions, Is.EqualTo(new[] { name }), $"`{name}` took \"x\" without reporting it");
                notApplied.Add(name);
            }
            catch (FormatException e)
            {
                Assert.That(e.Message, Does.Contain(name), "the refusal names the option");
            }
        }

        Assert.That(documented, Is.EquivalentTo(notApplied));
    }

    [Test]
    public void The_restart_strategy_table_lists_exactly_its_fields_with_the_defaults_in_effect()
    {
        var rows = Page.Section("### `restartStrategy`").Rows();
        Assert.That(rows.Select(r => r.Name), Is.EquivalentTo(RuleJson.RestartOptions));
        var defaults = JsonDocument.Parse(RuleJson.Write(new RuleDefinition("r", "SELECT * FROM s"), triggered: true))
            .RootElement.GetProperty("options").GetProperty("restartStrategy");
        foreach (var (name, cells) in rows)
        {
            Assert.That(cells[0], Is.EqualTo($"`{defaults.GetProperty(name).GetDouble().ToString(System.Globalization.CultureInfo.InvariantCulture)}`"), name);
        }
    }

    [Test]
    public async Task Every_rule_example_is_read_and_validated()
    {
        await using var engine = new EdgeStreamEngine();
        engine.RegisterMqttSink();
        engine.Execute("CREATE STREAM demo (deviceId STRING, temperature FLOAT, ts BIGINT) WITH (DATASOURCE=\"demo\", TYPE=\"memory\", TIMESTAMP=\"ts\")");
        var rules = Page.CodeBlocks("json").Where(b => JsonDocument.Parse(b).RootElement.TryGetProperty("id", out _)).ToList();
        Assert.That(rules, Has.Count.GreaterThanOrEqualTo(3));
        foreach (var json in rules)
        {
            var rule = RuleDefinition.FromJson(json);
            Assert.That(rule.UnsupportedOptions, Is.Empty, json);
            Assert.DoesNotThrow(() => engine.ValidateRule(rule), json);
        }
    }

    [Test]
    public void The_configuration_example_holds_valid_rules()
    {
        var config = Page.CodeBlocks("json").Select(b => JsonDocument.Parse(b).RootElement).Single(b => b.TryGetProperty("EdgeStream", out _));
        foreach (var rule in config.GetProperty("EdgeStream").GetProperty("Rules").EnumerateArray())
        {
            Assert.DoesNotThrow(() => RuleDefinition.FromJson(rule.GetRawText()));
        }
    }
}
