using EdgeStream.State;
using Microsoft.Extensions.Time.Testing;

namespace EdgeStream.Tests.Runtime;

/// <summary>
/// Checkpoints (rule options <c>qos</c> and <c>checkpointInterval</c>): a rule saves its state to the engine's state
/// store at each interval, once its sinks have the results of the events before it, and a rule started again (in the
/// same engine or in a new one over the same store) resumes from the last checkpoint.
/// </summary>
public sealed class CheckpointTests
{
    private const long T0 = 1_700_000_000_000;
    private const string Ddl = "CREATE STREAM s (n BIGINT) WITH (DATASOURCE=\"s\", TYPE=\"memory\")";
    private const string Sql = "SELECT count(*) AS c, collect(n) AS all FROM s GROUP BY TUMBLINGWINDOW(ss, 10)";

    private sealed class Output
    {
        private readonly List<string> rows = [];

        public void Add(IReadOnlyList<IReadOnlyDictionary<string, object?>> emission)
        {
            lock (rows)
            {
                rows.AddRange(emission.Select(r => $"{r["c"]}:[{string.Join(",", (IEnumerable<object?>)r["all"]!)}]"));
            }
        }

        public List<string> Rows
        {
            get
            {
                lock (rows)
                {
                    return [.. rows];
                }
            }
        }
    }

    private static async Task<(EdgeStreamEngine Engine, Output Output)> StartAsync(IStateStore? store, FakeTimeProvider clock, string sql = Sql, int qos = 1)
    {
        var engine = new EdgeStreamEngine(new EdgeStreamEngineOptions { TimeProvider = clock, TimeZone = TimeZoneInfo.Utc, StateStore = store });
        engine.Execute(Ddl);
        var output = new Output();
        engine.Memory.Subscribe("out", (rows, _) =>
        {
            output.Add(rows);
            return ValueTask.CompletedTask;
        });
        var rule = RuleDefinition.FromJson($$$"""
            {"id": "r", "sql": "{{{sql}}}", "actions": [{"memory": {"topic": "out"}}],
             "options": {"qos": {{{qos}}}, "checkpointInterval": "1s"}}
            """);
        await engine.CreateRuleAsync(rule);
        return (engine, output);
    }

