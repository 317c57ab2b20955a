using EdgeStream.Tests.Support;

namespace EdgeStream.Tests.Runtime;

/// <summary>Stream–stream joins inside a window, on a fake processing-time clock.</summary>
public sealed class JoinTests
{
    private const long T0 = 1_541_152_486_000; // a whole second: TUMBLINGWINDOW(ss, 1) fires at T0 + 1000, T0 + 2000, …

    private static readonly string[] Streams =
    [
        "CREATE STREAM s1 (id BIGINT, v STRING) WITH (DATASOURCE=\"s1\", TYPE=\"memory\")",
        "CREATE STREAM s2 (id BIGINT, w STRING) WITH (DATASOURCE=\"s2\", TYPE=\"memory\")",
        "CREATE STREAM s3 (id BIGINT, u STRING) WITH (DATASOURCE=\"s3\", TYPE=\"memory\")",
        "CREATE STREAM a () WITH (DATASOURCE=\"a\", TYPE=\"memory\")",
        "CREATE STREAM b () WITH (DATASOURCE=\"b\", TYPE=\"memory\")",
        "CREATE STREAM p (k BIGINT, tag STRING, n BIGINT) WITH (DATASOURCE=\"p\", TYPE=\"memory\")",
        "CREATE STREAM q (k BIGINT, n BIGINT) WITH (DATASOURCE=\"q\", TYPE=\"memory\")",
    ];

    private const string Tumbling = " GROUP BY TUMBLINGWINDOW(ss, 1)";

    // Interleaved in one window: s1 ids 1, 2, 3; s2 ids 1 (x), 4 (y), 1 (z).
    private static readonly (string Stream, string Json)[] TwoStreams =
    [
        ("s1", """{"id": 1, "v": "a"}"""),
        ("s2", """{"id": 1, "w": "x"}"""),
        ("s1", """{"id": 2, "v": "b"}"""),
        ("s2", """{"id": 4, "w": "y"}"""),
        ("s1", """{"id": 3, "v": "c"}"""),
        ("s2", """{"id": 1, "w": "z"}"""),
    ];

    /// <summary>Pushes <paramref name="events"/> 50 ms apart inside the first window, fires it and returns the one emission.</summary>
    private static async Task<string[]> OneWindow(string sql, IEnumerable<(string Stream, string Json)> events, Action<RuleOptions>? options = null)
    {
        await using var rule = await JoinedRule.StartAsync(sql, T0, Streams, options);
        var at = T0;
        foreach (var (stream, json) in events)
        {
            at += 50;
            await rule.At(at, stream, json);
        }

        await rule.AdvanceUntil(T0 + 1_900, () => rule.Emissions.Count >= 1, "the window that ends at +1000");
        await rule.StopAsync();
        return rule.Shown;
    }

    [TestCase("INNER JOIN", "{l=1, r=1, v='a', w='x'} | {l=1, r=1, v='a', w='z'}")]
    [TestCase("LEFT JOIN", "{l=1, r=1, v='a', w='x'} | {l=1, r=1, v='a', w='z'} | {l=2, v='b'} | {l=3, v='c'}")]
    [TestCase("RIGHT JOIN", "{l=1, r=1, v='a', w='x'} | {l=1, r=1, v='a', w='z'} | {r=4, w='y'}")]
    [TestCase("FULL JOIN", "{l=1, r=1, v='a', w='x'} | {l=1, r=1, v='a', w='z'} | {l=2, v='b'} | {l=3, v='c'} | {r=4, w='y'}")]
    public async Task Each_join_kind_combines_the_window_rows_left_row_major_in_arrival_order(string join, string expected)
    {
        var sql = $"SELECT s1.id AS l, s1.v AS v, s2.id AS r, s2.w AS w FROM s1 {join} s2 ON s1.id = s2.id" + Tumbling;

        Assert.That(await OneWindow(sql, TwoStreams), Is.EqualTo(new[] { expected }));
    }

