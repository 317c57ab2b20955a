namespace EdgeStream.Tests.Runtime;

public sealed class RuleLifecycleTests
{
    [Test]
    public async Task Updating_a_running_rule_swaps_its_sql_and_keeps_it_running()
    {
        await using var engine = new EdgeStreamEngine();
        engine.Execute("CREATE STREAM s () WITH (DATASOURCE=\"in\", TYPE=\"memory\")");
        var rule = new RuleDefinition("r", "SELECT a FROM s");
        rule.Actions.Add(new RuleAction("memory", new Dictionary<string, string> { ["topic"] = "out" }));
        await engine.CreateRuleAsync(rule);
        using var stop = new CancellationTokenSource();
        var output = engine.Memory.Subscribe("out", stop.Token);

        await engine.Memory.PublishAsync("in", new Dictionary<string, object?> { ["a"] = 1 });
        var updated = new RuleDefinition("r", "SELECT a * 10 AS b FROM s") { Triggered = false };
        updated.Actions.Add(new RuleAction("memory", new Dictionary<string, string> { ["topic"] = "out" }));
        await engine.UpdateRuleAsync(updated);
        await engine.Memory.PublishAsync("in", new Dictionary<string, object?> { ["a"] = 2 });

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var first = await output.ReadAsync(timeout.Token);
        var second = await output.ReadAsync(timeout.Token);
        Assert.That(first[0]["a"], Is.EqualTo(1L), "the old version finished what it took");
        Assert.That(second[0]["b"], Is.EqualTo(20L), "the new version runs because the old one was running");
        Assert.That(engine.GetRuleStatus("r").State, Is.EqualTo(RuleState.Running));
    }

    [Test]
    public async Task An_invalid_update_leaves_the_old_rule_running()
    {
        await using var engine = new EdgeStreamEngine();
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (DATASOURCE=\"in\", TYPE=\"memory\")");
        await engine.CreateRuleAsync(new RuleDefinition("r", "SELECT a FROM s"));
        Assert.ThrowsAsync<SqlException>(() => engine.UpdateRuleAsync(new RuleDefinition("r", "SELECT nope FROM s")));
        Assert.That(engine.GetRuleStatus("r").State, Is.EqualTo(RuleState.Running));
        Assert.ThrowsAsync<KeyNotFoundException>(() => engine.UpdateRuleAsync(new RuleDefinition("other", "SELECT a FROM s")));
    }

    /// <summary>
    /// eKuiper users report memory growth on rule updates; here 5,000 rules are created, updated, stopped, started and
    /// deleted, and memory, timers and memory-bus subscriptions must come back to where they started.
    /// </summary>
    [Test]
    [NonParallelizable] // Timer.ActiveCount is the process's: another test's timers must not count here
    public async Task Five_thousand_rule_lifecycles_leak_nothing()
    {
        await using var engine = new EdgeStreamEngine();
        engine.Execute("CREATE STREAM s (a BIGINT, b STRING) WITH (DATASOURCE=\"in\", TYPE=\"memory\")");
        engine.Execute("CREATE STREAM shared (a BIGINT) WITH (DATASOURCE=\"in\", TYPE=\"memory\", SHARED=\"true\")");
        engine.RegisterSink("batched", _ => new DiscardingSink());

        async Task Cycle(int i)
        {
            var id = "rule-" + i;
            var rule = new RuleDefinition(id, $"SELECT a, b FROM s WHERE a > {i}");
            rule.Actions.Add(new RuleAction("nop"));
            await engine.CreateRuleAsync(rule);
            var updated = new RuleDefinition(id, $"SELECT a + {i} AS c FROM s WHERE a > {i}");
            updated.Actions.Add(new RuleAction("memory", new Dictionary<string, string> { ["topic"] = "t" + i }));
            await engine.UpdateRuleAsync(updated);
            await engine.Memory.PublishAsync("in", new Dictionary<string, object?> { ["a"] = i + 1, ["b"] = "x" });
            await engine.StopRuleAsync(id);
            await engine.StartRuleAsync(id);

            // A second rule on a shared stream (a source runner) with a batching user sink (a sink runner, a linger timer).
            var other = new RuleDefinition(id + "-shared", "SELECT a FROM shared") { Triggered = true };
            other.Actions.Add(new RuleAction("batched", new Dictionary<string, string> { ["batchSize"] = "10", ["lingerInterval"] = "1" }));
            other.Options.Concurrency = 2;
            await engine.CreateRuleAsync(other);
            await engine.Memory.PublishAsync("in", new Dictionary<string, object?> { ["a"] = i, ["b"] = "y" });
            await engine.DeleteRuleAsync(other.Id);
            await engine.DeleteRuleAsync(id);
        }

        for (var i = 0; i < 200; i++)
        {
            await Cycle(i); // warm up: JIT, pools, caches
        }

        var memoryBefore = Settle();
        var timersBefore = Timer.ActiveCount;
        var tasksBefore = EdgeStream.Runtime.EngineTasks.Live;
        for (var i = 200; i < 5_200; i++)
        {
            await Cycle(i);
        }

        var memoryAfter = Settle();
        TestContext.Out.WriteLine($"managed memory before {memoryBefore:N0} B, after 5,000 lifecycles {memoryAfter:N0} B");
        Assert.Multiple(() =>
        {
            Assert.That(engine.RuleIds, Is.Empty);
            Assert.That(memoryAfter - memoryBefore, Is.LessThan(2_000_000), "managed memory grew by more than 2 MB");
            Assert.That(Timer.ActiveCount, Is.LessThanOrEqualTo(timersBefore));
            Assert.That(engine.Memory.TopicCount, Is.Zero, "memory-bus subscriptions left behind");
            Assert.That(EdgeStream.Runtime.EngineTasks.Live, Is.LessThanOrEqualTo(tasksBefore), "rule, sink or source tasks left running");
        });
    }

    private sealed class DiscardingSink : ISink
    {
        public ValueTask OpenAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask WriteAsync(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Test]
    public async Task Memory_per_idle_rule_is_small()
    {
        await using var engine = new EdgeStreamEngine();
        engine.Execute("CREATE STREAM s (a BIGINT, b STRING) WITH (DATASOURCE=\"in\", TYPE=\"memory\")");
        await engine.CreateRuleAsync(new RuleDefinition("warm", "SELECT a FROM s"));
        var before = Settle();
        for (var i = 0; i < 2_000; i++)
        {
            var rule = new RuleDefinition("r" + i, $"SELECT a, b FROM s WHERE a > {i}");
            rule.Actions.Add(new RuleAction("nop"));
            await engine.CreateRuleAsync(rule);
        }

        var perRule = (Settle() - before) / 2_000;
        TestContext.Out.WriteLine($"managed memory per running rule: {perRule:N0} B");

        // eKuiper reports 400-500 KB per rule; a running stateless rule here must stay far below.
        Assert.That(perRule, Is.LessThan(100_000));
    }

    private static long Settle()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
