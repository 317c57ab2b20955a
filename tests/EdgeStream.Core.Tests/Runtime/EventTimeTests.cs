using EdgeStream.Tests.Support;

namespace EdgeStream.Tests.Runtime;

/// <summary>Event-time windows behind a watermark: reordering within the late tolerance, late rows, boundaries, the idle timeout.</summary>
public sealed class EventTimeTests
{
    private const long M = 1_700_000_040_000;      // a whole minute: TUMBLINGWINDOW(ss, 10) windows are [M + 10k s, M + 10(k+1) s)
    private const long Clock0 = 1_800_000_000_000;  // the processing clock: unrelated to the event times

    private const string Stream = "CREATE STREAM s (id BIGINT, ts BIGINT) WITH (DATASOURCE=\"in\", TYPE=\"memory\", TIMESTAMP=\"ts\")";

    private const string Sql = "SELECT collect(id) AS ids, window_start() AS ws, window_end() AS we FROM s GROUP BY TUMBLINGWINDOW(ss, 10)";

    private static Task<ClockedRule> Start(TimeSpan tolerance, TimeSpan? idle = null) =>
        ClockedRule.StartAsync(Sql, Clock0, Stream, options: o =>
        {
            o.IsEventTime = true;
            o.LateTolerance = tolerance;
            o.WatermarkIdleTimeout = idle;
        });

    /// <summary>Sends rows (id, event time offset from <see cref="M"/>), 100 ms apart on the processing clock.</summary>
    private static async Task Send(ClockedRule rule, params (long Id, long Offset)[] rows)
    {
        foreach (var (id, offset) in rows)
        {
            var now = rule.Clock.GetUtcNow().ToUnixTimeMilliseconds();
            await rule.At(now + 100, new Dictionary<string, object?> { ["id"] = id, ["ts"] = M + offset });
        }
    }

    private static (long[] Ids, long Start, long End)[] Windows(ClockedRule rule) =>
        rule.Emissions.Select(e =>
        {
            Assert.That(e, Has.Count.EqualTo(1), "one aggregate row per window");
            return (((object?[])e[0]["ids"]!).Select(v => (long)v!).ToArray(), (long)e[0]["ws"]!, (long)e[0]["we"]!);
        }).ToArray();

    private static long Metric(ClockedRule rule, string name) =>
        rule.Engine.GetRuleStatus("r").Metrics.TryGetValue(name, out var value) ? value : 0;

    [Test]
    public async Task Rows_out_of_order_within_the_tolerance_are_reordered_into_their_windows()
    {
        await using var rule = await Start(TimeSpan.FromSeconds(1));
        await Send(rule,
            (1, 1_000),
            (2, 5_000),
            (3, 9_500),     // watermark 8,500
            (4, 9_000),     // out of order but not late: before 3, in the first window
            (5, 10_500),    // watermark 9,500: the first window (end 10,000) stays open
            (6, 10_200),    // out of order, in the second window
            (7, 11_200),    // watermark 10,200: the first window closes
            (8, 21_500));   // watermark 20,500: the second window closes
        var status = await rule.StopAsync();

        var windows = Windows(rule);
        Assert.That(windows.Select(w => (w.Ids, w.End)), Is.EqualTo(new[]
        {
            (new long[] { 1, 2, 4, 3 }, M + 10_000),
            (new long[] { 6, 5, 7 }, M + 20_000),
        }));
        Assert.That(windows[1].Start, Is.EqualTo(M + 10_000));
        Assert.That(status.Metrics["op_3_watermark_0_late_total"], Is.Zero);
    }

