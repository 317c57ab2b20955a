using Microsoft.Extensions.Time.Testing;

namespace EdgeStream.State.Sqlite.Tests;

/// <summary>A rule's checkpoint in a SQLite file outlives its engine: a new engine over the same file resumes the rule's window.</summary>
public sealed class CheckpointFileTests
{
    private const long T0 = 1_700_000_000_000;

    private static async Task<(EdgeStreamEngine Engine, List<string> Rows)> StartAsync(SqliteStateStore store, FakeTimeProvider clock, bool persist = false)
    {
        var engine = new EdgeStreamEngine(new EdgeStreamEngineOptions { TimeProvider = clock, TimeZone = TimeZoneInfo.Utc, StateStore = store, PersistDefinitions = persist });
        engine.Execute("CREATE STREAM s (n BIGINT) WITH (DATASOURCE=\"s\", TYPE=\"memory\")");
        var rows = new List<string>();
        engine.Memory.Subscribe("out", (emission, _) =>
        {
            lock (rows)
            {
                rows.AddRange(emission.Select(r => string.Join(",", (IEnumerable<object?>)r["all"]!)));
            }

            return ValueTask.CompletedTask;
        });
        await engine.CreateRuleAsync(RuleDefinition.FromJson("""
            {"id": "r", "sql": "SELECT collect(n) AS all FROM s GROUP BY TUMBLINGWINDOW(ss, 10)",
             "actions": [{"memory": {"topic": "out"}}], "options": {"qos": 1, "checkpointInterval": "1s"}}
            """));
        return (engine, rows);
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

    [Test]
    public async Task A_new_engine_over_the_same_file_resumes_the_rule_from_its_checkpoint()
    {
        var folder = Directory.CreateTempSubdirectory("edgestream-state-").FullName;
        try
        {
            var path = Path.Combine(folder, "state.db");
            var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(T0));
            await using (var store = new SqliteStateStore(path))
            {
                var (engine, rows) = await StartAsync(store, clock);
                await using (engine)
                {
                    foreach (var n in new long[] { 1, 2, 3 })
                    {
                        clock.Advance(TimeSpan.FromMilliseconds(100));
                        await engine.PublishAsync("s", new Dictionary<string, object?> { ["n"] = n });
                    }

                    await UntilAsync(() => engine.GetRuleStatus("r").RecordsIn == 3, "the events to be taken");
                    clock.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(T0 + 1_000));
                    await UntilAsync(() => engine.GetRuleStatus("r").Metrics["checkpoints_completed_total"] == 1, "a checkpoint");
                    Assert.That(rows, Is.Empty);
                }
            }

            await using (var reopened = new SqliteStateStore(path))
            {
                var (engine, rows) = await StartAsync(reopened, clock);
                await using (engine)
                {
                    Assert.That(engine.GetRuleStatus("r").Metrics["checkpoint_restored_total"], Is.EqualTo(1));
                    clock.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(T0 + 2_000));
                    await engine.PublishAsync("s", new Dictionary<string, object?> { ["n"] = 4L });
                    await UntilAsync(() => engine.GetRuleStatus("r").RecordsIn == 1, "the event to be taken");
                    clock.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(T0 + 10_000));
                    await UntilAsync(() => rows.Count == 1, "the window");
                    Assert.That(rows, Is.EqualTo(new[] { "1,2,3,4" }));
                }
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public async Task A_new_process_gets_back_its_streams_rules_and_window_state_from_the_file_alone()
    {
        var folder = Directory.CreateTempSubdirectory("edgestream-state-").FullName;
        try
        {
            var path = Path.Combine(folder, "state.db");
            var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(T0));
            await using (var store = new SqliteStateStore(path))
            {
                var (engine, _) = await StartAsync(store, clock, persist: true);
                await using (engine)
                {
                    clock.Advance(TimeSpan.FromMilliseconds(100));
                    await engine.PublishAsync("s", new Dictionary<string, object?> { ["n"] = 7L });
                    await UntilAsync(() => engine.GetRuleStatus("r").RecordsIn == 1, "the event to be taken");
                    clock.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(T0 + 1_000));
                    await UntilAsync(() => engine.GetRuleStatus("r").Metrics["checkpoints_completed_total"] == 1, "a checkpoint");
                }
            }

            // The next process declares nothing: the file gives back the stream, the running rule and its window.
            await using var reopened = new SqliteStateStore(path);
            await using var next = new EdgeStreamEngine(new EdgeStreamEngineOptions
            {
                TimeProvider = clock, TimeZone = TimeZoneInfo.Utc, StateStore = reopened, PersistDefinitions = true,
            });
            var rows = new List<string>();
            next.Memory.Subscribe("out", (emission, _) =>
            {
                lock (rows)
                {
                    rows.AddRange(emission.Select(r => string.Join(",", (IEnumerable<object?>)r["all"]!)));
                }

                return ValueTask.CompletedTask;
            });
            Assert.That(await next.RestoreDefinitionsAsync(), Is.EqualTo(1));
            Assert.That(next.GetRuleStatus("r").Metrics["checkpoint_restored_total"], Is.EqualTo(1));
            clock.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(T0 + 2_000));
            await next.PublishAsync("s", new Dictionary<string, object?> { ["n"] = 8L });
            await UntilAsync(() => next.GetRuleStatus("r").RecordsIn == 1, "the event to be taken");
            clock.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(T0 + 10_000));
            await UntilAsync(() => rows.Count == 1, "the window");
            Assert.That(rows, Is.EqualTo(new[] { "7,8" }));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