    [Test]
    public async Task A_left_join_sends_the_missing_side_as_null_with_send_nil_field()
    {
        var sql = "SELECT s1.id AS l, s2.w AS w FROM s1 LEFT JOIN s2 ON s1.id = s2.id" + Tumbling;

        var shown = await OneWindow(sql, TwoStreams, o => o.SendNilField = true);

        Assert.That(shown, Is.EqualTo(new[] { "{l=1, w='x'} | {l=1, w='z'} | {l=2, w=null} | {l=3, w=null}" }));
    }

    [Test]
    public async Task A_cross_join_pairs_every_left_row_with_every_right_row()
    {
        var sql = "SELECT s1.v AS v, s2.w AS w FROM s1 CROSS JOIN s2" + Tumbling;

        Assert.That(await OneWindow(sql, TwoStreams), Is.EqualTo(new[]
        {
            "{v='a', w='x'} | {v='a', w='y'} | {v='a', w='z'} | {v='b', w='x'} | {v='b', w='y'} | {v='b', w='z'} | {v='c', w='x'} | {v='c', w='y'} | {v='c', w='z'}",
        }));
    }

    [TestCase("INNER JOIN s3 ON s2.id = s3.id", "{l=2, u='p', v='b', w='y'} | {l=2, u='q', v='b', w='y'}")]
    [TestCase("LEFT JOIN s3 ON s2.id = s3.id", "{l=1, v='a', w='x'} | {l=2, u='p', v='b', w='y'} | {l=2, u='q', v='b', w='y'}")]
    [TestCase("INNER JOIN s3 ON s1.id + 1 = s3.id", "{l=1, u='p', v='a', w='x'} | {l=1, u='q', v='a', w='x'}")]
    [TestCase("RIGHT JOIN s3 ON s1.id = s3.id", "{l=2, u='p', v='b', w='y'} | {l=2, u='q', v='b', w='y'} | {u='r'}")]
    public async Task Several_joins_chain_left_deep(string second, string expected)
    {
        var sql = $"SELECT s1.id AS l, s1.v AS v, s2.w AS w, s3.u AS u FROM s1 INNER JOIN s2 ON s1.id = s2.id {second}" + Tumbling;
        (string, string)[] events =
        [
            ("s1", """{"id": 1, "v": "a"}"""),
            ("s1", """{"id": 2, "v": "b"}"""),
            ("s2", """{"id": 1, "w": "x"}"""),
            ("s3", """{"id": 2, "u": "p"}"""),
            ("s2", """{"id": 2, "w": "y"}"""),
            ("s3", """{"id": 2, "u": "q"}"""),
            ("s3", """{"id": 7, "u": "r"}"""),
        ];

        Assert.That(await OneWindow(sql, events), Is.EqualTo(new[] { expected }));
    }

    [TestCase("a INNER JOIN b", "{id=1, only_a=10, only_b=20, v='from a'}")]
    [TestCase("b INNER JOIN a", "{id=1, only_a=10, only_b=20, v='from b'}")]
    [TestCase("a RIGHT JOIN b", "{id=1, only_a=10, only_b=20, v='from a'} | {id=2, only_b=30, v='lonely b'}")]
    public async Task Select_star_merges_the_parts_and_the_earlier_source_wins_a_name_clash(string from, string expected)
    {
        var on = from.StartsWith('a') ? "a.id = b.id" : "b.id = a.id";
        var sql = $"SELECT * FROM {from} ON {on}" + Tumbling;
        (string, string)[] events =
        [
            ("b", """{"id": 1, "v": "from b", "only_b": 20}"""),
            ("a", """{"id": 1, "v": "from a", "only_a": 10}"""),
            ("b", """{"id": 2, "v": "lonely b", "only_b": 30}"""),
        ];

        Assert.That(await OneWindow(sql, events), Is.EqualTo(new[] { expected }));
    }

