using System.Collections.Concurrent;

namespace EdgeStream.Tests.Runtime;

/// <summary>A user <see cref="ISink"/> behind the engine's sink runner: batching, retry, dead letters, lifecycle.</summary>
public sealed class CustomSinkTests
{
    private sealed class Recorder
    {
        public ConcurrentQueue<long[]> Batches { get; } = new();

        public int Opens;
        public int Disposals;
        public int OpenFailures;
        public int WriteFailures;
        public int Created;

        public long[] All => Batches.SelectMany(b => b).ToArray();
    }

    private sealed class RecordingSink(Recorder recorder) : ISink
    {
        public ValueTask OpenAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref recorder.Opens);
            return Interlocked.Decrement(ref recorder.OpenFailures) >= 0
                ? throw new IOException("connection refused")
                : ValueTask.CompletedTask;
        }

        public ValueTask WriteAsync(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows, CancellationToken cancellationToken)
        {
            if (Interlocked.Decrement(ref recorder.WriteFailures) >= 0)
            {
                throw new SinkException("destination is down", isTransient: true);
            }

            if (rows.Any(r => r.TryGetValue("a", out var a) && a is long v && v < 0))
            {
                throw new InvalidOperationException("negative values violate a constraint");
            }

            recorder.Batches.Enqueue(rows.Select(r => (long)r["a"]!).ToArray());
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync()
        {
            Interlocked.Increment(ref recorder.Disposals);
            return ValueTask.CompletedTask;
        }
    }

    private static async Task<(EdgeStreamEngine Engine, Recorder Recorder)> Setup(Dictionary<string, string> properties, Action<Recorder>? arrange = null)
    {
        var recorder = new Recorder();
        arrange?.Invoke(recorder);
        var engine = new EdgeStreamEngine();
        engine.RegisterSink("recording", context =>
        {
            Interlocked.Increment(ref recorder.Created);
            return context.Properties.TryGetValue("table", out var table) && table.Length == 0
                ? throw new ArgumentException("`table` must not be empty")
                : new RecordingSink(recorder);
        }, ["table"]);
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (DATASOURCE=\"in\", TYPE=\"memory\")");
        var rule = new RuleDefinition("r", "SELECT a FROM s");
        rule.Actions.Add(new RuleAction("recording", properties));
        await engine.CreateRuleAsync(rule);
        return (engine, recorder);
    }

    private static async Task Publish(EdgeStreamEngine engine, params long[] values)
    {
        foreach (var a in values)
        {
            await engine.Memory.PublishAsync("in", new Dictionary<string, object?> { ["a"] = a });
        }
    }

    [Test]
    public async Task Rows_arrive_in_batches_in_order_and_stopping_delivers_the_rest()
    {
        var (engine, recorder) = await Setup(new() { ["table"] = "t", ["batchSize"] = "3", ["lingerInterval"] = "50" });
        await using (engine)
        {
            await Publish(engine, 1, 2, 3, 4, 5, 6, 7);
            await engine.StopRuleAsync("r");
        }

        Assert.That(recorder.All, Is.EqualTo(new long[] { 1, 2, 3, 4, 5, 6, 7 }));
        Assert.That(recorder.Batches.All(b => b.Length <= 3), Is.True);
        Assert.That((recorder.Opens, recorder.Disposals, recorder.Created), Is.EqualTo((1, 2, 2)), "a probe at creation, one instance per start");
    }

    [Test]
    public async Task Transient_failures_are_retried_and_lose_nothing()
    {
        var (engine, recorder) = await Setup(new() { ["table"] = "t" }, r => (r.OpenFailures, r.WriteFailures) = (1, 2));
        await using (engine)
        {
            await Publish(engine, 1, 2, 3);
            await engine.StopRuleAsync("r");
            var status = engine.GetRuleStatus("r");
            Assert.That(status.Errors, Is.EqualTo(3), "one failed open and two failed writes, each counted");
            Assert.That(status.LastError, Does.Contain("retrying"));
        }

        Assert.That(recorder.All, Is.EqualTo(new long[] { 1, 2, 3 }));
        Assert.That(recorder.Opens, Is.EqualTo(2));
    }

    [Test]
    public async Task A_batch_that_can_never_succeed_goes_to_dead_letters_and_the_rule_goes_on()
    {
        var (engine, recorder) = await Setup(new() { ["table"] = "t" });
        await using (engine)
        {
            using var stop = new CancellationTokenSource();
            var letters = engine.Memory.Subscribe(EdgeStreamEngine.DeadLetterTopic, stop.Token);
            await Publish(engine, 1, -5, 2);
            await engine.StopRuleAsync("r");

            Assert.That(letters.TryRead(out var letter), Is.True);
            Assert.That(letter![0]["error"], Is.EqualTo("negative values violate a constraint"));
            Assert.That(letter[0]["sink"], Is.EqualTo("recording"));
            Assert.That(engine.GetRuleStatus("r").Errors, Is.EqualTo(1));
        }

        Assert.That(recorder.All, Is.EqualTo(new long[] { 1, 2 }));
    }

    [Test]
    public async Task Bad_properties_fail_rule_creation()
    {
        await using var engine = new EdgeStreamEngine();
        engine.RegisterSink("recording", _ => throw new ArgumentException("`table` must not be empty"), ["table"]);
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (DATASOURCE=\"in\", TYPE=\"memory\")");

        async Task<string> Fails(Dictionary<string, string> properties)
        {
            var rule = new RuleDefinition("r", "SELECT a FROM s");
            rule.Actions.Add(new RuleAction("recording", properties));
            var e = Assert.ThrowsAsync<ArgumentException>(() => engine.CreateRuleAsync(rule))!;
            await Task.CompletedTask;
            return e.Message;
        }

        Assert.That(await Fails(new() { ["tabel"] = "x" }), Does.StartWith("unknown property `tabel` for sink `recording`; did you mean `table`?"));
        Assert.That(await Fails(new() { ["table"] = "" }), Does.StartWith("`table` must not be empty"));
        Assert.That(await Fails(new() { ["batchSize"] = "-1" }), Does.StartWith("unknown property").Or.Contain("must be a positive integer").Or.Contain("must not be empty"));
    }

    [Test]
    public void Sink_names_are_unique_and_built_ins_are_reserved()
    {
        var engine = new EdgeStreamEngine();
        engine.RegisterSink("mine", _ => throw new NotSupportedException());
        Assert.Throws<ArgumentException>(() => engine.RegisterSink("MINE", _ => throw new NotSupportedException()));
        Assert.Throws<ArgumentException>(() => engine.RegisterSink("memory", _ => throw new NotSupportedException()));
    }
}

