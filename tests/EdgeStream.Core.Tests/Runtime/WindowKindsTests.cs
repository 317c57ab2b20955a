using EdgeStream.Tests.Support;

namespace EdgeStream.Tests.Runtime;

/// <summary>Session, count (with a hop) and delayed sliding windows on a fake processing-time clock.</summary>
public sealed class WindowKindsTests
{
    private const long T0 = 1_541_152_486_000; // a whole second, 46 s into its minute

    private const string Stream = "CREATE STREAM s (a BIGINT) WITH (DATASOURCE=\"in\", TYPE=\"memory\")";

    private const string Collect = "SELECT collect(a) AS all, window_start() AS ws, window_end() AS we FROM s GROUP BY ";

    private static Task At(ClockedRule rule, long time, long a) => rule.At(time, new Dictionary<string, object?> { ["a"] = a });

    /// <summary>Each emission's one result row as (collected values, window start, window end).</summary>
    private static (long[] All, long Start, long End)[] Windows(ClockedRule rule) =>
        rule.Emissions.Select(e =>
        {
            Assert.That(e, Has.Count.EqualTo(1), "one aggregate row per window");
            var row = e[0];
            return (((object?[])row["all"]!).Select(v => (long)v!).ToArray(), (long)row["ws"]!, (long)row["we"]!);
        }).ToArray();

    [Test]
    public async Task A_session_that_reaches_its_maximum_length_is_cut_at_the_aligned_tick_and_the_rest_starts_there()
    {
        // Ticks every 2 s inside the minute: T0+2000 (:48), T0+4000 (:50), T0+6000 (:52).
        await using var rule = await ClockedRule.StartAsync(Collect + "SESSIONWINDOW(ss, 2, 1)", T0, Stream);
        var a = 0L;
        for (var offset = 100L; offset <= 4_600; offset += 500)
        {
            await At(rule, T0 + offset, ++a); // rows 1..10 at +100, +600, …, +4600: never a 1 s gap
        }

        await rule.AdvanceUntil(T0 + 5_900, () => rule.Emissions.Count >= 2, "the timeout after the last row");
        await rule.StopAsync();

        Assert.That(Windows(rule), Is.EqualTo(new[]
        {
            // At :48 the first row is only 1.9 s old; at :50 it is 3.9 s old, so the tick cuts the session.
            (new long[] { 1, 2, 3, 4, 5, 6, 7, 8 }, T0 + 100, T0 + 4_000),

            // The rest starts at the tick and ends 1 s after its last row (+4600), before the :52 tick.
            (new long[] { 9, 10 }, T0 + 4_000, T0 + 5_600),
        }));
    }

    [Test]
    public async Task A_session_closes_when_its_timeout_passes_without_a_row()
    {
        // SESSIONWINDOW(ss, 10, 1): the first max-length tick is at :50 (T0+4000), after the timeout.
        await using var rule = await ClockedRule.StartAsync(Collect + "SESSIONWINDOW(ss, 10, 1)", T0, Stream);
        await At(rule, T0 + 100, 1);
        await At(rule, T0 + 500, 2);
        await At(rule, T0 + 1_200, 3);

        await rule.AdvanceUntil(T0 + 3_900, () => rule.Emissions.Count >= 1, "the session's timeout");
        await rule.StopAsync();

        Assert.That(Windows(rule), Is.EqualTo(new[] { (new long[] { 1, 2, 3 }, T0 + 100, T0 + 2_200) }));
    }

    [Test]
    public async Task Two_sessions_separated_by_a_gap_longer_than_the_timeout_are_emitted_separately()
    {
        await using var rule = await ClockedRule.StartAsync(Collect + "SESSIONWINDOW(ss, 10, 1)", T0, Stream);
        await At(rule, T0 + 100, 1);
        await At(rule, T0 + 600, 2);
        await At(rule, T0 + 2_000, 3);   // 1.4 s after the last row: the first session timed out at +1600
        await At(rule, T0 + 2_500, 4);

        await rule.AdvanceUntil(T0 + 3_900, () => rule.Emissions.Count >= 2, "the second session's timeout"); // before the :50 tick
        await rule.StopAsync();

        Assert.That(Windows(rule), Is.EqualTo(new[]
        {
            (new long[] { 1, 2 }, T0 + 100, T0 + 1_600),
            (new long[] { 3, 4 }, T0 + 2_000, T0 + 3_500),
        }));
    }

