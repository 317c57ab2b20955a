using System.Collections.Concurrent;

namespace EdgeStream.Tests.Runtime;

/// <summary>Rule options that change how a rule runs: restartStrategy, concurrency, bufferFullPolicy, and the per-operator metrics.</summary>
public sealed class RuleOptionsTests
{
    private static async Task<(EdgeStreamEngine Engine, Support.ListLoggerFactory Logs)> FailingLogRule(int failures, int attempts)
    {
        var logs = new Support.ListLoggerFactory { FailOn = "result", Failures = failures };
        var engine = new EdgeStreamEngine(new EdgeStreamEngineOptions { LoggerFactory = logs });
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (DATASOURCE=\"in\", TYPE=\"memory\")");
        var strategy = $$"""{"attempts": {{attempts}}, "delay": 10, "multiplier": 1.5, "jitterFactor": 0}""";
        await engine.CreateRuleAsync(RuleDefinition.FromJson(
            """{"id": "r", "sql": "SELECT a FROM s", "actions": [{"log": {}}], "options": {"restartStrategy": """ + strategy + "}}"));
        return (engine, logs);
    }

    [Test]
    public async Task A_rule_that_fails_entirely_restarts_per_its_strategy()
    {
        var (engine, logs) = await FailingLogRule(failures: 2, attempts: 2);
        await using (engine)
        {
            for (var a = 1; a <= 2; a++)
            {
                var restarts = a;
                await engine.Memory.PublishAsync("in", new Dictionary<string, object?> { ["a"] = a });
                await Support.Wait.Until(() => logs.Entries.Count(e => e.Message.StartsWith("Rule r restarts in", StringComparison.Ordinal)) == restarts, "the broken logger fails the rule");
                await Support.Wait.Until(() => engine.GetRuleStatus("r").State == RuleState.Running, "and it is restarted");
            }

            await engine.Memory.PublishAsync("in", new Dictionary<string, object?> { ["a"] = 3 });
            await engine.StopRuleAsync("r");
            Assert.That(logs.Entries.Select(e => e.Message), Does.Contain("Rule r result: [{\"a\":3}]"));
            Assert.That(logs.Entries.Count(e => e.Message.StartsWith("Rule r restarts in", StringComparison.Ordinal)), Is.EqualTo(2));
            Assert.That(logs.Entries.Select(e => e.Message), Does.Contain("Rule r restarts in 15 ms (attempt 2 of 2)"), "the delay grows by the multiplier");
        }
    }

    [Test]
    public async Task A_rule_stays_stopped_by_error_when_its_attempts_are_spent()
    {
        var (engine, logs) = await FailingLogRule(failures: 5, attempts: 1);
        await using (engine)
        {
            await engine.Memory.PublishAsync("in", new Dictionary<string, object?> { ["a"] = 1 });
            await Support.Wait.Until(() => logs.Entries.Any(e => e.Message.StartsWith("Rule r restarts in", StringComparison.Ordinal)), "fails");
            await Support.Wait.Until(() => engine.GetRuleStatus("r").State == RuleState.Running, "restarted once");
            Assert.That(engine.GetRuleStatus("r").Errors, Is.Zero, "counters start afresh");
            await engine.Memory.PublishAsync("in", new Dictionary<string, object?> { ["a"] = 2 });
            await Support.Wait.Until(() => engine.GetRuleStatus("r").State == RuleState.StoppedByError, "fails again");
            await Task.Delay(100);
            var status = engine.GetRuleStatus("r");
            Assert.That(status.State, Is.EqualTo(RuleState.StoppedByError), "no attempts left");
            Assert.That(status.LastError, Is.EqualTo("logging provider failed"));

            await engine.StartRuleAsync("r"); // a caller's start is always allowed
            Assert.That(engine.GetRuleStatus("r").State, Is.EqualTo(RuleState.Running));
        }
    }