public sealed class ShutdownTests
{
    private sealed class DownSink : ISink
    {
        public ValueTask OpenAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask WriteAsync(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows, CancellationToken cancellationToken) =>
            throw new SinkException("destination is down", isTransient: true);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Test]
    public async Task Disposing_the_engine_ends_within_the_drain_timeout_and_reports_what_was_not_delivered()
    {
        var logs = new Support.ListLoggerFactory();
        var engine = new EdgeStreamEngine(new EdgeStreamEngineOptions { DrainTimeout = TimeSpan.FromMilliseconds(500), LoggerFactory = logs });
        engine.RegisterSink("down", _ => new DownSink());
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (DATASOURCE=\"in\", TYPE=\"memory\")");
        var rule = new RuleDefinition("r", "SELECT a FROM s");
        rule.Actions.Add(new RuleAction("down"));
        await engine.CreateRuleAsync(rule);
        await engine.PublishAsync("s", new Dictionary<string, object?> { ["a"] = 1 });

        var clock = System.Diagnostics.Stopwatch.StartNew();
        await engine.DisposeAsync();

        // A liveness bound (the drain timeout plus slack), not a speed measurement.
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)));
        Assert.That(logs.Entries.Select(e => e.Message), Has.Some.Contains("stopped before delivering 1 rows"));
    }
}

public sealed class SinkConcurrencyTests
{
    private sealed class CountingSink(ConcurrentQueue<long> rows, ConcurrentDictionary<int, int> writers) : ISink
    {
        public ValueTask OpenAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public async ValueTask WriteAsync(IReadOnlyList<IReadOnlyDictionary<string, object?>> batch, CancellationToken cancellationToken)
        {
            writers.AddOrUpdate(GetHashCode(), 1, (_, n) => n + 1);
            await Task.Yield();
            foreach (var row in batch)
            {
                rows.Enqueue((long)row["a"]!);
            }
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Test]
    public async Task Several_rule_tasks_and_several_sink_instances_deliver_every_row_once()
    {
        var rows = new ConcurrentQueue<long>();
        var writers = new ConcurrentDictionary<int, int>();
        await using var engine = new EdgeStreamEngine();
        engine.RegisterSink("counting", _ => new CountingSink(rows, writers));
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (DATASOURCE=\"in\", TYPE=\"memory\")");
        var rule = RuleDefinition.FromJson("""
            {"id": "r", "sql": "SELECT a FROM s", "options": {"concurrency": 4},
             "actions": [{"counting": {"concurrency": "3", "runAsync": "true", "bufferLength": "8", "batchSize": "5"}}]}
            """);
        await engine.CreateRuleAsync(rule);
        Assert.That(engine.GetRuleStatus("r").Warnings, Is.Empty, "concurrency and runAsync are applied");
        for (var a = 0; a < 2000; a++)
        {
            await engine.Memory.PublishAsync("in", new Dictionary<string, object?> { ["a"] = a });
        }

        await engine.StopRuleAsync("r");
        Assert.That(rows.Order(), Is.EqualTo(Enumerable.Range(0, 2000).Select(a => (long)a)));
        Assert.That(writers.Count, Is.InRange(2, 3), "the writes were spread over the sink instances");
        Assert.That(engine.GetRuleStatus("r").Metrics["sink_counting_0_0_records_out_total"], Is.EqualTo(2000));
    }
}