    // p rows: (1, keep, 1), (1, drop, 1), (2, keep, 2); q rows: (1, 2), (1, 0), (2, 3).
    private static readonly (string Stream, string Json)[] Filtered =
    [
        ("p", """{"k": 1, "tag": "keep", "n": 1}"""),
        ("q", """{"k": 1, "n": 2}"""),
        ("p", """{"k": 1, "tag": "drop", "n": 1}"""),
        ("q", """{"k": 1, "n": 0}"""),
        ("p", """{"k": 2, "tag": "keep", "n": 2}"""),
        ("q", """{"k": 2, "n": 3}"""),
    ];

    [TestCase("p.tag = 'keep' AND p.n < q.n")]
    [TestCase("p.n < q.n AND q.n > 1 AND p.tag = 'keep'")]
    [TestCase("NOT (p.tag != 'keep' OR p.n >= q.n)")]
    public async Task A_where_mixing_one_stream_and_two_stream_parts_gives_the_same_rows_as_filtering_after_the_join(string where)
    {
        var sql = $"SELECT p.k AS k, p.n AS pn, q.n AS qn FROM p INNER JOIN q ON p.k = q.k WHERE {where}" + Tumbling;

        Assert.That(await OneWindow(sql, Filtered), Is.EqualTo(new[] { "{k=1, pn=1, qn=2} | {k=2, pn=2, qn=3}" }));
    }

    [Test]
    public async Task A_where_on_the_right_stream_of_a_left_join_runs_after_the_join_and_drops_unmatched_rows()
    {
        // Filtering q before the join would keep p(k=1) with q(n=2) and p(k=9) unmatched; after it, the unmatched row's q.n is null.
        var sql = "SELECT p.k AS k, q.n AS qn FROM p LEFT JOIN q ON p.k = q.k WHERE q.n > 1" + Tumbling;
        (string, string)[] events =
        [
            ("p", """{"k": 1, "tag": "t", "n": 0}"""),
            ("p", """{"k": 9, "tag": "t", "n": 0}"""),
            ("q", """{"k": 1, "n": 2}"""),
            ("q", """{"k": 1, "n": 0}"""),
        ];

        Assert.That(await OneWindow(sql, events), Is.EqualTo(new[] { "{k=1, qn=2}" }));
    }

    [Test]
    public async Task A_where_that_rejects_every_joined_row_sends_nothing()
    {
        var sql = "SELECT p.k AS k FROM p INNER JOIN q ON p.k = q.k WHERE p.tag = 'keep' AND q.n > 100" + Tumbling;
        await using var rule = await JoinedRule.StartAsync(sql, T0, Streams);
        await rule.At(T0 + 100, "p", """{"k": 1, "tag": "keep", "n": 0}""");
        await rule.At(T0 + 200, "q", """{"k": 1, "n": 5}""");
        await rule.At(T0 + 1_100, "p", """{"k": 2, "tag": "keep", "n": 0}""");
        await rule.At(T0 + 1_200, "q", """{"k": 2, "n": 500}""");

        await rule.AdvanceUntil(T0 + 2_900, () => rule.Emissions.Count >= 1, "the second window");
        await rule.StopAsync();

        Assert.That(rule.Shown, Is.EqualTo(new[] { "{k=2}" }), "the first window's join passes no row: it sends nothing, not []");
    }

    [Test]
    public async Task A_window_whose_join_is_empty_sends_nothing_and_windows_do_not_share_rows()
    {
        var sql = "SELECT s1.v AS v, s2.w AS w FROM s1 INNER JOIN s2 ON s1.id = s2.id" + Tumbling;
        await using var rule = await JoinedRule.StartAsync(sql, T0, Streams);
        await rule.At(T0 + 100, "s1", """{"id": 1, "v": "a"}""");
        await rule.At(T0 + 200, "s2", """{"id": 2, "w": "x"}""");        // first window: no match
        await rule.At(T0 + 1_100, "s2", """{"id": 1, "w": "y"}""");      // would match the first window's s1 row
        await rule.At(T0 + 1_200, "s1", """{"id": 2, "v": "b"}""");      // would match the first window's s2 row
        await rule.At(T0 + 1_300, "s1", """{"id": 1, "v": "c"}""");
        await rule.At(T0 + 2_100, "s1", """{"id": 1, "v": "d"}""");      // third window: s1 only

        await rule.AdvanceUntil(T0 + 3_500, () => rule.GetWindowsOut() >= 3, "three windows");
        await rule.StopAsync();

        Assert.That(rule.Shown, Is.EqualTo(new[] { "{v='c', w='y'}" }));
    }

