using EdgeStream.Runtime;
using Microsoft.Extensions.Time.Testing;

namespace EdgeStream.Tests.Runtime;

/// <summary>
/// Hour and day windows on the wall clock of <see cref="EdgeStreamEngineOptions.TimeZone"/>: boundaries at local
/// midnight and local hours, across the daylight-saving changes of Europe/Berlin in 2026 (spring forward on 29 March,
/// fall back on 25 October).
/// </summary>
public sealed class WindowAlignmentTests
{
    private static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");

    private static long Utc(string iso) => DateTimeOffset.Parse(iso, System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds();

    private static WindowPlan Plan(string window) =>
        new(EdgeStream.Sql.Parsing.SqlParser.ParseSelect($"SELECT a FROM s GROUP BY {window}").GroupBy!.Window!, Berlin);

    /// <summary>The first <paramref name="count"/> boundaries after <paramref name="start"/>.</summary>
    private static long[] Ends(WindowPlan plan, long start, int count)
    {
        var ends = new long[count];
        ends[0] = plan.FirstEnd(start);
        for (var i = 1; i < count; i++)
        {
            ends[i] = plan.NextEnd(ends[i - 1]);
        }

        return ends;
    }

    [Test]
    public void A_day_window_ends_at_local_midnight_across_the_spring_change_a_23_hour_day()
    {
        var ends = Ends(Plan("TUMBLINGWINDOW(dd, 1)"), Utc("2026-03-28T12:00:00Z"), 3);
        Assert.That(ends, Is.EqualTo(new[]
        {
            Utc("2026-03-28T23:00:00Z"),    // 29 March 00:00 CET (+1)
            Utc("2026-03-29T22:00:00Z"),    // 30 March 00:00 CEST (+2): 23 hours later
            Utc("2026-03-30T22:00:00Z"),
        }));
    }

    [Test]
    public void An_hour_window_ends_at_both_occurrences_of_a_repeated_hour_and_each_covers_one_hour()
    {
        var plan = Plan("TUMBLINGWINDOW(hh, 1)");
        var ends = Ends(plan, Utc("2026-10-24T23:30:00Z"), 4);
        Assert.That(ends, Is.EqualTo(new[]
        {
            Utc("2026-10-25T00:00:00Z"),    // 02:00 CEST
            Utc("2026-10-25T01:00:00Z"),    // 02:00 CET, the repeated hour
            Utc("2026-10-25T02:00:00Z"),    // 03:00 CET
            Utc("2026-10-25T03:00:00Z"),
        }));
        Assert.That(ends.Select(plan.StartOf), Is.EqualTo(ends.Select(e => e - 3_600_000L)), "every window is one hour long");
    }

    [Test]
    public void An_hour_window_skips_the_hour_that_a_spring_change_leaves_out()
    {
        var plan = Plan("HOPPINGWINDOW(hh, 2, 1)");
        var ends = Ends(plan, Utc("2026-03-28T23:30:00Z"), 3);
        Assert.That(ends, Is.EqualTo(new[]
        {
            Utc("2026-03-29T00:00:00Z"),    // 01:00 CET
            Utc("2026-03-29T01:00:00Z"),    // 03:00 CEST: 02:00 does not exist
            Utc("2026-03-29T02:00:00Z"),    // 04:00 CEST
        }));
        Assert.That(plan.StartOf(ends[2]), Is.EqualTo(ends[0]), "two hops back along the local hours");
    }

    [Test]
    public void A_day_window_ends_at_local_midnight_across_the_autumn_change_a_25_hour_day()
    {
        var plan = Plan("TUMBLINGWINDOW(dd, 1)");
        var ends = Ends(plan, Utc("2026-10-24T12:00:00Z"), 3);
        Assert.That(ends, Is.EqualTo(new[]
        {
            Utc("2026-10-24T22:00:00Z"),    // 25 October 00:00 CEST (+2)
            Utc("2026-10-25T23:00:00Z"),    // 26 October 00:00 CET (+1): 25 hours later
            Utc("2026-10-26T23:00:00Z"),
        }));
        Assert.That(ends[1] - ends[0], Is.EqualTo(25 * 3_600_000L));
        Assert.That(plan.StartOf(ends[1]), Is.EqualTo(ends[0]), "the 25-hour window starts at the previous local midnight");
    }

    [Test]
    public void A_six_hour_window_ends_at_local_00_06_12_18_across_the_spring_change()
    {
        var ends = Ends(Plan("TUMBLINGWINDOW(hh, 6)"), Utc("2026-03-28T12:30:00Z"), 5); // 13:30 CET
        Assert.That(ends, Is.EqualTo(new[]
        {
            Utc("2026-03-28T17:00:00Z"),    // 18:00 CET
            Utc("2026-03-28T23:00:00Z"),    // 00:00 CET
            Utc("2026-03-29T04:00:00Z"),    // 06:00 CEST: a 5-hour window
            Utc("2026-03-29T10:00:00Z"),    // 12:00 CEST
            Utc("2026-03-29T16:00:00Z"),    // 18:00 CEST
        }));
    }

    [Test]
    public void A_six_hour_window_ends_at_local_00_06_12_18_across_the_autumn_change()
    {
        var plan = Plan("TUMBLINGWINDOW(hh, 6)");
        var ends = Ends(plan, Utc("2026-10-24T20:00:00Z"), 4); // 22:00 CEST
        Assert.That(ends, Is.EqualTo(new[]
        {
            Utc("2026-10-24T22:00:00Z"),    // 00:00 CEST
            Utc("2026-10-25T05:00:00Z"),    // 06:00 CET: a 7-hour window
            Utc("2026-10-25T11:00:00Z"),    // 12:00 CET
            Utc("2026-10-25T17:00:00Z"),    // 18:00 CET
        }));
        Assert.That(plan.StartOf(ends[1]), Is.EqualTo(ends[0]));
    }

    [Test]
    public void The_first_boundary_is_strictly_after_the_start_even_at_local_midnight()
    {
        var midnight = Utc("2026-03-28T23:00:00Z"); // 29 March 00:00 CET
        Assert.That(Plan("TUMBLINGWINDOW(dd, 1)").FirstEnd(midnight), Is.EqualTo(Utc("2026-03-29T22:00:00Z")));
        Assert.That(Plan("TUMBLINGWINDOW(hh, 6)").FirstEnd(midnight), Is.EqualTo(Utc("2026-03-29T04:00:00Z")));
    }

    private static async Task<(FakeTimeProvider Clock, EdgeStreamEngine Engine, List<IReadOnlyList<IReadOnlyDictionary<string, object?>>> Emissions, IDisposable Subscription)> StartBerlin(string window, long start)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(start));
        var engine = new EdgeStreamEngine(new EdgeStreamEngineOptions { TimeProvider = clock, TimeZone = Berlin });
        var emissions = new List<IReadOnlyList<IReadOnlyDictionary<string, object?>>>();
        var subscription = engine.Memory.Subscribe("out", (rows, _) =>
        {
            lock (emissions)
            {
                emissions.Add(rows);
            }

            return ValueTask.CompletedTask;
        });
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (DATASOURCE=\"in\", TYPE=\"memory\")");
        var rule = new RuleDefinition("r", $"SELECT collect(a) AS all, window_start() AS ws, window_end() AS we FROM s GROUP BY {window}");
        rule.Actions.Add(new RuleAction("memory", new Dictionary<string, string> { ["topic"] = "out" }));
        await engine.CreateRuleAsync(rule);
        return (clock, engine, emissions, subscription);
    }

    private static async Task At(FakeTimeProvider clock, EdgeStreamEngine engine, string iso, long a)
    {
        clock.SetUtcNow(DateTimeOffset.Parse(iso, System.Globalization.CultureInfo.InvariantCulture));
        await engine.PublishAsync("s", new Dictionary<string, object?> { ["a"] = a });
    }

    private static (long[] All, long Start, long End)[] Windows(List<IReadOnlyList<IReadOnlyDictionary<string, object?>>> emissions)
    {
        lock (emissions)
        {
            return emissions.Select(e => (((object?[])e[0]["all"]!).Select(v => (long)v!).ToArray(), (long)e[0]["ws"]!, (long)e[0]["we"]!)).ToArray();
        }
    }

    [Test]
    public async Task An_engine_in_Berlin_cuts_day_windows_at_local_midnight_across_the_spring_change()
    {
        var (clock, engine, emissions, subscription) = await StartBerlin("TUMBLINGWINDOW(dd, 1)", Utc("2026-03-28T12:00:00Z"));
        await using (engine)
        using (subscription)
        {
            await At(clock, engine, "2026-03-28T20:00:00Z", 1);
            await At(clock, engine, "2026-03-28T22:59:59Z", 2);     // 23:59:59 CET: still 28 March
            await At(clock, engine, "2026-03-28T23:00:00Z", 3);     // 00:00 CET: 29 March
            await At(clock, engine, "2026-03-29T21:59:00Z", 4);     // 23:59 CEST
            await At(clock, engine, "2026-03-29T22:30:00Z", 5);     // 00:30 CEST on 30 March
            await engine.StopRuleAsync("r");

            Assert.That(Windows(emissions), Is.EqualTo(new[]
            {
                (new long[] { 1, 2 }, Utc("2026-03-27T23:00:00Z"), Utc("2026-03-28T23:00:00Z")),
                (new long[] { 3, 4 }, Utc("2026-03-28T23:00:00Z"), Utc("2026-03-29T22:00:00Z")),
            }));
        }
    }

    [Test]
    public async Task An_engine_in_Berlin_cuts_six_hour_windows_at_local_00_06_12_18()
    {
        var (clock, engine, emissions, subscription) = await StartBerlin("TUMBLINGWINDOW(hh, 6)", Utc("2026-03-28T12:30:00Z"));
        await using (engine)
        using (subscription)
        {
            await At(clock, engine, "2026-03-28T16:00:00Z", 1);     // 17:00 CET
            await At(clock, engine, "2026-03-28T18:00:00Z", 2);     // 19:00 CET
            await At(clock, engine, "2026-03-29T03:00:00Z", 3);     // 05:00 CEST
            await At(clock, engine, "2026-03-29T04:00:00Z", 4);     // 06:00 CEST
            await At(clock, engine, "2026-03-29T10:30:00Z", 5);     // 12:30 CEST
            await engine.StopRuleAsync("r");

            Assert.That(Windows(emissions), Is.EqualTo(new[]
            {
                (new long[] { 1 }, Utc("2026-03-28T11:00:00Z"), Utc("2026-03-28T17:00:00Z")),
                (new long[] { 2 }, Utc("2026-03-28T17:00:00Z"), Utc("2026-03-28T23:00:00Z")),
                (new long[] { 3 }, Utc("2026-03-28T23:00:00Z"), Utc("2026-03-29T04:00:00Z")),
                (new long[] { 4 }, Utc("2026-03-29T04:00:00Z"), Utc("2026-03-29T10:00:00Z")),
            }));
        }
    }
}
