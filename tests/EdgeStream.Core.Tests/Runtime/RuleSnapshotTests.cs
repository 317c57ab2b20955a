using EdgeStream.Testing;
using Microsoft.Extensions.Time.Testing;

namespace EdgeStream.Tests.Runtime;

/// <summary>
/// Snapshot and restore of a rule's state (the base of checkpoints): a rule that runs part of an input, is snapshot,
/// and whose snapshot a new engine restores before running the rest, sends exactly what one uninterrupted run sends —
/// for every kind of window, under event time with rows waiting for the watermark, with tables and running totals.
/// </summary>
public sealed class RuleSnapshotTests
{
    private const long T0 = 1_700_000_000_000;

    private static readonly string[] Sources =
    [
        "CREATE STREAM s (k BIGINT, v FLOAT, n BIGINT, ts BIGINT) WITH (DATASOURCE=\"s\", TIMESTAMP=\"ts\")",
        "CREATE TABLE t (k BIGINT, name STRING) WITH (DATASOURCE=\"t\", TYPE=\"memory\", KEY=\"k\")",
    ];

    private static readonly (string Sql, bool EventTime)[] Rules =
    [
        ("SELECT k, count(*) AS c, avg(v) AS a, max(n) AS m, collect(n) AS all FROM s GROUP BY k, HOPPINGWINDOW(ms, 400, 100) HAVING last_agg_hit_count() < 1000", true),
        ("SELECT k, count(*) AS c, median(v) AS md FROM s GROUP BY k, TUMBLINGWINDOW(ms, 300)", true),
        ("SELECT k, deduplicate(n, true) AS d FROM s GROUP BY k, TUMBLINGWINDOW(ms, 250)", true),
        ("SELECT collect(n) AS all FROM s GROUP BY SLIDINGWINDOW(ms, 200, 50) OVER (WHEN n > 10)", true),
        ("SELECT collect(n) AS all, window_start() AS ws, window_end() AS we FROM s GROUP BY SESSIONWINDOW(ms, 500, 60)", true),
        ("SELECT k, v, n FROM s WHERE n > 3", true),
        ("SELECT collect(n) AS all FROM s GROUP BY COUNTWINDOW(7, 3)", false),
        ("SELECT k, collect(n) AS all FROM s GROUP BY STATEWINDOW(n > 12, n < 2) OVER (PARTITION BY k)", false),
        ("SELECT k, count(*) AS c, sum(n) AS total, last_value(v, true) AS lv FROM s GROUP BY k", false),
        ("SELECT s.k AS k, t.name AS name, n, last_hit_count() AS hits FROM s INNER JOIN t ON s.k = t.k WHERE n > 5", false),
        ("SELECT k, lag(n, 2, -1) OVER (PARTITION BY k) AS l, acc_sum(n) OVER (PARTITION BY k WHEN n > 4) AS total, had_changed(true, k) AS hc, "
            + "changed_cols(\"c_\", true, k, n), latest(v) AS lt FROM s WHERE n > 2", true),
    ];

    [Test]
    public async Task A_restored_rule_sends_what_an_uninterrupted_run_sends([Range(0, 10)] int rule, [Values(1, 2, 3)] int seed)
    {
        var (sql, eventTime) = Rules[rule];
        var random = new Random((rule * 10) + seed);
        var events = Events(random, 300);
        var cut = random.Next(20, events.Count - 20);

        var whole = await RunAsync(sql, eventTime, events, null);
        var (first, snapshot) = await RunUntilSnapshotAsync(sql, eventTime, events[..cut]);
        var rest = await RunAsync(sql, eventTime, events[cut..], snapshot);

        Assert.That(ResultJson.Write(first.Concat(rest)), Is.EqualTo(ResultJson.Write(whole)), $"{sql}, cut after {cut} events");
        Assert.That(whole, Is.Not.Empty, "the rule sends something");
    }

