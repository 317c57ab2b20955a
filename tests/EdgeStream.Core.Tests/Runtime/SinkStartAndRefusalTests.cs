using System.Collections.Concurrent;

namespace EdgeStream.Tests.Runtime;

/// <summary>
/// How the sink runner treats a sink that refuses: at start (a misconfigured destination fails the rule's start; an
/// unreachable one does not), and on write (a refused batch is split so only the refused rows are dead-lettered).
/// </summary>
public sealed class SinkStartAndRefusalTests
{
    /// <summary>Opens as told by <see cref="OpenOutcomes"/> (null: opens), and refuses rows whose <c>a</c> is negative.</summary>
    private sealed class ScriptedSink(Script script) : ISink
    {
        public SinkWriteSemantics WriteSemantics => script.Semantics;

        public ValueTask OpenAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref script.Opens);
            return script.OpenOutcomes.TryDequeue(out var outcome) && outcome is not null ? throw outcome : ValueTask.CompletedTask;
        }

        public ValueTask WriteAsync(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows, CancellationToken cancellationToken)
        {
            script.Calls.Enqueue(rows.Count);
            if (rows.Any(r => (long)r["a"]! < 0))
            {
                throw new SinkException($"row refused: a must not be negative ({rows.Count} rows)", isTransient: false);
            }

            foreach (var row in rows)
            {
                script.Written.Enqueue((long)row["a"]!);
            }

            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync()
        {
            Interlocked.Increment(ref script.Disposals);
            return ValueTask.CompletedTask;
        }
    }

    private sealed class Script
    {
        public ConcurrentQueue<Exception?> OpenOutcomes { get; } = new();

        public ConcurrentQueue<long> Written { get; } = new();

        public ConcurrentQueue<int> Calls { get; } = new();

        public SinkWriteSemantics Semantics { get; init; } = SinkWriteSemantics.Transactional;

        public int Opens;
        public int Disposals;
    }

    private static EdgeStreamEngine Engine(Script script)
    {
        var engine = new EdgeStreamEngine();
        engine.RegisterSink("scripted", _ => new ScriptedSink(script));
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (DATASOURCE=\"in\", TYPE=\"memory\")");
        return engine;
    }

    private static RuleDefinition Rule(string? batchSize = null)
    {
        var rule = new RuleDefinition("r", "SELECT a FROM s");
        rule.Actions.Add(new RuleAction("scripted", batchSize is null ? [] : new Dictionary<string, string> { ["batchSize"] = batchSize, ["lingerInterval"] = "200" }));
        return rule;
    }

    [Test]
    public async Task A_sink_that_refuses_to_open_fails_the_rules_start_and_takes_nothing()
    {
        var script = new Script();
        script.OpenOutcomes.Enqueue(new SinkException("access denied for user `edge`", isTransient: false));
        await using var engine = Engine(script);

        var e = Assert.ThrowsAsync<SinkException>(() => engine.CreateRuleAsync(Rule()))!;
        Assert.That(e.Message, Is.EqualTo("sink `scripted` cannot start: access denied for user `edge`"));
        Assert.That(e.IsTransient, Is.False);

        var status = engine.GetRuleStatus("r");
        Assert.That(status.State, Is.EqualTo(RuleState.StoppedByError), "the rule is kept, stopped by error");
        Assert.That(status.LastError, Is.EqualTo(e.Message));
        Assert.That(status.LastExceptions["sink_scripted_0_0_last_exception"], Is.EqualTo(e.Message));
        Assert.That(status.Metrics, Does.ContainKey("sink_scripted_0_0_last_exception_time"));

        // Nothing subscribed: a published event finds no rule, and the sink instance was disposed.
        await engine.Memory.PublishAsync("in", new Dictionary<string, object?> { ["a"] = 1 });
        Assert.That(engine.GetRuleStatus("r").RecordsIn, Is.Zero);
        Assert.That((script.Opens, script.Disposals), Is.EqualTo((1, 2)), "one open attempt; the probe and the started instance disposed");

        // Fixed: a caller's start runs it, and the last exception is forgotten with the new start.
        await engine.StartRuleAsync("r");
        await engine.Memory.PublishAsync("in", new Dictionary<string, object?> { ["a"] = 7 });
        await engine.StopRuleAsync("r");
        Assert.That(script.Written, Is.EqualTo(new long[] { 7 }));
        Assert.That(engine.GetRuleStatus("r").LastExceptions, Is.Empty);
    }

    [Test]
    public async Task Starting_an_existing_rule_and_updating_one_fail_the_same_way()
    {
        var script = new Script();
        await using var engine = Engine(script);
        await engine.CreateRuleAsync(Rule());
        await engine.StopRuleAsync("r");

        script.OpenOutcomes.Enqueue(new SinkException("table `t` does not exist", isTransient: false));
        Assert.That(Assert.ThrowsAsync<SinkException>(() => engine.StartRuleAsync("r"))!.Message, Does.EndWith("table `t` does not exist"));
        Assert.That(engine.GetRuleStatus("r").State, Is.EqualTo(RuleState.StoppedByError));

        script.OpenOutcomes.Enqueue(new SinkException("table `t` does not exist", isTransient: false));
        Assert.ThrowsAsync<SinkException>(() => engine.UpdateRuleAsync(Rule("2")));
        Assert.That(engine.GetRuleStatus("r").State, Is.EqualTo(RuleState.StoppedByError));
    }

    [Test]
    public async Task An_unreachable_destination_lets_the_rule_start_and_a_later_refusal_is_retried_not_fatal()
    {
        // Unreachable first (transient), then misconfigured (the server came back without the table), then fixed.
        var script = new Script();
        script.OpenOutcomes.Enqueue(new IOException("connection refused"));
        script.OpenOutcomes.Enqueue(new SinkException("table `t` does not exist", isTransient: false));
        await using var engine = Engine(script);
        await engine.CreateRuleAsync(Rule());
        Assert.That(engine.GetRuleStatus("r").State, Is.EqualTo(RuleState.Running));

        await engine.Memory.PublishAsync("in", new Dictionary<string, object?> { ["a"] = 1 });
        await engine.StopRuleAsync("r");
        var status = engine.GetRuleStatus("r");
        Assert.That(script.Written, Is.EqualTo(new long[] { 1 }), "the row waited for the third open");
        Assert.That(script.Opens, Is.EqualTo(3));
        Assert.That(status.Metrics["sink_scripted_0_0_retries_total"], Is.EqualTo(2));
        Assert.That(status.LastExceptions["sink_scripted_0_0_last_exception"], Does.Contain("table `t` does not exist"));
    }

    [Test]
    public async Task A_refused_batch_is_split_so_only_the_refused_rows_are_dead_lettered_and_the_rest_keep_their_order()
    {
        var script = new Script();
        await using var engine = Engine(script);
        using var stop = new CancellationTokenSource();
        var letters = engine.Memory.Subscribe(EdgeStreamEngine.DeadLetterTopic, stop.Token);
        await engine.CreateRuleAsync(Rule("8"));
        await engine.PublishBatchAsync("s", new long[] { 1, 2, -3, 4, 5, 6, -7, 8 }.Select(a => new Dictionary<string, object?> { ["a"] = a }));
        await engine.StopRuleAsync("r");

        Assert.That(script.Written, Is.EqualTo(new long[] { 1, 2, 4, 5, 6, 8 }));
        var refused = new List<long>();
        while (letters.TryRead(out var letter))
        {
            var rows = (IReadOnlyList<object?>)letter[0]["rows"]!;
            Assert.That(rows, Has.Count.EqualTo(1), "one dead letter per refused row");
            Assert.That(letter[0]["error"], Does.StartWith("row refused"));
            refused.Add((long)((IReadOnlyDictionary<string, object?>)rows[0]!)["a"]!);
        }

        Assert.That(refused, Is.EqualTo(new long[] { -3, -7 }));
        var status = engine.GetRuleStatus("r");
        Assert.That(status.Metrics["sink_scripted_0_0_exceptions_total"], Is.EqualTo(2));
        Assert.That(status.Metrics["sink_scripted_0_0_rows_out_total"], Is.EqualTo(6));
        Assert.That(status.Metrics["sink_scripted_0_0_rows_waiting"], Is.Zero);
        Assert.That(status.LastExceptions["sink_scripted_0_0_last_exception"], Does.Contain("row refused"));

        // 8 → 4+4 → 2+2 | 2+2 → 1+1 (the pair holding -3) and 1+1 (the pair holding -7): 2·8−1 = 15 calls at most.
        Assert.That(script.Calls.Count, Is.InRange(3, 15));
    }

    [Test]
    public async Task Rows_waiting_through_an_outage_are_counted_until_they_are_written()
    {
        var down = new DownUntilReleased();
        await using var engine = new EdgeStreamEngine();
        engine.RegisterSink("down", _ => down);
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (DATASOURCE=\"in\", TYPE=\"memory\")");
        var rule = new RuleDefinition("r", "SELECT a FROM s");
        rule.Actions.Add(new RuleAction("down", new Dictionary<string, string> { ["batchSize"] = "2" }));
        await engine.CreateRuleAsync(rule);
        for (var a = 0; a < 5; a++)
        {
            await engine.PublishAsync("s", new Dictionary<string, object?> { ["a"] = (long)a });
        }

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (engine.GetRuleStatus("r").Metrics["sink_down_0_0_rows_waiting"] < 5 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        var during = engine.GetRuleStatus("r");
        Assert.That(during.Metrics["sink_down_0_0_rows_waiting"], Is.EqualTo(5), "the batch being retried and the rows behind it");
        Assert.That(during.Metrics["sink_down_0_0_rows_out_total"], Is.Zero);
        Assert.That(during.LastExceptions["sink_down_0_0_last_exception"], Is.EqualTo("sink `down` could not write: down for now"));

        down.Release();
        await engine.StopRuleAsync("r");
        var after = engine.GetRuleStatus("r");
        Assert.That(down.Written, Is.EqualTo(new long[] { 0, 1, 2, 3, 4 }));
        Assert.That((after.Metrics["sink_down_0_0_rows_waiting"], after.Metrics["sink_down_0_0_rows_out_total"]), Is.EqualTo((0L, 5L)));
    }

    private sealed class DownUntilReleased : ISink
    {
        private volatile bool up;

        public ConcurrentQueue<long> Written { get; } = new();

        public void Release() => up = true;

        public ValueTask OpenAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask WriteAsync(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows, CancellationToken cancellationToken)
        {
            if (!up)
            {
                throw new SinkException("down for now", isTransient: true);
            }

            foreach (var row in rows)
            {
                Written.Enqueue((long)row["a"]!);
            }

            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Test]
    public async Task An_at_least_once_sinks_refused_batch_is_dead_lettered_whole_since_a_rewrite_could_duplicate_rows()
    {
        var script = new Script { Semantics = SinkWriteSemantics.AtLeastOnce };
        await using var engine = Engine(script);
        using var stop = new CancellationTokenSource();
        var letters = engine.Memory.Subscribe(EdgeStreamEngine.DeadLetterTopic, stop.Token);
        await engine.CreateRuleAsync(Rule("4"));
        await engine.PublishBatchAsync("s", new long[] { 1, -2, 3, 4 }.Select(a => new Dictionary<string, object?> { ["a"] = a }));
        await engine.StopRuleAsync("r");

        Assert.That(script.Written, Is.Empty);
        Assert.That(script.Calls, Is.EqualTo(new[] { 4 }));
        Assert.That(letters.TryRead(out var letter), Is.True);
        Assert.That((IReadOnlyList<object?>)letter![0]["rows"]!, Has.Count.EqualTo(4));
    }
}