    [TestCase(3, 1, 5, new long[] { 1, 2, 3 }, new long[] { 2, 3, 4 }, new long[] { 3, 4, 5 })]
    [TestCase(4, 2, 8, new long[] { 1, 2, 3, 4 }, new long[] { 3, 4, 5, 6 }, new long[] { 5, 6, 7, 8 })]
    public async Task A_count_window_with_a_hop_emits_the_last_n_rows_every_m_rows_once_n_have_arrived(int size, int hop, int rows, long[] first, long[] second, long[] third)
    {
        await using var rule = await ClockedRule.StartAsync($"SELECT a FROM s GROUP BY COUNTWINDOW({size}, {hop})", T0, Stream);
        for (var a = 1L; a <= rows; a++)
        {
            await At(rule, T0 + (a * 10), a);
        }

        await rule.StopAsync();
        var emitted = rule.Emissions.Select(e => e.Select(r => (long)r["a"]!).ToArray()).ToArray();
        Assert.That(emitted, Is.EqualTo(new[] { first, second, third }));
    }

    [Test]
    public void A_count_window_whose_hop_exceeds_its_size_is_refused()
    {
        Assert.That(() => EdgeStream.Sql.Parsing.SqlParser.ParseStatement("SELECT a FROM s GROUP BY COUNTWINDOW(3, 5)"),
            Throws.InstanceOf<SqlException>().With.Message.Contains("the second parameter value 5 should be less than the first parameter 3"));
    }

    [Test]
    public async Task A_count_window_reports_the_times_of_its_first_and_last_rows()
    {
        await using var rule = await ClockedRule.StartAsync(Collect + "COUNTWINDOW(3, 1)", T0, Stream);
        for (var a = 1L; a <= 4; a++)
        {
            await At(rule, T0 + (a * 100), a);
        }

        await rule.StopAsync();
        Assert.That(Windows(rule), Is.EqualTo(new[]
        {
            (new long[] { 1, 2, 3 }, T0 + 100, T0 + 300),
            (new long[] { 2, 3, 4 }, T0 + 200, T0 + 400),
        }));
    }

    [Test]
    public async Task A_delayed_sliding_window_emits_after_the_delay_over_the_length_before_the_trigger_and_the_delay_after_it()
    {
        const long start = 1_000_000;
        await using var rule = await ClockedRule.StartAsync(Collect + "SLIDINGWINDOW(ss, 2, 1) OVER (WHEN a >= 10)", start, Stream);
        await At(rule, start, 0);               // exactly at trigger - length: outside (t - L, t + D]
        await At(rule, start + 500, 1);
        await At(rule, start + 1_500, 2);
        await At(rule, start + 2_000, 10);      // trigger: fires at +3000 over (+0, +3000]
        await At(rule, start + 2_500, 3);       // after the trigger, within the delay: included
        await At(rule, start + 3_000, 4);       // exactly at the deadline: the window fires first, without it
        await At(rule, start + 3_500, 11);      // trigger: fires at +4500 over (+1500, +4500]

        await rule.AdvanceUntil(start + 6_000, () => rule.Emissions.Count >= 2, "the second trigger's delayed window (on the timer)");
        await rule.StopAsync();

        Assert.That(Windows(rule), Is.EqualTo(new[]
        {
            (new long[] { 1, 2, 10, 3 }, start, start + 3_000),
            (new long[] { 10, 3, 4, 11 }, start + 1_500, start + 4_500),
        }));
    }

    [Test]
    public async Task A_delayed_sliding_window_does_not_fire_before_its_delay_has_passed()
    {
        const long start = 1_000_000;
        await using var rule = await ClockedRule.StartAsync(Collect + "SLIDINGWINDOW(ss, 2, 1)", start, Stream);
        await At(rule, start + 100, 1);         // a trigger (no OVER): due at +1100
        await At(rule, start + 1_099, 2);       // a trigger, due at +2099; nothing due yet
        await rule.StopAsync();                 // the rule's input is drained: the pending windows never fired

        Assert.That(rule.Emissions, Is.Empty);
    }
}