    private static async Task PublishAsync(EdgeStreamEngine engine, FakeTimeProvider clock, long at, long n)
    {
        clock.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(at));
        await engine.PublishAsync("s", new Dictionary<string, object?> { ["n"] = n });
    }

    private static async Task UntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!condition())
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "timed out waiting for " + what);
            await Task.Delay(5);
        }
    }

    private static long Metric(EdgeStreamEngine engine, string name) => engine.GetRuleStatus("r").Metrics[name];

    /// <summary>Events 1 and 2, a checkpoint at T0 + 1 s, then event 3 that no checkpoint holds, then the engine goes away.</summary>
    private static async Task RunFirstHalfAsync(IStateStore store, FakeTimeProvider clock)
    {
        var (engine, output) = await StartAsync(store, clock);
        await using (engine)
        {
            await PublishAsync(engine, clock, T0 + 100, 1);
            await PublishAsync(engine, clock, T0 + 500, 2);
            await UntilAsync(() => engine.GetRuleStatus("r").RecordsIn == 2, "the two events to be taken");
            clock.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(T0 + 1_000));
            await UntilAsync(() => Metric(engine, "checkpoints_completed_total") == 1, "the first checkpoint");
            Assert.That(Metric(engine, "checkpoint_last_time"), Is.EqualTo(T0 + 1_000));
            await PublishAsync(engine, clock, T0 + 1_200, 3);
            await UntilAsync(() => engine.GetRuleStatus("r").RecordsIn == 3, "the third event to be taken");
            Assert.That(output.Rows, Is.Empty, "the window is still open");
        }
    }

    [Test]
    public async Task A_rule_in_a_new_engine_resumes_from_the_last_checkpoint_of_the_store()
    {
        var store = new InMemoryStateStore();
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(T0));
        await RunFirstHalfAsync(store, clock);
        Assert.That(await store.KeysAsync("checkpoint/"), Is.EqualTo(new[] { "checkpoint/r" }));

        var (engine, output) = await StartAsync(store, clock);
        await using (engine)
        {
            Assert.That(Metric(engine, "checkpoint_restored_total"), Is.EqualTo(1));
            await PublishAsync(engine, clock, T0 + 3_000, 4);
            await UntilAsync(() => engine.GetRuleStatus("r").RecordsIn == 1, "the fourth event to be taken");
            clock.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(T0 + 10_000));
            await UntilAsync(() => output.Rows.Count == 1, "the window");
        }

        // The window holds what the checkpoint held (1 and 2) and what came after the restart (4); event 3 came after
        // the last checkpoint from a source that cannot replay it (a memory topic).
        Assert.That(output.Rows, Is.EqualTo(new[] { "3:[1,2,4]" }));
    }

    [Test]
    public async Task Without_qos_or_without_a_store_no_checkpoint_is_taken_and_the_rule_says_why()
    {
        var store = new InMemoryStateStore();
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(T0));
        var (engine, _) = await StartAsync(store, clock, qos: 0);
        await using (engine)
        {
            await PublishAsync(engine, clock, T0 + 100, 1);
            clock.Advance(TimeSpan.FromSeconds(3));
            Assert.That(engine.GetRuleStatus("r").Metrics.ContainsKey("checkpoints_completed_total"), Is.False);
        }

        Assert.That(await store.KeysAsync(""), Is.Empty);
        var (noStore, _) = await StartAsync(null, clock, qos: 1);
        await using (noStore)
        {
            Assert.That(noStore.GetRuleStatus("r").Warnings, Has.Some.Contains("takes no checkpoints: the engine has no state store"));
        }
    }

    [Test]
    public async Task A_checkpoint_of_another_statement_is_dropped_and_the_rule_starts_afresh()
    {
        var store = new InMemoryStateStore();
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(T0));
        await RunFirstHalfAsync(store, clock);

        var (engine, output) = await StartAsync(store, clock, "SELECT count(*) AS c, collect(n) AS all FROM s GROUP BY TUMBLINGWINDOW(ss, 5)");
        await using (engine)
        {
            Assert.That(engine.GetRuleStatus("r").State, Is.EqualTo(RuleState.Running));
            Assert.That(Metric(engine, "checkpoint_restored_total"), Is.Zero);
            await PublishAsync(engine, clock, T0 + 3_000, 4);
            await UntilAsync(() => engine.GetRuleStatus("r").RecordsIn == 1, "the event to be taken");
            clock.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(T0 + 5_000));
            await UntilAsync(() => output.Rows.Count == 1, "the window");
        }

        Assert.That(output.Rows, Is.EqualTo(new[] { "1:[4]" }));
    }

    [Test]
    public async Task Deleting_or_updating_a_rule_drops_its_checkpoint()
    {
        var store = new InMemoryStateStore();
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(T0));
        var (engine, _) = await StartAsync(store, clock);
        await using (engine)
        {
            await PublishAsync(engine, clock, T0 + 100, 1);
            await UntilAsync(() => engine.GetRuleStatus("r").RecordsIn == 1, "the event to be taken");
            clock.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(T0 + 1_000));
            await UntilAsync(() => Metric(engine, "checkpoints_completed_total") == 1, "a checkpoint");
            Assert.That(await store.GetAsync("checkpoint/r"), Is.Not.Null);

            var updated = new RuleDefinition("r", Sql);
            updated.Actions.Add(new RuleAction("memory", new Dictionary<string, string> { ["topic"] = "out" }));
            updated.Options.Qos = 1;
            await engine.UpdateRuleAsync(updated);
            Assert.That(await store.GetAsync("checkpoint/r"), Is.Null, "an update starts the rule afresh");

            clock.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(T0 + 400_000));
            await UntilAsync(() => Metric(engine, "checkpoints_completed_total") == 1, "a checkpoint of the new version (default interval 5 min)");
            Assert.That(await store.GetAsync("checkpoint/r"), Is.Not.Null);
            await engine.DeleteRuleAsync("r");
            Assert.That(await store.GetAsync("checkpoint/r"), Is.Null);
        }
    }

    /// <summary>A sink that holds its rows until released.</summary>
    private sealed class GatedSink(SemaphoreSlim gate, List<long> written) : ISink
    {
        public ValueTask OpenAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public async ValueTask WriteAsync(IReadOnlyList<IReadOnlyDictionary<string, object?>> batch, CancellationToken cancellationToken)
        {
            await gate.WaitAsync(cancellationToken);
            lock (written)
            {
                written.AddRange(batch.Select(r => (long)r["n"]!));
            }
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Test]
    public async Task A_checkpoint_completes_only_once_the_sinks_have_every_result_before_it()
    {
        var store = new InMemoryStateStore();
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(T0));
        using var gate = new SemaphoreSlim(0);
        var written = new List<long>();
        await using var engine = new EdgeStreamEngine(new EdgeStreamEngineOptions { TimeProvider = clock, StateStore = store });
        engine.RegisterSink("gated", _ => new GatedSink(gate, written));
        engine.Execute(Ddl);
        var rule = RuleDefinition.FromJson("""
            {"id": "r", "sql": "SELECT n FROM s", "actions": [{"gated": {}}], "options": {"qos": 1, "checkpointInterval": 1000}}
            """);
        await engine.CreateRuleAsync(rule);
        await PublishAsync(engine, clock, T0 + 100, 1);
        await PublishAsync(engine, clock, T0 + 200, 2);
        await UntilAsync(() => engine.GetRuleStatus("r").RecordsOut == 2, "the results to be handed to the sink");
        clock.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(T0 + 1_000));
        await Task.Delay(200);
        Assert.That(Metric(engine, "checkpoints_completed_total"), Is.Zero, "the sink has not written the results yet");
        Assert.That(await store.GetAsync("checkpoint/r"), Is.Null);

        gate.Release(100);
        await UntilAsync(() => Metric(engine, "checkpoints_completed_total") == 1, "the checkpoint after the sink wrote");
        lock (written)
        {
            Assert.That(written, Is.EqualTo(new long[] { 1, 2 }));
        }
    }

    /// <summary>A sink that says its writes are idempotent (an upsert by key).</summary>
    private sealed class UpsertSink : ISink
    {
        public SinkWriteSemantics WriteSemantics => SinkWriteSemantics.Idempotent;

        public ValueTask OpenAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask WriteAsync(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Test]
    public async Task Qos_2_warns_about_every_sink_that_could_get_a_replayed_result_twice()
    {
        await using var engine = new EdgeStreamEngine(new EdgeStreamEngineOptions { StateStore = new InMemoryStateStore() });
        engine.RegisterSink("upsert", _ => new UpsertSink());
        engine.Execute(Ddl);
        var rule = RuleDefinition.FromJson("""
            {"id": "r", "sql": "SELECT n FROM s", "options": {"qos": 2},
             "actions": [{"upsert": {}}, {"memory": {"topic": "out"}}, {"nop": {}}]}
            """);
        await engine.CreateRuleAsync(rule);
        Assert.That(engine.GetRuleStatus("r").Warnings, Is.EqualTo(new[]
        {
            "rule option `qos` 2: sink `memory` (action 1) does not write idempotently, so results replayed after a restart can reach it twice (at least once); exactly once needs idempotent writes, such as upserts by key",
        }));

        var once = RuleDefinition.FromJson("""{"id": "r1", "sql": "SELECT n FROM s", "options": {"qos": 1}, "actions": [{"memory": {"topic": "out"}}]}""");
        await engine.CreateRuleAsync(once);
        Assert.That(engine.GetRuleStatus("r1").Warnings, Is.Empty, "qos 1 promises at least once: nothing to warn about");
    }
}
