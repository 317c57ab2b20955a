using EdgeStream.Runtime;
using EdgeStream.Tests.Support;

namespace EdgeStream.Tests.Runtime;

/// <summary>Processing-time tumbling and hopping windows on a fake clock: alignment, content, ORDER BY, LIMIT.</summary>
public sealed class WindowTests
{
    private const long T0 = 1_541_152_486_000; // a whole second, 46 s into its minute

    [TestCase("TUMBLINGWINDOW(ss, 1)", T0 + 500, T0 + 1_000)]
    [TestCase("TUMBLINGWINDOW(ss, 1)", T0, T0 + 1_000)]              // strictly after the start
    [TestCase("TUMBLINGWINDOW(ss, 10)", T0, T0 + 4_000)]             // the next multiple of 10 s inside the minute: :50
    [TestCase("HOPPINGWINDOW(ss, 10, 5)", T0 + 1_000, T0 + 4_000)]   // hops align: :50
    [TestCase("TUMBLINGWINDOW(mi, 1)", T0, T0 + 14_000)]             // the next whole minute
    [TestCase("TUMBLINGWINDOW(ms, 300)", T0 + 100, T0 + 200)]       // multiples of 300 ms from the minute start (46,200 ms into it)
    public void A_window_first_fires_at_the_next_aligned_boundary(string window, long start, long firstEnd)
    {
        var statement = EdgeStream.Sql.Parsing.SqlParser.ParseSelect($"SELECT a FROM s GROUP BY {window}");
        Assert.That(new WindowPlan(statement.GroupBy!.Window!).FirstEnd(start), Is.EqualTo(firstEnd));
    }

    private const string Stream = "CREATE STREAM s (a BIGINT) WITH (DATASOURCE=\"in\", TYPE=\"memory\")";

    private static Task At(ClockedRule rule, long time, long a) => rule.At(time, new Dictionary<string, object?> { ["a"] = a });

    private static long[][] Values(List<IReadOnlyList<IReadOnlyDictionary<string, object?>>> emissions) =>
        emissions.Select(e => e.Select(r => (long)r["a"]!).ToArray()).ToArray();

    [Test]
    public async Task A_tumbling_window_emits_its_rows_each_second_and_an_empty_window_as_empty()
    {
        await using var rule = await ClockedRule.StartAsync("SELECT a FROM s WHERE a > 0 GROUP BY TUMBLINGWINDOW(ss, 1)", T0, Stream);
        await At(rule, T0 + 100, 1);
        await At(rule, T0 + 900, 0);     // filtered out before the window
        await At(rule, T0 + 999, 2);
        await At(rule, T0 + 1_000, 3);   // the next window: end-exclusive
        await At(rule, T0 + 3_500, 4);   // [T0+2000, T0+3000) had nothing
        var metrics = (await rule.StopAsync()).Metrics; // the open window is not flushed

        Assert.That(Values(rule.Emissions), Is.EqualTo(new[] { new long[] { 1, 2 }, [3], [] }));
        Assert.That((metrics["op_3_window_0_records_in_total"], metrics["op_3_window_0_records_out_total"]), Is.EqualTo((4L, 3L)));
    }

    [Test]
    public async Task A_hopping_window_holds_the_rows_of_its_whole_length()
    {
        await using var rule = await ClockedRule.StartAsync("SELECT a FROM s GROUP BY HOPPINGWINDOW(ss, 2, 1)", T0, Stream);
        await At(rule, T0 + 100, 1);
        await At(rule, T0 + 1_100, 2);
        await At(rule, T0 + 2_100, 3);
        await At(rule, T0 + 3_000, 4);
        await rule.StopAsync();

        // Windows end at +1 s, +2 s, +3 s, each holding the two seconds before.
        Assert.That(Values(rule.Emissions), Is.EqualTo(new[] { new long[] { 1 }, [1, 2], [2, 3] }));
    }

    [Test]
    public async Task Order_by_and_limit_apply_to_each_window()
    {
        await using var rule = await ClockedRule.StartAsync("SELECT a FROM s GROUP BY TUMBLINGWINDOW(ss, 1) ORDER BY a DESC LIMIT 2", T0, Stream);
        foreach (var (offset, a) in new[] { (100L, 5L), (200L, 9L), (300L, 1L), (400L, 7L) })
        {
            await At(rule, T0 + offset, a);
        }

        await At(rule, T0 + 1_200, 3);
        await rule.StopAsync();
        Assert.That(Values(rule.Emissions), Is.EqualTo(new[] { new long[] { 9, 7 } }));
    }

