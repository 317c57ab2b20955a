using System.Collections.Concurrent;
using EdgeStream.State;
using EdgeStream.Tests.Support;

namespace EdgeStream.Tests.Runtime;

/// <summary>
/// Source positions in checkpoints: a rule keeps the position of the last event each checkpoint covers, gives it back
/// to its source when it resumes from that checkpoint, and tells the source once the checkpoint is saved.
/// </summary>
public sealed class SourcePositionTests
{
    private static async Task<(EdgeStreamEngine Engine, ConcurrentQueue<long> Totals)> RunningTotalAsync(IStateStore store, string ddl, Action<EdgeStreamEngine>? register = null)
    {
        var engine = new EdgeStreamEngine(new EdgeStreamEngineOptions { StateStore = store });
        register?.Invoke(engine);
        engine.Execute(ddl);
        var totals = new ConcurrentQueue<long>();
        engine.Memory.Subscribe("out", (rows, _) =>
        {
            foreach (var row in rows)
            {
                totals.Enqueue((long)row["total"]!);
            }

            return ValueTask.CompletedTask;
        });
        await engine.CreateRuleAsync(RuleDefinition.FromJson("""
            {"id": "r", "sql": "SELECT sum(a) AS total FROM f", "actions": [{"memory": {"topic": "out"}}],
             "options": {"qos": 1, "checkpointInterval": 50}}
            """));
        return (engine, totals);
    }

    private static async Task CheckpointAfterAsync(EdgeStreamEngine engine, long events)
    {
        await Wait.Until(() => engine.GetRuleStatus("r").RecordsIn == events, "the events to be taken");
        var before = engine.GetRuleStatus("r").Metrics["checkpoints_completed_total"];
        await Wait.Until(() => engine.GetRuleStatus("r").Metrics["checkpoints_completed_total"] >= before + 2, "a checkpoint after them");
    }

    [Test]
    public async Task A_file_read_by_a_checkpointed_rule_is_read_once_across_restarts()
    {
        var path = Path.GetTempFileName();
        try
        {
            await File.WriteAllLinesAsync(path, ["{\"a\": 1}", "{\"a\": 2}", "", "{\"a\": 3}"]);
            var store = new InMemoryStateStore();
            var ddl = $"CREATE STREAM f (a BIGINT) WITH (DATASOURCE=\"{path}\", TYPE=\"file\")";
            var (first, totals) = await RunningTotalAsync(store, ddl);
            await using (first)
            {
                await CheckpointAfterAsync(first, 3);
                Assert.That(totals, Is.EqualTo(new long[] { 1, 3, 6 }));
            }

            // The file grew while the host was down; the next run goes on after line 4 from the checkpoint's total.
            await File.AppendAllLinesAsync(path, ["{\"a\": 4}", "{\"a\": 5}"]);
            var (second, more) = await RunningTotalAsync(store, ddl);
            await using (second)
            {
                await Wait.Until(() => more.Count == 2, "the two new lines");
                await Task.Delay(100);
                Assert.That(more, Is.EqualTo(new long[] { 10, 15 }), "lines 1 to 4 are not read again");
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>A source that writes numbered events and records what the engine tells it.</summary>
    private sealed class NumberedSource(SourceContext context, ConcurrentQueue<string> log, int count) : ICheckpointedSource
    {
        public async Task RunAsync(ISourceWriter writer, CancellationToken cancellationToken)
        {
            log.Enqueue($"start resume={context.ResumePosition ?? "none"} checkpointed={context.Checkpointed}");
            var from = context.ResumePosition is { } at ? int.Parse(at, System.Globalization.CultureInfo.InvariantCulture) + 1 : 1;
            for (var n = from; n <= count; n++)
            {
                await writer.WritePayloadAsync(System.Text.Encoding.UTF8.GetBytes($$"""{"a": {{n}}}"""), null, n.ToString(System.Globalization.CultureInfo.InvariantCulture), cancellationToken);
            }

            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        public Task CommitAsync(string position, CancellationToken cancellationToken)
        {
            log.Enqueue("commit " + position);
            return Task.CompletedTask;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Test]
    public async Task A_checkpointed_source_hears_each_saved_checkpoint_and_resumes_from_the_last()
    {
        var store = new InMemoryStateStore();
        var log = new ConcurrentQueue<string>();
        const string ddl = "CREATE STREAM f (a BIGINT) WITH (DATASOURCE=\"x\", TYPE=\"numbered\")";
        var (first, totals) = await RunningTotalAsync(store, ddl, e => e.RegisterSource("numbered", c => new NumberedSource(c, log, 4)));
        await using (first)
        {
            await CheckpointAfterAsync(first, 4);
            await Wait.Until(() => log.Contains("commit 4"), "the checkpoint committed to the source");
        }

        Assert.That(log.First(), Is.EqualTo("start resume=none checkpointed=True"));
        Assert.That(totals, Is.EqualTo(new long[] { 1, 3, 6, 10 }));

        log.Clear();
        var (second, more) = await RunningTotalAsync(store, ddl, e => e.RegisterSource("numbered", c => new NumberedSource(c, log, 6)));
        await using (second)
        {
            await Wait.Until(() => more.Count == 2, "the events after the checkpoint");
            Assert.That(more, Is.EqualTo(new long[] { 15, 21 }));
        }

        Assert.That(log.First(), Is.EqualTo("start resume=4 checkpointed=True"));
    }

    [Test]
    public async Task Without_checkpoints_a_source_is_not_told_to_hold_anything()
    {
        var log = new ConcurrentQueue<string>();
        await using var engine = new EdgeStreamEngine();
        engine.RegisterSource("numbered", c => new NumberedSource(c, log, 2));
        engine.Execute("CREATE STREAM f (a BIGINT) WITH (DATASOURCE=\"x\", TYPE=\"numbered\")");
        await engine.CreateRuleAsync(new RuleDefinition("r", "SELECT a FROM f") { Actions = { new RuleAction("nop") } });
        await Wait.Until(() => engine.GetRuleStatus("r").RecordsIn == 2, "the events");
        Assert.That(log, Is.EqualTo(new[] { "start resume=none checkpointed=False" }));
    }
}