    [Test]
    public async Task An_error_in_on_fails_the_window_with_one_error_row_and_the_next_window_joins_again()
    {
        var sql = "SELECT a.id AS l, b.id AS r FROM a INNER JOIN b ON a.id = b.id" + Tumbling;
        await using var rule = await JoinedRule.StartAsync(sql, T0, Streams, o => o.SendError = true);
        await rule.At(T0 + 100, "a", """{"id": 1}""");
        await rule.At(T0 + 200, "b", """{"id": 1}""");                   // matches before the failing pair
        await rule.At(T0 + 300, "b", """{"id": "one"}""");               // int = string: an error
        await rule.At(T0 + 1_100, "a", """{"id": 2}""");
        await rule.At(T0 + 1_200, "b", """{"id": 2}""");

        await rule.AdvanceUntil(T0 + 2_900, () => rule.Emissions.Count >= 2, "both windows");
        var status = await rule.StopAsync();

        var shown = rule.Shown;
        Assert.That(shown, Has.Length.EqualTo(2));
        Assert.That(shown[0], Is.EqualTo("{error='run Join error: invalid operation int64(1) = string(one)'}"), "the first window sends only its error");
        Assert.That(shown[1], Is.EqualTo("{l=2, r=2}"));
        Assert.That(status.LastError, Does.StartWith("run Join error: "));
        Assert.That(status.Metrics["op_4_join_0_exceptions_total"], Is.EqualTo(1));
        Assert.That(status.Metrics["op_4_join_0_records_out_total"], Is.EqualTo(1));
        Assert.That(status.Metrics["op_4_join_0_records_in_total"], Is.EqualTo(2));
    }

    [Test]
    public async Task A_sliding_window_joins_the_rows_of_its_length_before_each_trigger()
    {
        // SLIDINGWINDOW(ss, 1): every row of either stream triggers a window over the second before it.
        var sql = "SELECT s1.v AS v, s2.w AS w FROM s1 INNER JOIN s2 ON s1.id = s2.id GROUP BY SLIDINGWINDOW(ss, 1)";
        await using var rule = await JoinedRule.StartAsync(sql, T0, Streams);
        await rule.At(T0 + 100, "s2", """{"id": 1, "w": "x"}""");        // (−900, +100]: s2 only, nothing
        await rule.At(T0 + 500, "s1", """{"id": 1, "v": "a"}""");        // (−500, +500]: a–x
        await rule.At(T0 + 1_300, "s1", """{"id": 1, "v": "b"}""");      // (+300, +1300]: a, b and no s2 row: nothing
        await rule.At(T0 + 1_400, "s2", """{"id": 1, "w": "y"}""");      // (+400, +1400]: a–y, b–y

        await rule.Emitted(2);
        await rule.StopAsync();

        Assert.That(rule.Shown, Is.EqualTo(new[] { "{v='a', w='x'}", "{v='a', w='y'} | {v='b', w='y'}" }));
    }

    [Test]
    public async Task Aliased_streams_join_and_their_where_parts_still_filter_each_stream()
    {
        var sql = "SELECT l.v AS v, r.w AS w FROM s1 AS l INNER JOIN s2 AS r ON l.id = r.id WHERE l.v = 'a' AND r.w = 'z'" + Tumbling;

        Assert.That(await OneWindow(sql, TwoStreams), Is.EqualTo(new[] { "{v='a', w='z'}" }));
    }

