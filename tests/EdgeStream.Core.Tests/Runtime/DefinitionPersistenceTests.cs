using EdgeStream.State;

namespace EdgeStream.Tests.Runtime;

/// <summary>
/// With <see cref="EdgeStreamEngineOptions.PersistDefinitions"/>, streams, tables and rules are kept in the state
/// store and a new engine gets them back with <see cref="EdgeStreamEngine.RestoreDefinitionsAsync"/>: rules that ran
/// run again, stopped ones stay stopped, deleted and dropped ones stay gone.
/// </summary>
public sealed class DefinitionPersistenceTests
{
    private static EdgeStreamEngine Engine(IStateStore store, bool persist = true) =>
        new(new EdgeStreamEngineOptions { StateStore = store, PersistDefinitions = persist });

    private static RuleDefinition Rule(string id, string sql, string topic, bool triggered = true)
    {
        var rule = new RuleDefinition(id, sql) { Triggered = triggered };
        rule.Actions.Add(new RuleAction("memory", new Dictionary<string, string> { ["topic"] = topic }));
        return rule;
    }

    [Test]
    public void A_rule_written_as_json_reads_back_the_same()
    {
        var rule = Rule("r", "SELECT a FROM s", "out");
        rule.Actions.Add(new RuleAction("nop", new Dictionary<string, string> { ["batchSize"] = "5", ["note"] = "a \"quoted\" \u00e9" }));
        var o = rule.Options;
        (o.SendError, o.SendNilField, o.SendMetaToSink, o.BufferLength, o.Concurrency, o.DropOldestWhenFull) = (true, true, true, 16, 3, true);
        (o.IsEventTime, o.LateTolerance, o.WatermarkIdleTimeout, o.Qos, o.CheckpointInterval) = (true, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(2), 2, TimeSpan.FromSeconds(7));
        (o.RestartStrategy.Attempts, o.RestartStrategy.Delay, o.RestartStrategy.Multiplier, o.RestartStrategy.MaxDelay, o.RestartStrategy.JitterFactor) =
            (4, TimeSpan.FromMilliseconds(1500), 1.5, TimeSpan.FromSeconds(9), 0.25);

        var json = RuleJson.Write(rule, triggered: false);
        var back = RuleDefinition.FromJson(json);
        Assert.Multiple(() =>
        {
            Assert.That(RuleJson.Write(back, triggered: false), Is.EqualTo(json));
            Assert.That((back.Id, back.Sql, back.Triggered), Is.EqualTo(("r", "SELECT a FROM s", false)));
            Assert.That(back.Actions.Select(a => a.SinkType), Is.EqualTo(new[] { "memory", "nop" }));
            Assert.That(back.Actions[1].Properties["note"], Is.EqualTo("a \"quoted\" \u00e9"));
            Assert.That((back.Options.Qos, back.Options.CheckpointInterval, back.Options.WatermarkIdleTimeout), Is.EqualTo((2, TimeSpan.FromSeconds(7), (TimeSpan?)TimeSpan.FromSeconds(2))));
            Assert.That((back.Options.RestartStrategy.Attempts, back.Options.RestartStrategy.Multiplier), Is.EqualTo((4, 1.5)));
            Assert.That((back.Options.DropOldestWhenFull, back.Options.Concurrency, back.Options.LateTolerance), Is.EqualTo((true, 3, TimeSpan.FromMilliseconds(250))));
            Assert.That(back.UnsupportedOptions, Is.Empty);
        });
    }

