using EdgeStream.Tests.Support;

namespace EdgeStream.Tests.Compilation;

/// <summary>
/// The statistical and row aggregates over one count window holding every row sent (so the window is deterministic):
/// stddev/var (population and sample), median, percentiles, last_value, merge_agg, deduplicate; and HAVING with
/// last_agg_hit_count().
/// </summary>
public sealed class StatisticsAggregateTests
{
    private const long T0 = 1_541_152_486_000;
    private const double Tolerance = 1e-9;

    private static async Task<List<IReadOnlyList<IReadOnlyDictionary<string, object?>>>> Run(string sql, bool sendError, params IReadOnlyDictionary<string, object?>[] rows)
    {
        // sendNilField: a null result is an explicit null field, not a missing one.
        await using var rule = await ClockedRule.StartAsync(sql, T0, options: o => (o.SendError, o.SendNilField) = (sendError, true));
        var time = T0;
        foreach (var row in rows)
        {
            await rule.At(time += 10, row);
        }

        var status = await rule.StopAsync();
        Assert.That(status.State, Is.EqualTo(RuleState.Stopped), status.LastError);
        return rule.Emissions;
    }

    /// <summary>The one result row of a single window over all of <paramref name="values"/> (as column <c>v</c>).</summary>
    private static async Task<IReadOnlyDictionary<string, object?>> Aggregate(string select, params object?[] values)
    {
        var emissions = await Run($"SELECT {select} FROM s GROUP BY COUNTWINDOW({values.Length})", false,
            values.Select((v, i) => (IReadOnlyDictionary<string, object?>)new Dictionary<string, object?> { ["id"] = (long)i + 1, ["v"] = v }).ToArray());
        Assert.That(emissions, Has.Count.EqualTo(1));
        Assert.That(emissions[0], Has.Count.EqualTo(1));
        return emissions[0][0];
    }

    // 2, 4, 4, 4, 5, 5, 7, 9 shuffled, with a null that every aggregate skips: mean 5, squared deviations 32.
    private static readonly object?[] Sample = [5L, 2L, 9L, null, 4L, 7L, 4L, 5L, 4L];

    [Test]
    public async Task Population_and_sample_deviation_and_variance_skip_nulls()
    {
        var row = await Aggregate("stddev(v) AS sd, stddevs(v) AS sds, var(v) AS va, vars(v) AS vas", Sample);
        Assert.Multiple(() =>
        {
            Assert.That(row["sd"], Is.TypeOf<double>().And.EqualTo(2.0).Within(Tolerance), "population: sqrt(32 / 8)");
            Assert.That(row["va"], Is.EqualTo(4.0).Within(Tolerance), "population: 32 / 8");
            Assert.That(row["vas"], Is.EqualTo(32.0 / 7).Within(Tolerance), "sample: 32 / 7");
            Assert.That(row["sds"], Is.EqualTo(Math.Sqrt(32.0 / 7)).Within(Tolerance), "sample: sqrt(32 / 7)");
        });
    }

    [Test]
    public async Task Sample_statistics_of_one_value_are_null_and_population_ones_are_zero()
    {
        var row = await Aggregate("stddev(v) AS sd, stddevs(v) AS sds, var(v) AS va, vars(v) AS vas", 3L, null);
        Assert.That((row["sd"], row["va"], row["sds"], row["vas"]), Is.EqualTo(((object?)0.0, (object?)0.0, (object?)null, (object?)null)));
    }

    [Test]
    public async Task Floats_are_accepted_alongside_integers()
    {
        var row = await Aggregate("stddev(v) AS sd, median(v) AS m", 1L, 2.5, 4L);
        Assert.That(row["sd"], Is.EqualTo(Math.Sqrt(4.5 / 3)).Within(Tolerance));
        Assert.That(row["m"], Is.EqualTo(2.5).Within(Tolerance));
    }

    [Test]
    public async Task Median_of_an_even_count_interpolates_between_the_middle_two()
    {
        var row = await Aggregate("median(v) AS m", Sample);
        Assert.That(row["m"], Is.EqualTo(4.5).Within(Tolerance));
    }

    [Test]
    public async Task Median_of_an_odd_count_is_the_middle_value()
    {
        var row = await Aggregate("median(v) AS m", 10L, 1L, 7L);
        Assert.That(row["m"], Is.EqualTo(7.0).Within(Tolerance));
    }

    // Sorted: 2, 4, 4, 4, 5, 5, 7, 9 (n = 8). cont: index p * 7, interpolated; disc: index ceil(p * 8) - 1.
    [TestCase(0.0, 2.0, 2.0)]
    [TestCase(0.25, 4.0, 4.0)]       // cont index 1.75 between 4 and 4; disc index 1
    [TestCase(0.5, 4.5, 4.0)]        // cont index 3.5 between 4 and 5; disc index 3
    [TestCase(0.6, 5.0, 5.0)]        // cont index 4.2 between 5 and 5; disc index ceil(4.8) - 1 = 4
    [TestCase(0.9, 7.6, 9.0)]        // cont index 6.3 between 7 and 9; disc index ceil(7.2) - 1 = 7
    [TestCase(1.0, 9.0, 9.0)]
    public async Task Percentiles_interpolate_continuously_or_pick_a_discrete_value(double p, double cont, double disc)
    {
        var fraction = p.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        var row = await Aggregate($"percentile_cont(v, {fraction}) AS c, percentile_disc(v, {fraction}) AS d", Sample);
        Assert.That(row["c"], Is.EqualTo(cont).Within(Tolerance), "percentile_cont");
        Assert.That(row["d"], Is.EqualTo(disc).Within(Tolerance), "percentile_disc");
    }