    [Test]
    public async Task A_row_older_than_the_watermark_is_late_counted_and_dead_lettered_never_windowed()
    {
        await using var rule = await Start(TimeSpan.FromSeconds(1));
        var letters = new List<IReadOnlyDictionary<string, object?>>();
        using var deadLetters = rule.Engine.Memory.Subscribe(EdgeStreamEngine.DeadLetterTopic, (rows, _) =>
        {
            lock (letters)
            {
                letters.AddRange(rows);
            }

            return ValueTask.CompletedTask;
        });

        await Send(rule,
            (1, 1_000),
            (2, 9_000),
            (3, 11_500),    // watermark 10,500: the first window closes
            (4, 9_400),     // 1.1 s before the watermark: late (the tolerance was 1 s)
            (5, 10_600),    // after the watermark: in time
            (6, 21_000));   // watermark 20,000: the second window closes
        await Wait.Until(() => { lock (letters) { return letters.Count >= 1; } }, "the late row's dead letter");
        var status = await rule.StopAsync();

        Assert.That(Windows(rule).Select(w => (w.Ids, w.End)), Is.EqualTo(new[]
        {
            (new long[] { 1, 2 }, M + 10_000),
            (new long[] { 5, 3 }, M + 20_000),
        }));
        Assert.That(status.Metrics["op_3_watermark_0_late_total"], Is.EqualTo(1));
        lock (letters)
        {
            Assert.That(letters, Has.Count.EqualTo(1));
            Assert.That((string)letters[0]["error"]!, Does.StartWith("late event"));
            Assert.That(((IReadOnlyDictionary<string, object?>)letters[0]["payload"]!)["id"], Is.EqualTo(4L));
            Assert.That(letters[0]["rule"], Is.EqualTo("r"));
        }
    }

    [Test]
    public async Task A_row_exactly_on_a_window_end_belongs_to_the_next_window()
    {
        await using var rule = await Start(TimeSpan.Zero);
        await Send(rule,
            (1, 5_000),
            (2, 10_000),    // == the first window's end: the watermark reaches 10,000 and closes it without this row
            (3, 20_000));
        await rule.StopAsync();

        Assert.That(Windows(rule).Select(w => (w.Ids, w.End)), Is.EqualTo(new[]
        {
            (new long[] { 1 }, M + 10_000),
            (new long[] { 2 }, M + 20_000),
        }));
    }

    [Test]
    public async Task A_row_at_the_watermark_itself_is_not_late()
    {
        await using var rule = await Start(TimeSpan.FromSeconds(1));
        await Send(rule,
            (1, 3_000),     // watermark 2,000
            (2, 2_000),     // == the watermark: in time
            (3, 12_000));   // watermark 11,000: the first window closes
        var status = await rule.StopAsync();

        Assert.That(Windows(rule).Select(w => w.Ids), Is.EqualTo(new[] { new long[] { 2, 1 } }));
        Assert.That(status.Metrics["op_3_watermark_0_late_total"], Is.Zero);
    }

    [Test]
    public async Task A_delayed_sliding_window_under_event_time_fires_at_trigger_plus_delay_without_a_row_at_that_time()
    {
        await using var rule = await ClockedRule.StartAsync(
            "SELECT collect(id) AS ids, window_start() AS ws, window_end() AS we FROM s GROUP BY SLIDINGWINDOW(ss, 2, 1) OVER (WHEN id >= 10)",
            Clock0, Stream, options: o => o.IsEventTime = true);
        await Send(rule,
            (1, 1_000),     // exactly trigger - length: outside (t - L, t + D]
            (2, 1_500),
            (10, 3_000),    // the trigger: its window is (1,000, 4,000]
            (3, 3_500),     // within the delay: included
            (4, 4_000),     // exactly at the deadline: the window fires before this row enters
            (5, 6_000));
        await rule.StopAsync();

        Assert.That(Windows(rule), Is.EqualTo(new[] { (new long[] { 2, 10, 3 }, M + 1_000, M + 4_000) }));
    }

    [Test]
    public async Task With_an_idle_timeout_a_quiet_source_lets_the_watermark_close_the_last_window()
    {
        await using var rule = await Start(TimeSpan.Zero, idle: TimeSpan.FromSeconds(2));
        await Send(rule, (1, 1_000), (2, 4_000));
        await Wait.Until(() => Metric(rule, "op_3_watermark_0_records_out_total") == 2, "both rows passed the watermark");
        Assert.That(rule.Emissions, Is.Empty, "the window is open until the watermark passes 10,000");

        // Quiet on the clock: every 2 s the watermark moves on by the quiet time, until it passes the window's end (6 s).
        var quietFrom = rule.Clock.GetUtcNow().ToUnixTimeMilliseconds();
        await rule.AdvanceUntil(quietFrom + 20_000, () => rule.Emissions.Count >= 1, "the idle watermark closing the window", stepMs: 500);
        Assert.That(rule.Clock.GetUtcNow().ToUnixTimeMilliseconds() - quietFrom, Is.GreaterThanOrEqualTo(6_000), "the watermark (4,000) moved by the quiet time only");
        await rule.StopAsync();

        Assert.That(Windows(rule).Select(w => (w.Ids, w.End)), Is.EqualTo(new[] { (new long[] { 1, 2 }, M + 10_000) }));
    }