    [Test]
    public async Task A_snapshot_of_another_rule_is_refused_and_the_rule_stays_stopped()
    {
        var (_, snapshot) = await RunUntilSnapshotAsync(Rules[1].Sql, true, Events(new Random(5), 30));
        var engine = Engine(new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(T0)));
        await using (engine)
        {
            await CreateAsync(engine, "SELECT collect(n) AS all FROM s GROUP BY COUNTWINDOW(3)", eventTime: false);
            Assert.ThrowsAsync<FormatException>(() => engine.RestoreRuleAsync("r", snapshot));
            Assert.That(engine.GetRuleStatus("r").State, Is.Not.EqualTo(RuleState.Running));
            Assert.ThrowsAsync<FormatException>(() => engine.RestoreRuleAsync("r", [1, 2, 3]));
        }
    }

    private static List<(string Stream, Dictionary<string, object?> Row)> Events(Random random, int count)
    {
        var events = new List<(string, Dictionary<string, object?>)>();
        var time = T0;
        for (var i = 0; i < count; i++)
        {
            time += random.Next(0, 30);
            if (random.Next(10) == 0)
            {
                events.Add(("t", new Dictionary<string, object?> { ["k"] = (long)random.Next(1, 4), ["name"] = "n" + i }));
                continue;
            }

            var row = new Dictionary<string, object?> { ["k"] = (long)random.Next(1, 4), ["n"] = (long)random.Next(0, 20), ["ts"] = time - random.Next(0, 40) };
            if (random.Next(5) != 0)
            {
                row["v"] = Math.Round(random.NextDouble() * 50, 2);
            }

            events.Add(("s", row));
        }

        return events;
    }

    private static EdgeStreamEngine Engine(FakeTimeProvider clock) =>
        new(new EdgeStreamEngineOptions { TimeProvider = clock, TimeZone = TimeZoneInfo.Utc });

    private static async Task<List<IReadOnlyList<IReadOnlyDictionary<string, object?>>>> CreateAsync(EdgeStreamEngine engine, string sql, bool eventTime)
    {
        foreach (var source in Sources)
        {
            engine.Execute(source);
        }

        var emissions = new List<IReadOnlyList<IReadOnlyDictionary<string, object?>>>();
        engine.Memory.Subscribe("out", (rows, _) =>
        {
            lock (emissions)
            {
                emissions.Add(rows);
            }

            return ValueTask.CompletedTask;
        });
        var rule = new RuleDefinition("r", sql);
        rule.Actions.Add(new RuleAction("memory", new Dictionary<string, string> { ["topic"] = "out" }));
        rule.Options.IsEventTime = eventTime;
        rule.Options.LateTolerance = TimeSpan.FromMilliseconds(eventTime ? 25 : 0);
        await engine.CreateRuleAsync(rule);
        return emissions;
    }

    private static async Task PublishAsync(EdgeStreamEngine engine, FakeTimeProvider clock, IEnumerable<(string Stream, Dictionary<string, object?> Row)> events)
    {
        foreach (var (stream, row) in events)
        {
            if (row.TryGetValue("ts", out var ts) && (long)ts! > clock.GetUtcNow().ToUnixTimeMilliseconds())
            {
                clock.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds((long)ts));
            }

            await engine.PublishAsync(stream, row);
        }
    }

    private static async Task<List<IReadOnlyList<IReadOnlyDictionary<string, object?>>>> RunAsync(
        string sql, bool eventTime, List<(string, Dictionary<string, object?>)> events, byte[]? restore)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(T0));
        var engine = Engine(clock);
        await using (engine)
        {
            var emissions = await CreateAsync(engine, sql, eventTime);
            if (restore is not null)
            {
                await engine.RestoreRuleAsync("r", restore);
            }

            await PublishAsync(engine, clock, events);
            await engine.StopRuleAsync("r");
            lock (emissions)
            {
                return [.. emissions];
            }
        }
    }

    private static async Task<(List<IReadOnlyList<IReadOnlyDictionary<string, object?>>> Emissions, byte[] Snapshot)> RunUntilSnapshotAsync(
        string sql, bool eventTime, List<(string, Dictionary<string, object?>)> events)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(T0));
        var engine = Engine(clock);
        await using (engine)
        {
            var emissions = await CreateAsync(engine, sql, eventTime);
            await PublishAsync(engine, clock, events);
            var snapshot = await engine.SnapshotRuleAsync("r");
            await engine.StopRuleAsync("r");
            lock (emissions)
            {
                return ([.. emissions], snapshot);
            }
        }
    }
}