    [Test]
    public async Task Percentile_cont_interpolates_linearly_between_unequal_neighbours()
    {
        var row = await Aggregate("percentile_cont(v, 0.3) AS c", 40L, 10L, 30L, 20L); // index 0.9 between 10 and 20
        Assert.That(row["c"], Is.EqualTo(19.0).Within(Tolerance));
    }

    [Test]
    public async Task Statistics_of_only_nulls_are_null()
    {
        var row = await Aggregate("stddev(v) AS sd, median(v) AS m, percentile_disc(v, 0.5) AS d", null, null);
        Assert.That((row["sd"], row["m"], row["d"]), Is.EqualTo(((object?)null, (object?)null, (object?)null)));
    }

    [Test]
    public async Task A_string_in_stddev_sends_an_error_row_when_send_error_is_on()
    {
        var emissions = await Run("SELECT stddev(v) AS sd FROM s GROUP BY COUNTWINDOW(3)", true,
            new Dictionary<string, object?> { ["v"] = 1L },
            new Dictionary<string, object?> { ["v"] = "two" },
            new Dictionary<string, object?> { ["v"] = 3L });
        Assert.That(emissions, Has.Count.EqualTo(1));
        Assert.That(emissions[0], Has.Count.EqualTo(1));
        Assert.That(emissions[0][0].Keys, Is.EqualTo(new[] { "error" }));
        Assert.That((string)emissions[0][0]["error"]!, Does.StartWith("run Select error: run stddev function error: requires number"));
    }

    [Test]
    public async Task Last_value_skips_nulls_when_asked_and_keeps_a_trailing_null_otherwise()
    {
        var row = await Aggregate("last_value(v, true) AS skipping, last_value(v, false) AS keeping", 1L, 2L, null);
        Assert.That((row["skipping"], row["keeping"]), Is.EqualTo(((object?)2L, (object?)null)));
    }

    [Test]
    public async Task Last_value_without_a_trailing_null_is_the_last_value_either_way()
    {
        var row = await Aggregate("last_value(v, true) AS skipping, last_value(v, false) AS keeping", 1L, null, 3L);
        Assert.That((row["skipping"], row["keeping"]), Is.EqualTo(((object?)3L, (object?)3L)));
    }

    [Test]
    public async Task Merge_agg_merges_the_objects_later_keys_winning()
    {
        var row = await Aggregate("merge_agg(v) AS merged",
            new Dictionary<string, object?> { ["a"] = 1L, ["b"] = 1L },
            null,
            new Dictionary<string, object?> { ["b"] = 2L, ["c"] = 2L },
            new Dictionary<string, object?> { ["a"] = 3L });
        Assert.That(row["merged"], Is.EquivalentTo(new Dictionary<string, object?> { ["a"] = 3L, ["b"] = 2L, ["c"] = 2L }));
    }

    [Test]
    public async Task Deduplicate_all_returns_the_rows_that_brought_a_new_value_in_order()
    {
        var row = await Aggregate("deduplicate(v, true) AS rows", 1L, 2L, 1L, 3L, 2L);
        var rows = (object?[])row["rows"]!;
        Assert.That(rows.Select(r => ((IReadOnlyDictionary<string, object?>)r!)["id"]), Is.EqualTo(new object?[] { 1L, 2L, 4L }));
        Assert.That(rows.Select(r => ((IReadOnlyDictionary<string, object?>)r!)["v"]), Is.EqualTo(new object?[] { 1L, 2L, 3L }));
    }

    [Test]
    public async Task Deduplicate_latest_returns_the_newest_row_when_its_value_is_new()
    {
        var row = await Aggregate("deduplicate(v, false) AS latest", 1L, 2L, 3L);
        var latest = (IReadOnlyDictionary<string, object?>)row["latest"]!;
        Assert.That((latest["id"], latest["v"]), Is.EqualTo(((object?)3L, (object?)3L)));
    }

    [Test]
    public async Task Deduplicate_latest_is_null_when_the_newest_value_was_seen_before()
    {
        var row = await Aggregate("deduplicate(v, false) AS latest", 1L, 2L, 1L);
        Assert.That(row["latest"], Is.Null);
    }

    [Test]
    public async Task Having_reads_last_agg_hit_count_from_before_the_window()
    {
        var rows = Enumerable.Range(1, 8).Select(i => (IReadOnlyDictionary<string, object?>)new Dictionary<string, object?> { ["v"] = (long)i }).ToArray();
        var emissions = await Run(
            "SELECT sum(v) AS total, last_agg_hit_count() AS hits FROM s GROUP BY COUNTWINDOW(2) HAVING last_agg_hit_count() < 2", false, rows);

        // Windows [1, 2], [3, 4] pass (0 and 1 hits before them); [5, 6] and [7, 8] see 2 and are dropped.
        Assert.That(emissions.Select(e => (e.Single()["total"], e.Single()["hits"])), Is.EqualTo(new[]
        {
            ((object?)3L, (object?)0L),
            (7L, 1L),
        }));
    }

    [Test]
    public async Task Only_windows_that_pass_having_count_as_hits()
    {
        var rows = new[] { 1L, 1L, 5L, 5L, 2L, 2L, 6L, 6L }
            .Select(v => (IReadOnlyDictionary<string, object?>)new Dictionary<string, object?> { ["v"] = v }).ToArray();
        var emissions = await Run(
            "SELECT sum(v) AS total, last_agg_hit_count() AS hits FROM s GROUP BY COUNTWINDOW(2) HAVING sum(v) > 5", false, rows);

        // [1, 1] and [2, 2] fail HAVING and are not hits; [5, 5] is the first hit, [6, 6] sees one before it.
        Assert.That(emissions.Select(e => (e.Single()["total"], e.Single()["hits"])), Is.EqualTo(new[]
        {
            ((object?)10L, (object?)0L),
            (12L, 1L),
        }));
    }
}