    [Test]
    public async Task Without_an_idle_timeout_the_last_window_waits_for_the_next_row_however_long_the_clock_runs()
    {
        await using var rule = await Start(TimeSpan.Zero);
        await Send(rule, (1, 1_000), (2, 4_000));
        await Wait.Until(() => Metric(rule, "op_3_watermark_0_records_out_total") == 2, "both rows passed the watermark");

        for (var hour = 0; hour < 24; hour++)
        {
            rule.Clock.Advance(TimeSpan.FromHours(1));
        }

        await Task.Delay(200);
        Assert.That(rule.Emissions, Is.Empty, "only a row moves the watermark");

        await Send(rule, (3, 10_000));
        await rule.StopAsync();
        Assert.That(Windows(rule).Select(w => (w.Ids, w.End)), Is.EqualTo(new[] { (new long[] { 1, 2 }, M + 10_000) }));
    }
    [Test]
    public async Task An_event_time_out_of_range_is_reported_and_the_rule_goes_on()
    {
        await using var rule = await ClockedRule.StartAsync(Sql, Clock0, Stream, options: o => (o.IsEventTime, o.SendError) = (true, true));
        await Send(rule, (1, 100));
        await rule.At(Clock0 + 10_000, new Dictionary<string, object?> { ["id"] = 2L, ["ts"] = 1_700_000_040_000_000L }); // µs by mistake
        await Send(rule, (3, 10_100));
        var status = await rule.StopAsync();

        Assert.That(rule.Emissions, Has.Count.EqualTo(2), "the error, then the first window");
        Assert.That(rule.Emissions[0][0]["error"] as string, Does.Contain("is out of range"));
        Assert.That(rule.Emissions[1][0]["ids"], Is.EqualTo(new object[] { 1L }));
        Assert.That(status.State, Is.EqualTo(RuleState.Stopped));
    }

    [Test]
    public async Task A_jump_far_ahead_sends_a_bounded_number_of_empty_windows()
    {
        await using var rule = await Start(TimeSpan.Zero);
        await Send(rule, (1, 100), (2, 10_100));
        await Send(rule, (3, 100_000_000_000)); // event time 3 years later: ten million windows of 10 s in between
        await rule.StopAsync();

        var emissions = rule.Emissions;
        Assert.That(emissions.Count, Is.InRange(3, 1_002), "the two windows with rows, then at most 1,000 empty ones");
        Assert.That(emissions[0][0]["ids"], Is.EqualTo(new object[] { 1L }));
        Assert.That(emissions[1][0]["ids"], Is.EqualTo(new object[] { 2L }));
        Assert.That(emissions.Skip(2).All(e => e.Count == 0), Is.True, "the rest are empty windows");
    }
    [Test]
    public async Task A_string_timestamp_is_read_with_the_streams_timestamp_format()
    {
        const string Formatted = "CREATE STREAM s (id BIGINT, ts STRING) WITH (DATASOURCE=\"in\", TYPE=\"memory\", TIMESTAMP=\"ts\", TIMESTAMP_FORMAT=\"YYYY-MM-dd HH:mm:ss.SSS\")";
        await using var rule = await ClockedRule.StartAsync(Sql, Clock0, Formatted, options: o => (o.IsEventTime, o.SendError) = (true, true));
        string[] times = ["2023-11-14 22:14:00.100", "2023-11-14 22:14:05.000", "not a time", "2023-11-14 22:14:10.001"];
        for (var i = 0; i < times.Length; i++)
        {
            await rule.At(Clock0 + (i * 100), new Dictionary<string, object?> { ["id"] = (long)(i + 1), ["ts"] = times[i] });
        }

        await rule.StopAsync();

        // 2023-11-14 22:14:00 UTC is M (1,700,000,040,000): ids 1 and 2 fall in [M, M + 10 s); id 4 closes that window.
        Assert.That(rule.Emissions, Has.Count.EqualTo(2));
        Assert.That(rule.Emissions[0][0]["error"] as string, Does.Contain("as an event time"));
        Assert.That(rule.Emissions[1][0]["ids"], Is.EqualTo(new object[] { 1L, 2L }));
        Assert.That(rule.Emissions[1][0]["we"], Is.EqualTo(M + 10_000));
    }
}