    [Test]
    public async Task Rows_are_placed_by_their_arrival_time_not_by_when_the_rule_gets_to_them()
    {
        await using var rule = await ClockedRule.StartAsync("SELECT a FROM s GROUP BY TUMBLINGWINDOW(ss, 1)", T0, Stream);
        await At(rule, T0 + 999, 1);
        rule.Clock.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(T0 + 1_500));   // the tick comes after the event
        await At(rule, T0 + 2_100, 2);
        await rule.StopAsync();
        Assert.That(Values(rule.Emissions), Is.EqualTo(new[] { new long[] { 1 }, [] }));
    }
}

public sealed class WindowAggregateTests
{
    private const long T0 = 1_541_152_486_000;

    private static async Task<List<IReadOnlyList<IReadOnlyDictionary<string, object?>>>> Run(string sql, params (long Offset, string Key, object? Value)[] events)
    {
        await using var rule = await ClockedRule.StartAsync(sql, T0, register: e => e.RegisterAggregateFunction("product", new EdgeStream.TestExtensions.ProductAggregate()));
        foreach (var (offset, key, value) in events)
        {
            await rule.At(T0 + offset, new Dictionary<string, object?> { ["k"] = key, ["v"] = value });
        }

        rule.Clock.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(T0 + 5_000));
        var status = await rule.StopAsync();
        Assert.That(status.State, Is.EqualTo(RuleState.Stopped), status.LastError);
        return rule.Emissions;
    }

    [Test]
    public async Task Aggregates_over_a_whole_window()
    {
        var emissions = await Run(
            "SELECT count(*) AS n, count(v) AS nv, sum(v) AS s, avg(v) AS a, min(v) AS lo, max(v) AS hi, collect(v) AS all, product(v) AS p, window_start() AS ws, window_end() AS we FROM s GROUP BY TUMBLINGWINDOW(ss, 1)",
            (100, "x", 3L), (200, "y", null), (300, "x", 4L), (400, "y", 6L));
        var row = emissions[0][0];
        Assert.Multiple(() =>
        {
            Assert.That((row["n"], row["nv"], row["s"], row["a"], row["lo"], row["hi"]), Is.EqualTo(((object?)4L, (object?)3L, (object?)13L, (object?)4L, (object?)3L, (object?)6L)));
            Assert.That(row["all"], Is.EqualTo(new object?[] { 3L, null, 4L, 6L }));
            Assert.That(row["p"], Is.EqualTo(72.0), "a user aggregate runs per window");
            Assert.That((row["ws"], row["we"]), Is.EqualTo(((object?)T0, (object?)(T0 + 1_000))));
        });
        Assert.That(emissions.Skip(1).All(e => e.Count == 0), Is.True, "later windows are empty");
    }

    [Test]
    public async Task Groups_by_key_with_having_and_order_by()
    {
        var emissions = await Run(
            "SELECT k, sum(v) AS total FROM s GROUP BY k, TUMBLINGWINDOW(ss, 1) HAVING count(*) > 1 ORDER BY total DESC",
            (100, "x", 1.5), (200, "y", 10L), (300, "x", 2L), (400, "z", 5L), (500, "z", 7L), (1_100, "x", 1L));
        Assert.That(emissions[0].Select(r => (r["k"], r["total"])), Is.EqualTo(new[] { ((object?)"z", (object?)12L), ("x", 3.5) }), "y has one row; sums of floats are floats");
        Assert.That(emissions, Has.Count.EqualTo(1), "a window where no group passes HAVING emits nothing");
    }
}

public sealed class CountWindowTests
{
    [Test]
    public async Task A_count_window_fires_every_n_rows_with_where_after_it_and_filter_before_it()
    {
        await using var rule = await ClockedRule.StartAsync(
            "SELECT collect(a) AS all, window_end() AS we FROM s WHERE a != 3 GROUP BY COUNTWINDOW(3) FILTER (WHERE a > 0)", 1_000_000);
        var time = 1_000_000L;
        foreach (var a in new long[] { 1, -1, 2, 3, 4, 5, 6 })
        {
            await rule.At(time += 10, new Dictionary<string, object?> { ["a"] = a });
        }

        await rule.StopAsync();
        var emissions = rule.Emissions;

        // -1 never enters (FILTER); windows of three: [1, 2, 3] then [4, 5, 6]; WHERE drops 3 afterwards.
        Assert.That(emissions.Select(e => (e[0]["all"], e[0]["we"])), Is.EqualTo(new[]
        {
            ((object?)new object?[] { 1L, 2L }, (object?)1_000_040L),
            (new object?[] { 4L, 5L, 6L }, 1_000_070L),
        }));
    }
}