    [Test]
    public async Task A_stream_joined_with_itself_under_two_aliases_pairs_its_window_rows()
    {
        var sql = "SELECT x.v AS xv, y.v AS yv FROM s1 AS x INNER JOIN s1 AS y ON x.id = y.id" + Tumbling;
        (string, string)[] events =
        [
            ("s1", """{"id": 1, "v": "a"}"""),
            ("s1", """{"id": 1, "v": "b"}"""),
            ("s1", """{"id": 2, "v": "c"}"""),
        ];

        Assert.That(await OneWindow(sql, events), Is.EqualTo(new[]
        {
            "{xv='a', yv='a'} | {xv='a', yv='b'} | {xv='b', yv='a'} | {xv='b', yv='b'} | {xv='c', yv='c'}",
        }));
    }

    [Test]
    public async Task Aggregates_group_and_having_run_on_the_joined_rows()
    {
        var sql = "SELECT s1.id AS id, count(*) AS c, collect(s2.w) AS ws, window_start() AS ws0, window_end() AS we0 FROM s1 INNER JOIN s2 ON s1.id = s2.id"
            + " GROUP BY s1.id, TUMBLINGWINDOW(ss, 1) HAVING count(*) > 1";
        (string, string)[] events =
        [
            ("s1", """{"id": 1, "v": "a"}"""),
            ("s2", """{"id": 1, "w": "x"}"""),
            ("s1", """{"id": 1, "v": "b"}"""),
            ("s2", """{"id": 2, "w": "y"}"""),
            ("s1", """{"id": 2, "v": "c"}"""),   // one combination: HAVING drops its group
            ("s2", """{"id": 1, "w": "z"}"""),
        ];

        await using var rule = await JoinedRule.StartAsync(sql, T0, Streams);
        var at = T0;
        foreach (var (stream, json) in events)
        {
            at += 50;
            await rule.At(at, stream, json);
        }

        await rule.AdvanceUntil(T0 + 1_900, () => rule.Emissions.Count >= 1, "the window");
        await rule.StopAsync();

        var row = rule.Emissions.Single().Single();
        Assert.That((row["id"], row["c"], row["ws0"], row["we0"]), Is.EqualTo((1L, 4L, T0, T0 + 1_000)));
        Assert.That(row["ws"], Is.EqualTo(new object[] { "x", "z", "x", "z" }), "a–x, a–z, b–x, b–z");
    }

    [Test]
    public async Task Order_by_and_limit_apply_to_the_joined_rows()
    {
        var sql = "SELECT s1.v AS v, s2.w AS w FROM s1 CROSS JOIN s2" + Tumbling + " ORDER BY s2.w DESC, s1.v LIMIT 4";

        Assert.That(await OneWindow(sql, TwoStreams), Is.EqualTo(new[] { "{v='a', w='z'} | {v='b', w='z'} | {v='c', w='z'} | {v='a', w='y'}" }));
    }

    [Test]
    public async Task A_hopping_window_joins_the_rows_of_each_overlapping_window()
    {
        var sql = "SELECT s1.v AS v, s2.w AS w FROM s1 INNER JOIN s2 ON s1.id = s2.id GROUP BY HOPPINGWINDOW(ss, 2, 1)";
        await using var rule = await JoinedRule.StartAsync(sql, T0, Streams);
        await rule.At(T0 + 100, "s1", """{"id": 1, "v": "a"}""");
        await rule.At(T0 + 1_100, "s2", """{"id": 1, "w": "x"}""");   // joins a in [T0, T0 + 2000) only
        await rule.At(T0 + 1_200, "s1", """{"id": 1, "v": "b"}""");
        await rule.At(T0 + 2_100, "s2", """{"id": 1, "w": "y"}""");   // joins b in [T0 + 1000, T0 + 3000)

        await rule.AdvanceUntil(T0 + 3_500, () => rule.Emissions.Count >= 2, "the windows ending at +2000 and +3000");
        await rule.StopAsync();

        Assert.That(rule.Shown, Is.EqualTo(new[] { "{v='a', w='x'} | {v='b', w='x'}", "{v='b', w='x'} | {v='b', w='y'}" }));
    }

