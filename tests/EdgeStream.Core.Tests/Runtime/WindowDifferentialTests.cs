using EdgeStream.Testing;
using Microsoft.Extensions.Time.Testing;

namespace EdgeStream.Tests.Runtime;

/// <summary>
/// Differential tests: tumbling and hopping windows that aggregate as rows arrive (panes, accumulators) against the
/// general window operator that keeps rows and aggregates them when the window fires
/// (<see cref="EdgeStreamEngineOptions.GeneralWindowsOnly"/>). Random rules and random inputs, both engines fed the
/// same events on the same clock; every emission must be identical, byte for byte as JSON.
/// </summary>
public sealed class WindowDifferentialTests
{
    private const long T0 = 1_700_000_000_000;
    private const string Stream = "CREATE STREAM s (k BIGINT, v FLOAT, n BIGINT, ts BIGINT) WITH (DATASOURCE=\"s\", TIMESTAMP=\"ts\")";

    private static readonly string[] Aggregates =
    [
        "count(*) AS c", "count(v) AS cv", "sum(n) AS sn", "avg(n) AS an", "avg(v) AS av", "min(v) AS mnv", "max(n) AS mxn",
        "collect(n) AS cn", "last_value(v, true) AS lv", "last_value(n, false) AS ln", "median(v) AS md", "stddev(v) AS sd",
        "vars(n) AS vs", "percentile_disc(v, 0.5) AS pd", "percentile_cont(n, 0.25) AS pc", "collect(*)[0]->k AS fk",
        "sum(n) * 2 + count(*) AS expr", "count(*) FILTER (WHERE v > 50) AS ch", "avg(n) FILTER (WHERE k != 2) AS af",
        "window_start() AS ws", "window_end() AS we",
    ];

    [Test]
    public async Task Aggregating_windows_match_the_general_operator_on_random_event_time_input([Range(1, 40)] int seed)
    {
        var random = new Random(seed);
        var (sql, options) = RandomRule(random, eventTime: true);
        var events = RandomEvents(random, 250, disorder: (int)options.LateTolerance.TotalMilliseconds + 20);
        var incremental = await RunAsync(sql, options, events, generalOnly: false);
        var general = await RunAsync(sql, options, events, generalOnly: true);
        Assert.That(Rounded(incremental.Json), Is.EqualTo(Rounded(general.Json)), $"seed {seed}: {sql}");
        Assert.That(incremental.Aggregating, Is.True, "the specialised operator ran");
        Assert.That(general.Aggregating, Is.False);
    }

    [Test]
    public async Task Aggregating_windows_match_the_general_operator_on_random_processing_time_input([Range(1, 20)] int seed)
    {
        var random = new Random(1000 + seed);
        var (sql, options) = RandomRule(random, eventTime: false);
        var events = RandomEvents(random, 200, disorder: 0);
        var incremental = await RunAsync(sql, options, events, generalOnly: false);
        var general = await RunAsync(sql, options, events, generalOnly: true);
        Assert.That(Rounded(incremental.Json), Is.EqualTo(Rounded(general.Json)), $"seed {seed}: {sql}");
        Assert.That(incremental.Aggregating, Is.True);
    }

    [Test]
    public async Task An_aggregate_filter_counts_only_the_rows_that_meet_it_in_both_operators()
    {
        var events = new List<Dictionary<string, object?>>
        {
            new() { ["k"] = 1L, ["v"] = 10.0, ["n"] = 1L, ["ts"] = T0 + 100 },
            new() { ["k"] = 1L, ["v"] = 60.0, ["n"] = 2L, ["ts"] = T0 + 200 },
            new() { ["k"] = 2L, ["v"] = 70.0, ["n"] = 3L, ["ts"] = T0 + 300 },
            new() { ["k"] = 1L, ["v"] = 80.0, ["n"] = 4L, ["ts"] = T0 + 400 },
            new() { ["k"] = 2L, ["v"] = 5.0, ["n"] = 5L, ["ts"] = T0 + 2_500 },
        };
        const string Sql = "SELECT k, count(*) FILTER (WHERE v > 50) AS hi, sum(n) FILTER (WHERE v < 50) AS lo, collect(n) FILTER (WHERE n > 1) AS ns "
            + "FROM s GROUP BY k, TUMBLINGWINDOW(ss, 1) ORDER BY k";
        var options = new RuleOptions { IsEventTime = true };
        var incremental = await RunAsync(Sql, options, events, generalOnly: false);
        var general = await RunAsync(Sql, options, events, generalOnly: true);
        Assert.That(incremental.Aggregating, Is.True);
        Assert.That(incremental.Json, Is.EqualTo("""[[{"k":1,"hi":2,"lo":1,"ns":[2,4]},{"k":2,"hi":1,"ns":[3]}],[]]"""), "the second window, [T0+1000, T0+2000), is empty");
        Assert.That(general.Json, Is.EqualTo(incremental.Json));
    }

    [Test]
    public async Task A_failing_aggregate_fails_the_window_the_same_way()
    {
        // A string among the numbers: sum fails the window in both operators with the same error row.
        var events = new List<Dictionary<string, object?>>
        {
            new() { ["k"] = 1L, ["n"] = 1L, ["ts"] = T0 + 100 },
            new() { ["k"] = 1L, ["v"] = 2.5, ["ts"] = T0 + 200 },
            new() { ["k"] = 2L, ["n"] = 3L, ["ts"] = T0 + 1_500 },
            new() { ["k"] = 2L, ["n"] = 4L, ["ts"] = T0 + 3_000 },
        };
        const string Sql = "SELECT k, sum(n) AS s, max(v) AS m FROM s GROUP BY k, TUMBLINGWINDOW(ss, 1)";
        var options = new RuleOptions { IsEventTime = true, SendError = true };
        var schemaless = "CREATE STREAM s () WITH (DATASOURCE=\"s\", TIMESTAMP=\"ts\")";
        events[1]["n"] = "x";
        var incremental = await RunAsync(Sql, options, events, generalOnly: false, schemaless);
        var general = await RunAsync(Sql, options, events, generalOnly: true, schemaless);
        Assert.That(incremental.Json, Is.EqualTo(general.Json));
        Assert.That(incremental.Json, Does.Contain("run Select error: run sum function error: requires number but found string(x)"));
    }