    [Test]
    public async Task Concurrent_tasks_process_every_event_once()
    {
        await using var engine = new EdgeStreamEngine();
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (DATASOURCE=\"in\", TYPE=\"memory\")");
        var rule = RuleDefinition.FromJson("""
            {"id": "r", "sql": "SELECT a * 2 AS b FROM s WHERE a % 3 != 0", "actions": [{"memory": {"topic": "out"}}], "options": {"concurrency": 4}}
            """);
        var seen = new ConcurrentBag<long>();
        using var subscription = engine.Memory.Subscribe("out", (rows, _) =>
        {
            seen.Add((long)rows[0]["b"]!);
            return ValueTask.CompletedTask;
        });
        await engine.CreateRuleAsync(rule);
        for (var a = 0; a < 3000; a++)
        {
            await engine.Memory.PublishAsync("in", new Dictionary<string, object?> { ["a"] = a });
        }

        await engine.StopRuleAsync("r");
        Assert.That(seen.Order(), Is.EqualTo(Enumerable.Range(0, 3000).Where(a => a % 3 != 0).Select(a => a * 2L)));
        var metrics = engine.GetRuleStatus("r").Metrics;
        Assert.That((metrics["op_2_filter_0_records_in_total"], metrics["op_2_filter_0_records_out_total"], metrics["op_3_project_0_records_out_total"]), Is.EqualTo((3000L, 2000L, 2000L)));
    }

    [Test]
    public async Task Drop_oldest_drops_and_counts_when_the_buffer_is_full_and_block_never_drops()
    {
        foreach (var dropOldest in new[] { true, false })
        {
            await using var engine = new EdgeStreamEngine();
            engine.Execute("CREATE STREAM s (a BIGINT) WITH (DATASOURCE=\"in\", TYPE=\"memory\")");
            var rule = new RuleDefinition("r", "SELECT a FROM s");
            rule.Actions.Add(new RuleAction("memory", new Dictionary<string, string> { ["topic"] = "out" }));
            rule.Options.BufferLength = 1;
            rule.Options.DropOldestWhenFull = dropOldest;
            var release = new TaskCompletionSource();
            var received = new ConcurrentQueue<long>();
            using var subscription = engine.Memory.Subscribe("out", async (rows, _) =>
            {
                received.Enqueue((long)rows[0]["a"]!);
                await release.Task;
            });
            await engine.CreateRuleAsync(rule);
            await engine.Memory.PublishAsync("in", new Dictionary<string, object?> { ["a"] = 0 });
            await Support.Wait.Until(() => !received.IsEmpty, "the first event reaches the stalled subscriber");

            var publishing = Task.Run(async () =>
            {
                for (var a = 1; a <= 9; a++)
                {
                    await engine.Memory.PublishAsync("in", new Dictionary<string, object?> { ["a"] = a });
                }
            });
            if (dropOldest)
            {
                await publishing.WaitAsync(TimeSpan.FromSeconds(10));
            }
            else
            {
                await Task.Delay(200);
                Assert.That(publishing.IsCompleted, Is.False, "with block, the publisher waits for the stalled rule");
            }

            release.SetResult();
            await publishing.WaitAsync(TimeSpan.FromSeconds(10));
            await engine.StopRuleAsync("r");
            var dropped = engine.GetRuleStatus("r").Metrics["source_s_0_dropped_total"];
            if (dropOldest)
            {
                Assert.That((received.ToArray(), dropped), Is.EqualTo((new long[] { 0, 9 }, 8L)), "only the newest waited; eight drops counted");
            }
            else
            {
                Assert.That((received.ToArray(), dropped), Is.EqualTo((Enumerable.Range(0, 10).Select(i => (long)i).ToArray(), 0L)));
            }
        }
    }