public sealed class SlidingWindowTests
{
    [Test]
    public async Task A_sliding_window_fires_per_triggering_row_over_the_length_before_it()
    {
        await using var rule = await ClockedRule.StartAsync(
            "SELECT collect(a) AS all, window_start() AS ws, window_end() AS we FROM s WHERE a != 2 GROUP BY SLIDINGWINDOW(ss, 2) OVER (WHEN a >= 3)", 1_000_000);
        foreach (var (at, a) in new[] { (1_000_100L, 1L), (1_001_000L, 2L), (1_002_000L, 3L), (1_004_500L, 2L), (1_005_000L, 4L) })
        {
            await rule.At(at, new Dictionary<string, object?> { ["a"] = a });
        }

        await rule.StopAsync();
        var emissions = rule.Emissions;

        // 3 fires over (1,000,000 .. 1,002,000]: rows 1, 2, 3 with WHERE dropping 2; 4 fires over rows 2 (dropped) and 4.
        Assert.That(emissions.Select(e => (e[0]["all"], e[0]["ws"], e[0]["we"])), Is.EqualTo(new[]
        {
            ((object?)new object?[] { 1L, 3L }, (object?)1_000_000L, (object?)1_002_000L),
            (new object?[] { 4L }, 1_003_000L, 1_005_000L),
        }));
    }
}

public sealed class WindowFaultTests
{
    private sealed class ThrowingAggregate : IAggregateFunction
    {
        public int MinArguments => 1;

        public int MaxArguments => 1;

        public IAggregateAccumulator CreateAccumulator(FunctionContext context) => throw new InvalidOperationException("boom");
    }

    private static async Task<(List<IReadOnlyList<IReadOnlyDictionary<string, object?>>> Emissions, RuleStatus Status)> Run(string sql, params object?[] values)
    {
        await using var rule = await ClockedRule.StartAsync(
            sql, 1_000_000, register: e => e.RegisterAggregateFunction("explode", new ThrowingAggregate()), options: o => o.SendError = true);
        var time = 1_000_000L;
        foreach (var value in values)
        {
            await rule.At(time += 100, new Dictionary<string, object?> { ["v"] = value });
        }

        rule.Clock.Advance(TimeSpan.FromSeconds(2));
        var status = await rule.StopAsync();
        return (rule.Emissions, status);
    }

    [Test]
    public async Task Having_without_aggregates_filters_the_window_rows()
    {
        var (emissions, _) = await Run("SELECT v FROM s GROUP BY TUMBLINGWINDOW(ss, 1) HAVING v > 1", 1L, 5L, 2L);
        Assert.That(emissions[0].Select(r => r["v"]), Is.EqualTo(new object?[] { 5L, 2L }));
    }

    [Test]
    public async Task An_overflowing_sum_wraps_and_a_throwing_user_aggregate_fails_only_its_window()
    {
        var (sums, sumStatus) = await Run("SELECT sum(v) AS s FROM s GROUP BY TUMBLINGWINDOW(ss, 1)", long.MaxValue, 1L);
        Assert.That((sums[0][0]["s"], sumStatus.State), Is.EqualTo(((object?)long.MinValue, RuleState.Stopped)), "Go's int64 wraps around");

        var (exploded, status) = await Run("SELECT explode(v) AS x FROM s GROUP BY TUMBLINGWINDOW(ss, 1)", 1L);
        Assert.That(exploded[0][0]["error"], Is.EqualTo("run Select error: function `explode` failed: boom"));
        Assert.That(status.State, Is.EqualTo(RuleState.Stopped), "the rule kept running until it was stopped");
    }

    [Test]
    public async Task Drop_oldest_is_refused_for_window_rules()
    {
        await using var engine = new EdgeStreamEngine();
        engine.Execute("CREATE STREAM s (v BIGINT) WITH (DATASOURCE=\"in\", TYPE=\"memory\")");
        var rule = new RuleDefinition("w", "SELECT v FROM s GROUP BY TUMBLINGWINDOW(ss, 1)");
        rule.Options.DropOldestWhenFull = true;
        Assert.That(() => engine.CreateRuleAsync(rule), Throws.ArgumentException.With.Message.StartsWith("option `bufferFullPolicy` \"dropOldest\" is not supported for window rules yet"));
    }
}