    /// <summary>
    /// The emissions with every float rounded to 10 significant digits: merging panes adds partial sums in another
    /// order than adding rows one by one, which may change the last bits of a float (never an integer).
    /// </summary>
    private static string Rounded(string json) => System.Text.RegularExpressions.Regex.Replace(
        json,
        @"-?\d+\.\d+(?:[eE][-+]?\d+)?",
        m => double.Parse(m.Value, System.Globalization.CultureInfo.InvariantCulture).ToString("G10", System.Globalization.CultureInfo.InvariantCulture));

    private static (string Sql, RuleOptions Options) RandomRule(Random random, bool eventTime)
    {
        var unit = random.Next(3) switch { 0 => ("ms", 1L), 1 => ("ms", 1L), _ => ("ss", 1000L) };
        var hopping = random.Next(2) == 0;
        var length = unit.Item1 == "ss" ? random.Next(1, 4) : random.Next(2, 9) * 50;
        var hop = unit.Item1 == "ss" ? random.Next(1, 4) : random.Next(1, 9) * 50;
        var window = hopping ? $"HOPPINGWINDOW({unit.Item1}, {length}, {hop})" : $"TUMBLINGWINDOW({unit.Item1}, {length})";
        var keyed = random.Next(3) != 0;
        var picked = Aggregates.OrderBy(_ => random.Next()).Take(random.Next(1, 6)).Prepend(Aggregates[random.Next(Aggregates.Length - 2)]).Distinct().ToList();
        var select = string.Join(", ", (keyed ? new[] { "k" } : []).Concat(picked));
        var where = !eventTime && random.Next(3) == 0 ? " WHERE n > 2" : string.Empty;
        var filter = random.Next(4) == 0 ? " FILTER (WHERE k != 3)" : string.Empty;
        var having = random.Next(3) == 0 ? " HAVING count(*) > 1" : string.Empty;
        var order = keyed && random.Next(2) == 0 ? " ORDER BY k DESC" : keyed ? " ORDER BY k" : string.Empty;
        var limit = random.Next(4) == 0 ? " LIMIT 2" : string.Empty;
        var sql = $"SELECT {select} FROM s{where} GROUP BY {(keyed ? "k, " : string.Empty)}{window}{filter}{having}{order}{limit}";
        var options = new RuleOptions { IsEventTime = eventTime, LateTolerance = TimeSpan.FromMilliseconds(eventTime ? random.Next(0, 60) : 0) };
        return (sql, options);
    }

    private static List<Dictionary<string, object?>> RandomEvents(Random random, int count, int disorder)
    {
        var events = new List<Dictionary<string, object?>>(count);
        var time = T0 + random.Next(0, 1000);
        for (var i = 0; i < count; i++)
        {
            time += random.Next(0, 40);
            var row = new Dictionary<string, object?> { ["k"] = (long)random.Next(1, 5), ["ts"] = time - random.Next(0, disorder + 1) };
            if (random.Next(6) != 0)
            {
                row["v"] = Math.Round(random.NextDouble() * 100, 2);
            }

            if (random.Next(6) != 0)
            {
                row["n"] = (long)random.Next(-5, 20);
            }

            events.Add(row);
        }

        return events;
    }

    private static async Task<(string Json, bool Aggregating)> RunAsync(
        string sql, RuleOptions options, List<Dictionary<string, object?>> events, bool generalOnly, string stream = Stream)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(T0));
        var engine = new EdgeStreamEngine(new EdgeStreamEngineOptions { TimeProvider = clock, TimeZone = TimeZoneInfo.Utc, GeneralWindowsOnly = generalOnly });
        await using (engine)
        {
            engine.Execute(stream);
            var rule = new RuleDefinition("r", sql);
            rule.Actions.Add(new RuleAction("memory", new Dictionary<string, string> { ["topic"] = "out" }));
            (rule.Options.IsEventTime, rule.Options.LateTolerance, rule.Options.SendError) = (options.IsEventTime, options.LateTolerance, options.SendError);
            var emissions = new List<IReadOnlyList<IReadOnlyDictionary<string, object?>>>();
            using var subscription = engine.Memory.Subscribe("out", (rows, _) =>
            {
                lock (emissions)
                {
                    emissions.Add(rows);
                }

                return ValueTask.CompletedTask;
            });
            await engine.CreateRuleAsync(rule);
            var aggregating = engine.IsAggregatingWindow("r");
            foreach (var e in events)
            {
                // Processing time: the clock follows the events (arrival = ts); event time: arrival order only matters.
                var at = (long)e["ts"]!;
                if (!options.IsEventTime && at > clock.GetUtcNow().ToUnixTimeMilliseconds())
                {
                    clock.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(at));
                }

                await engine.PublishAsync("s", e);
            }

            await engine.StopRuleAsync("r");
            var status = engine.GetRuleStatus("r");
            Assert.That(status.State, Is.EqualTo(RuleState.Stopped), $"generalOnly={generalOnly}: {status.LastError}; records in {status.RecordsIn} of {events.Count}");
            lock (emissions)
            {
                return (ResultJson.Write(emissions), aggregating);
            }
        }
    }
}