    [TestCase("", "needs a window")]
    [TestCase(" GROUP BY COUNTWINDOW(2)", "needs a time window")]
    public void Two_streams_joined_without_a_time_window_are_refused_at_rule_creation(string groupBy, string reason)
    {
        var error = Assert.CatchAsync<SqlException>(async () =>
        {
            await using var rule = await JoinedRule.StartAsync("SELECT s1.v FROM s1 INNER JOIN s2 ON s1.id = s2.id" + groupBy, T0, Streams);
        });

        Assert.That(error!.Message, Does.Contain(reason));
    }
    [Test]
    public async Task Under_event_time_each_stream_reads_its_own_timestamp_column()
    {
        string[] sources =
        [
            "CREATE STREAM a (id BIGINT, ts BIGINT) WITH (DATASOURCE=\"a\", TYPE=\"memory\", TIMESTAMP=\"ts\")",
            "CREATE STREAM b (id BIGINT, at BIGINT, w STRING) WITH (DATASOURCE=\"b\", TYPE=\"memory\", TIMESTAMP=\"at\")",
        ];
        await using var rule = await JoinedRule.StartAsync(
            "SELECT a.id AS id, b.w AS w FROM a INNER JOIN b ON a.id = b.id GROUP BY TUMBLINGWINDOW(ss, 1)", T0, sources, o => o.IsEventTime = true);
        await rule.Push("a", $$"""{"id": 1, "ts": {{T0 + 100}}}""");
        await rule.Push("b", $$"""{"id": 1, "at": {{T0 + 200}}, "w": "x"}""");
        await rule.Push("a", $$"""{"id": 2, "ts": {{T0 + 1_500}}}""");
        await rule.Push("b", $$"""{"id": 2, "at": {{T0 + 1_600}}, "w": "y"}""");
        var status = await rule.StopAsync();

        Assert.That(rule.Shown, Is.EqualTo(new[] { "{id=1, w='x'}" }), "the watermark (the least of both streams' newest times) closed the first second");
        Assert.That(status.Errors, Is.Zero);
    }
    [TestCase(true)]
    [TestCase(false)]
    public async Task With_an_idle_timeout_a_silent_stream_stops_holding_the_watermark_back(bool idle)
    {
        string[] sources =
        [
            "CREATE STREAM a (id BIGINT, ts BIGINT) WITH (DATASOURCE=\"a\", TYPE=\"memory\", TIMESTAMP=\"ts\")",
            "CREATE STREAM b (id BIGINT, ts BIGINT, w STRING) WITH (DATASOURCE=\"b\", TYPE=\"memory\", TIMESTAMP=\"ts\")",
        ];
        await using var rule = await JoinedRule.StartAsync(
            "SELECT a.id AS id, b.w AS w FROM a INNER JOIN b ON a.id = b.id GROUP BY TUMBLINGWINDOW(ss, 1)", T0, sources,
            o => (o.IsEventTime, o.WatermarkIdleTimeout) = (true, idle ? TimeSpan.FromSeconds(2) : null));
        await rule.At(T0, "a", $$"""{"id": 1, "ts": {{T0 + 100}}}""");
        await rule.At(T0, "b", $$"""{"id": 1, "ts": {{T0 + 100}}, "w": "x"}""");
        await rule.At(T0 + 500, "a", $$"""{"id": 2, "ts": {{T0 + 1_500}}}"""); // b then says nothing more

        if (idle)
        {
            // b is quiet from T0 + 2 s: the watermark follows a alone (T0 + 1.5 s) and closes the first second.
            await rule.AdvanceUntil(T0 + 2_400, () => rule.Shown.Length > 0, "the first window");
            Assert.That(rule.Shown, Is.EqualTo(new[] { "{id=1, w='x'}" }));
        }
        else
        {
            for (var t = T0 + 1_000; t <= T0 + 10_000; t += 500)
            {
                rule.Clock.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(t));
                await Task.Delay(1);
            }

            await rule.StopAsync();
            Assert.That(rule.Shown, Is.Empty, "as eKuiper: the silent stream holds the watermark at T0 + 100 ms");
        }
    }
}
