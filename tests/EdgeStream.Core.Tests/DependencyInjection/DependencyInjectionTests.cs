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