    [Test]
    public async Task Status_metrics_count_per_logical_operator_with_ekuiper_names()
    {
        await using var engine = new EdgeStreamEngine();
        engine.Execute("CREATE STREAM demo (a BIGINT, s STRING) WITH (DATASOURCE=\"in\", TYPE=\"memory\")");
        var rule = new RuleDefinition("r", "SELECT a, 10 / a AS q FROM demo WHERE s = 'x'");
        rule.Actions.Add(new RuleAction("nop"));
        rule.Actions.Add(new RuleAction("memory", new Dictionary<string, string> { ["topic"] = "out", ["sendSingle"] = "true" }));
        await engine.CreateRuleAsync(rule);
        await engine.Memory.PublishJsonAsync("in", """{"a": 1, "s": "x"}"""u8.ToArray());
        await engine.Memory.PublishJsonAsync("in", """{"a": 2, "s": "y"}"""u8.ToArray());
        await engine.Memory.PublishJsonAsync("in", """{"a": 0, "s": "x"}"""u8.ToArray());
        await engine.Memory.PublishJsonAsync("in", """{"a": """u8.ToArray());
        await engine.Memory.PublishJsonAsync("in", """{"a": 5, "s": "x"}"""u8.ToArray());
        await engine.StopRuleAsync("r");

        var metrics = engine.GetRuleStatus("r").Metrics;
        Assert.That(metrics.Where(m => !m.Key.EndsWith("latency_us", StringComparison.Ordinal)), Is.EquivalentTo(new Dictionary<string, long>
        {
            ["source_demo_0_records_in_total"] = 5, ["source_demo_0_records_out_total"] = 4, ["source_demo_0_exceptions_total"] = 1,
            ["source_demo_0_dropped_total"] = 0,
            ["op_2_filter_0_records_in_total"] = 4, ["op_2_filter_0_records_out_total"] = 3, ["op_2_filter_0_exceptions_total"] = 0,
            ["op_3_project_0_records_in_total"] = 3, ["op_3_project_0_records_out_total"] = 2, ["op_3_project_0_exceptions_total"] = 1,
            ["sink_nop_0_0_records_in_total"] = 2, ["sink_nop_0_0_records_out_total"] = 2, ["sink_nop_0_0_exceptions_total"] = 0,
            ["sink_memory_1_0_records_in_total"] = 2, ["sink_memory_1_0_records_out_total"] = 2, ["sink_memory_1_0_exceptions_total"] = 0,
        }));
        Assert.That(metrics.Keys, Does.Contain("op_3_project_0_process_latency_us"));
    }

    [TestCase("""{"concurrency": 0}""", "option `concurrency` must be an integer from 1 to 1024")]
    [TestCase("""{"bufferFullPolicy": "drop"}""", "option `bufferFullPolicy` must be \"block\" or \"dropOldest\"")]
    [TestCase("""{"restartStrategy": {"atempts": 1}}""", "unknown restartStrategy field `atempts`; did you mean `attempts`?")]
    [TestCase("""{"restartStrategy": {"delay": -1}}""", "`restartStrategy.delay` must be a number of at least 0")]
    public void Invalid_options_are_rejected_with_a_clear_message(string options, string message)
    {
        Assert.That(() => RuleDefinition.FromJson("""{"id": "r", "sql": "SELECT 1 FROM s", "options": """ + options + "}"),
            Throws.TypeOf<FormatException>().With.Message.Contains(message));
    }
}

public sealed class BatchTests
{
    [Test]
    public async Task A_batch_weighs_its_rows_in_the_rule_buffer_and_arrives_in_order()
    {
        await using var engine = new EdgeStreamEngine();
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (DATASOURCE=\"in\", TYPE=\"memory\")");
        var rule = new RuleDefinition("r", "SELECT a FROM s WHERE a >= 0");
        rule.Actions.Add(new RuleAction("memory", new Dictionary<string, string> { ["topic"] = "out" }));
        rule.Options.BufferLength = 4;
        var release = new TaskCompletionSource();
        var received = new ConcurrentQueue<long>();
        using var subscription = engine.Memory.Subscribe("out", async (rows, _) =>
        {
            received.Enqueue((long)rows[0]["a"]!);
            await release.Task;
        });
        await engine.CreateRuleAsync(rule);
        await engine.PublishAsync("s", new Dictionary<string, object?> { ["a"] = 0 }); // taken; its row credit is held while the sink stalls

        var batch = engine.PublishBatchAsync("s", Enumerable.Range(1, 10).Select(a => (IReadOnlyDictionary<string, object?>)new Dictionary<string, object?> { ["a"] = a })).AsTask();
        await Task.Delay(200);
        Assert.That(batch.IsCompleted, Is.False, "10 rows do not fit beside the one in flight in a 4-row buffer (a message-counted buffer would take them)");

        release.SetResult();
        await batch.WaitAsync(TimeSpan.FromSeconds(10));
        await engine.PublishBatchAsync("s", []);
        await engine.StopRuleAsync("r");
        Assert.That(received, Is.EqualTo(Enumerable.Range(0, 11).Select(a => (long)a)));
        Assert.That(engine.GetRuleStatus("r").Metrics["op_2_filter_0_records_in_total"], Is.EqualTo(11));
    }
}
