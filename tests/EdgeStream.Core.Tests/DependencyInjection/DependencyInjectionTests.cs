using EdgeStream.TestExtensions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Tests.DependencyInjection;

public sealed class DependencyInjectionTests
{
    [Test]
    public async Task A_sink_from_another_assembly_registered_through_di_receives_results()
    {
        var services = new ServiceCollection();
        services.AddSingleton<CollectedRows>();
        services.AddLogging();
        services.AddEdgeStream().AddSink<CollectingSink>("collect", ["label"]);
        await using var provider = services.BuildServiceProvider();

        var engine = provider.GetRequiredService<EdgeStreamEngine>();
        Assert.That(provider.GetRequiredService<EdgeStreamEngine>(), Is.SameAs(engine), "one engine per container");
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (DATASOURCE=\"in\", TYPE=\"memory\")");
        var rule = RuleDefinition.FromJson("""{"id": "r", "sql": "SELECT a FROM s WHERE a > 1", "actions": [{"collect": {"label": "L"}}]}""");
        await engine.CreateRuleAsync(rule);
        foreach (var a in new[] { 1, 2, 3 })
        {
            await engine.PublishAsync("s", new Dictionary<string, object?> { ["a"] = a });
        }

        await engine.StopRuleAsync("r");
        var collected = provider.GetRequiredService<CollectedRows>().Rows.ToList();
        Assert.That(collected.Select(c => (c.Label, c.Row["a"])), Is.EqualTo(new[] { ("L", (object?)2L), ("L", 3L) }));
    }

    [Test]
    public async Task Container_services_and_options_reach_the_engine()
    {
        var services = new ServiceCollection();
        services.AddSingleton<CollectedRows>();
        var logs = new Support.ListLoggerFactory();
        services.AddSingleton<ILoggerFactory>(logs);
        services.AddEdgeStream(o => o.TimeProvider = TimeProvider.System);
        services.AddEdgeStream().AddSink<CollectingSink>("collect"); // a second call extends the same engine
        await using var provider = services.BuildServiceProvider();
        var engine = provider.GetRequiredService<EdgeStreamEngine>();

        engine.Execute("CREATE STREAM s (a BIGINT) WITH (DATASOURCE=\"in\", TYPE=\"memory\")");
        var missingLabel = new RuleDefinition("bad", "SELECT a FROM s");
        missingLabel.Actions.Add(new RuleAction("collect"));
        var error = Assert.ThrowsAsync<ArgumentException>(() => engine.CreateRuleAsync(missingLabel))!;
        Assert.That(error.Message, Does.StartWith("the collect sink needs a `label`"), "a bad property fails rule creation");

        await engine.CreateRuleAsync(new RuleDefinition("ok", "SELECT a FROM s"));
        Assert.That(logs.Entries.Select(e => e.Message), Does.Contain("Rule ok started"), "the container's logger factory is used");
    }
}

public sealed class TypedSinkOptionsTests
{
    private static async Task<(ServiceProvider Provider, EdgeStreamEngine Engine)> Setup()
    {
        var services = new ServiceCollection();
        services.AddSingleton<CollectedRows>();
        services.AddEdgeStream().AddSink<OptionsSink, OptionsSinkOptions>("opt");
        var provider = services.BuildServiceProvider();
        var engine = provider.GetRequiredService<EdgeStreamEngine>();
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (DATASOURCE=\"in\", TYPE=\"memory\")");
        await Task.CompletedTask;
        return (provider, engine);
    }

    private static RuleDefinition Rule(string properties) =>
        RuleDefinition.FromJson("""{"id": "r", "sql": "SELECT a FROM s", "actions": [{"opt": {""" + properties + "}}]}");

    [Test]
    public async Task Properties_bind_to_the_options_class_by_name_and_type()
    {
        var (provider, engine) = await Setup();
        await using (provider)
        {
            await engine.CreateRuleAsync(Rule("""
                "url": "https://example.test/in", "Retries": 5, "tokenTtl": "2s", "mode": "batched", "labels": ["x", "y"]
                """));
            await engine.PublishAsync("s", new Dictionary<string, object?> { ["a"] = 1 });
            await engine.StopRuleAsync("r");

            var (label, row) = provider.GetRequiredService<CollectedRows>().Rows.Single();
            Assert.That(label, Is.EqualTo("https://example.test/in|5|2000|Batched|x+y"));
            Assert.That(row["a"], Is.EqualTo(1L));
        }
    }

    [TestCase("\"retries\": 1", "sink `opt` needs the property `url`")]
    [TestCase("\"url\": \"u\", \"retries\": \"many\"", "sink `opt`: property `retries` must be an integer, not `many`")]
    [TestCase("\"url\": \"u\", \"mode\": \"sometimes\"", "sink `opt`: property `mode` must be one of OneByOne, Batched, not `sometimes`")]
    [TestCase("\"url\": \"u\", \"tokenTtl\": \"soon\"", "sink `opt`: property `tokenTtl` must be a duration (milliseconds, or 500ms, 5s, 2m, 1h), not (hidden)")]
    [TestCase("\"url\": \"u\", \"retires\": 2", "unknown property `retries`")]
    public async Task Missing_invalid_and_misspelt_properties_fail_rule_creation(string properties, string message)
    {
        var (provider, engine) = await Setup();
        await using (provider)
        {
            var error = Assert.ThrowsAsync<ArgumentException>(() => engine.CreateRuleAsync(Rule(properties)))!;
            if (message.StartsWith("unknown", StringComparison.Ordinal))
            {
                Assert.That(error.Message, Does.StartWith("unknown property `retires` for sink `opt`; did you mean `retries`?"));
            }
            else
            {
                Assert.That(error.Message, Does.StartWith(message));
            }

            Assert.That(engine.RuleIds, Is.Empty);
        }
    }
}