    [Test]
    public async Task A_new_engine_gets_back_streams_and_rules_running_as_they_were()
    {
        var store = new InMemoryStateStore();
        await using (var first = Engine(store))
        {
            first.Execute("CREATE STREAM s (a BIGINT) WITH (DATASOURCE=\"s\", TYPE=\"memory\")");
            first.Execute("CREATE STREAM gone (a BIGINT) WITH (DATASOURCE=\"gone\", TYPE=\"memory\")");
            first.Execute("CREATE TABLE t (k BIGINT, name STRING) WITH (DATASOURCE=\"t\", TYPE=\"memory\", KEY=\"k\")");
            await first.CreateRuleAsync(Rule("running", "SELECT a * 10 AS x FROM s", "out1"));
            await first.CreateRuleAsync(Rule("never", "SELECT a FROM s", "out2", triggered: false));
            await first.CreateRuleAsync(Rule("stopped", "SELECT a FROM s", "out3"));
            await first.StopRuleAsync("stopped");
            await first.CreateRuleAsync(Rule("started", "SELECT a FROM s", "out4", triggered: false));
            await first.StartRuleAsync("started");
            await first.CreateRuleAsync(Rule("deleted", "SELECT a FROM s", "out5"));
            await first.DeleteRuleAsync("deleted");
            first.Execute("DROP STREAM gone");
        }

        Assert.That(await store.KeysAsync(""), Is.EqualTo(new[] { "rule/never", "rule/running", "rule/started", "rule/stopped", "stream/s", "stream/t" }));
        await using var second = Engine(store);
        Assert.That(await second.RestoreDefinitionsAsync(), Is.EqualTo(4));
        Assert.That(second.RuleIds, Is.EquivalentTo(new[] { "running", "never", "stopped", "started" }));
        Assert.Multiple(() =>
        {
            Assert.That(second.GetRuleStatus("running").State, Is.EqualTo(RuleState.Running));
            Assert.That(second.GetRuleStatus("started").State, Is.EqualTo(RuleState.Running));
            Assert.That(second.GetRuleStatus("never").State, Is.EqualTo(RuleState.Stopped));
            Assert.That(second.GetRuleStatus("stopped").State, Is.EqualTo(RuleState.Stopped));
        });
        Assert.That(() => second.Execute("DROP TABLE t"), Throws.Nothing, "the table came back");
        Assert.That(() => second.Execute("DROP STREAM gone"), Throws.TypeOf<SqlException>(), "the dropped stream stays dropped");

        using var stop = new CancellationTokenSource();
        var output = second.Memory.Subscribe("out1", stop.Token);
        await second.PublishAsync("s", new Dictionary<string, object?> { ["a"] = 4L });
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var emission = await output.ReadAsync(wait.Token);
        Assert.That(emission[0]["x"], Is.EqualTo(40L));

        Assert.That(await second.RestoreDefinitionsAsync(), Is.Zero, "what the engine has is left as it is");
    }

    [Test]
    public async Task A_rule_that_cannot_be_restored_is_named_and_the_others_are_restored()
    {
        var store = new InMemoryStateStore();
        await using (var first = Engine(store))
        {
            first.RegisterSink("custom", _ => new DiscardingSink());
            first.Execute("CREATE STREAM s (a BIGINT) WITH (DATASOURCE=\"s\", TYPE=\"memory\")");
            var custom = new RuleDefinition("needs-custom", "SELECT a FROM s") { Triggered = false };
            custom.Actions.Add(new RuleAction("custom"));
            await first.CreateRuleAsync(custom);
            await first.CreateRuleAsync(Rule("fine", "SELECT a FROM s", "out"));
        }

        await using var second = Engine(store); // "custom" is not registered here
        var error = Assert.ThrowsAsync<AggregateException>(() => second.RestoreDefinitionsAsync());
        Assert.That(error!.InnerExceptions.Select(e => e.Message), Has.One.StartsWith("rule `needs-custom` cannot be restored:"));
        Assert.That(second.RuleIds, Is.EqualTo(new[] { "fine" }));
        Assert.That(second.GetRuleStatus("fine").State, Is.EqualTo(RuleState.Running));
    }

    [Test]
    public async Task Without_persist_definitions_nothing_is_kept_and_restoring_says_why()
    {
        var store = new InMemoryStateStore();
        await using var engine = Engine(store, persist: false);
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (DATASOURCE=\"s\", TYPE=\"memory\")");
        await engine.CreateRuleAsync(Rule("r", "SELECT a FROM s", "out"));
        Assert.That(await store.KeysAsync(""), Is.Empty);
        Assert.That(() => engine.RestoreDefinitionsAsync(), Throws.InvalidOperationException.With.Message.Contains("PersistDefinitions"));
    }

    private sealed class DiscardingSink : ISink
    {
        public ValueTask OpenAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask WriteAsync(IReadOnlyList<IReadOnlyDictionary<string, object?>> batch, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
