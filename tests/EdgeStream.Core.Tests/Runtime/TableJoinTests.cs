using EdgeStream.Tests.Support;

namespace EdgeStream.Tests.Runtime;

/// <summary>Stream–table joins: tables kept per rule (KEY, RETAIN_SIZE), fed through the engine or loaded from a file.</summary>
public sealed class TableJoinTests
{
    private const long T0 = 1_541_152_486_000; // a whole second

    private const string Stream = "CREATE STREAM s (id BIGINT, v STRING) WITH (DATASOURCE=\"s\", TYPE=\"memory\")";

    private static readonly string[] Sources =
    [
        Stream,
        "CREATE TABLE t (id BIGINT, name STRING) WITH (DATASOURCE=\"t\", TYPE=\"memory\")",
        "CREATE TABLE tk (id BIGINT, name STRING) WITH (DATASOURCE=\"tk\", TYPE=\"memory\", KEY=\"id\")",
        "CREATE TABLE tr (id BIGINT, name STRING) WITH (DATASOURCE=\"tr\", TYPE=\"memory\", RETAIN_SIZE=\"2\")",
    ];

    private static Task<JoinedRule> Start(string sql, Action<RuleOptions>? options = null) => JoinedRule.StartAsync(sql, T0, Sources, options);

    [Test]
    public async Task A_stream_row_inner_joins_what_the_table_holds_when_it_is_processed()
    {
        await using var rule = await Start("SELECT s.id AS id, s.v AS v, t.name AS name FROM s INNER JOIN t ON s.id = t.id");
        await rule.Push("s", """{"id": 1, "v": "before the table row"}""");   // the table is empty: nothing
        await rule.Push("t", """{"id": 1, "name": "one"}""");
        await rule.Push("s", """{"id": 1, "v": "after"}""");
        await rule.Push("s", """{"id": 2, "v": "no match"}""");              // nothing
        await rule.Push("t", """{"id": 1, "name": "uno"}""");                // no KEY: both rows are kept
        await rule.Push("s", """{"id": 1, "v": "again"}""");
        await rule.StopAsync();

        Assert.That(rule.Shown, Is.EqualTo(new[]
        {
            "{id=1, name='one', v='after'}",
            "{id=1, name='one', v='again'} | {id=1, name='uno', v='again'}",
        }));
    }

    [Test]
    public async Task A_left_join_sends_a_stream_row_without_a_match_with_the_table_columns_absent()
    {
        await using var rule = await Start("SELECT s.id AS id, s.v AS v, t.name AS name FROM s LEFT JOIN t ON s.id = t.id");
        await rule.Push("s", """{"id": 1, "v": "empty table"}""");
        await rule.Push("t", """{"id": 1, "name": "one"}""");
        await rule.Push("s", """{"id": 1, "v": "match"}""");
        await rule.Push("s", """{"id": 2, "v": "no match"}""");
        await rule.StopAsync();

        Assert.That(rule.Shown, Is.EqualTo(new[]
        {
            "{id=1, v='empty table'}",
            "{id=1, name='one', v='match'}",
            "{id=2, v='no match'}",
        }));
    }

    [Test]
    public async Task A_where_after_a_table_join_filters_the_combinations_and_a_row_left_with_none_sends_nothing()
    {
        await using var rule = await Start("SELECT s.v AS v, t.name AS name FROM s INNER JOIN t ON s.id = t.id WHERE t.name != 'hidden'");
        await rule.Push("t", """{"id": 1, "name": "shown"}""");
        await rule.Push("t", """{"id": 1, "name": "hidden"}""");
        await rule.Push("t", """{"id": 2, "name": "hidden"}""");
        await rule.Push("s", """{"id": 1, "v": "a"}""");
        await rule.Push("s", """{"id": 2, "v": "b"}""");
        await rule.Push("s", """{"id": 1, "v": "c"}""");
        await rule.StopAsync();

        Assert.That(rule.Shown, Is.EqualTo(new[] { "{name='shown', v='a'}", "{name='shown', v='c'}" }));
    }

    [Test]
    public async Task A_table_row_with_a_key_already_held_replaces_the_earlier_row()
    {
        await using var rule = await Start("SELECT s.v AS v, tk.name AS name FROM s INNER JOIN tk ON s.id = tk.id");
        await rule.Push("tk", """{"id": 1, "name": "old"}""");
        await rule.Push("tk", """{"id": 2, "name": "two"}""");
        await rule.Push("s", """{"id": 1, "v": "a"}""");
        await rule.Push("tk", """{"id": 1, "name": "new"}""");
        await rule.Push("s", """{"id": 1, "v": "b"}""");
        await rule.Push("s", """{"id": 2, "v": "c"}""");
        await rule.StopAsync();

        Assert.That(rule.Shown, Is.EqualTo(new[] { "{name='old', v='a'}", "{name='new', v='b'}", "{name='two', v='c'}" }));
    }

    [Test]
    public async Task A_table_with_a_key_holds_one_row_per_key_in_the_order_the_keys_first_came()
    {
        await using var rule = await Start("SELECT tk.id AS id, tk.name AS name FROM s CROSS JOIN tk");
        await rule.Push("tk", """{"id": 1, "name": "a"}""");
        await rule.Push("tk", """{"id": 2, "name": "b"}""");
        await rule.Push("tk", """{"id": 1, "name": "c"}""");
        await rule.Push("tk", """{"id": 3, "name": "d"}""");
        await rule.Push("tk", """{"id": 2, "name": "e"}""");
        await rule.Push("s", """{"id": 0, "v": "x"}""");
        await rule.StopAsync();

        Assert.That(rule.Shown, Is.EqualTo(new[] { "{id=1, name='c'} | {id=2, name='e'} | {id=3, name='d'}" }));
    }

    [Test]
    public async Task A_table_with_a_retain_size_keeps_only_its_newest_rows()
    {
        await using var rule = await Start("SELECT s.v AS v, tr.name AS name FROM s INNER JOIN tr ON s.id = tr.id");
        await rule.Push("tr", """{"id": 1, "name": "first"}""");
        await rule.Push("tr", """{"id": 1, "name": "second"}""");
        await rule.Push("s", """{"id": 1, "v": "a"}""");
        await rule.Push("tr", """{"id": 1, "name": "third"}""");
        await rule.Push("s", """{"id": 1, "v": "b"}""");
        await rule.Push("tr", """{"id": 2, "name": "fourth"}""");
        await rule.Push("s", """{"id": 1, "v": "c"}""");
        await rule.StopAsync();

        Assert.That(rule.Shown, Is.EqualTo(new[]
        {
            "{name='first', v='a'} | {name='second', v='a'}",
            "{name='second', v='b'} | {name='third', v='b'}",
            "{name='third', v='c'}",
        }));
    }

    [Test]
    public async Task A_table_with_a_key_and_a_retain_size_evicts_the_oldest_key_and_still_replaces_by_key()
    {
        string[] sources =
        [
            Stream,
            "CREATE TABLE tkr (id BIGINT, name STRING) WITH (DATASOURCE=\"tkr\", TYPE=\"memory\", KEY=\"id\", RETAIN_SIZE=\"2\")",
        ];
        await using var rule = await JoinedRule.StartAsync("SELECT tkr.id AS id, tkr.name AS name FROM s CROSS JOIN tkr", T0, sources);
        await rule.Push("tkr", """{"id": 1, "name": "a"}""");
        await rule.Push("tkr", """{"id": 2, "name": "b"}""");
        await rule.Push("tkr", """{"id": 3, "name": "c"}""");   // evicts id 1
        await rule.Push("tkr", """{"id": 3, "name": "C"}""");   // replaces id 3 (after the eviction moved it)
        await rule.Push("s", """{"id": 0, "v": "x"}""");
        await rule.StopAsync();

        Assert.That(rule.Shown, Is.EqualTo(new[] { "{id=2, name='b'} | {id=3, name='C'}" }));
    }

    [Test]
    public async Task In_a_window_the_stream_rows_join_what_the_table_holds_when_the_window_fires()
    {
        await using var rule = await Start("SELECT s.v AS v, tk.name AS name FROM s INNER JOIN tk ON s.id = tk.id GROUP BY TUMBLINGWINDOW(ss, 1)");
        await rule.At(T0 + 100, "s", """{"id": 1, "v": "a"}""");
        await rule.At(T0 + 200, "s", """{"id": 2, "v": "b"}""");
        await rule.At(T0 + 500, "tk", """{"id": 1, "name": "came after the rows"}""");  // before the window fires: seen
        await rule.At(T0 + 600, "tk", """{"id": 3, "name": "three"}""");
        await rule.AdvanceUntil(T0 + 1_900, () => rule.Emissions.Count >= 1, "the first window");

        await rule.At(T0 + 2_100, "tk", """{"id": 1, "name": "updated"}""");
        await rule.At(T0 + 2_200, "s", """{"id": 1, "v": "c"}""");
        await rule.At(T0 + 2_300, "s", """{"id": 3, "v": "d"}""");
        await rule.AdvanceUntil(T0 + 3_900, () => rule.Emissions.Count >= 2, "the third window");
        await rule.StopAsync();

        Assert.That(rule.Shown, Is.EqualTo(new[]
        {
            "{name='came after the rows', v='a'}",
            "{name='updated', v='c'} | {name='three', v='d'}",
        }));
    }

    [Test]
    public async Task A_window_whose_rows_match_no_table_row_sends_nothing()
    {
        await using var rule = await Start("SELECT s.v AS v, tk.name AS name FROM s INNER JOIN tk ON s.id = tk.id GROUP BY TUMBLINGWINDOW(ss, 1)");
        await rule.At(T0 + 100, "tk", """{"id": 1, "name": "one"}""");
        await rule.At(T0 + 200, "s", """{"id": 2, "v": "a"}""");
        await rule.At(T0 + 1_200, "s", """{"id": 1, "v": "b"}""");
        await rule.AdvanceUntil(T0 + 2_900, () => rule.Emissions.Count >= 1, "the second window");
        await rule.StopAsync();

        Assert.That(rule.Shown, Is.EqualTo(new[] { "{name='one', v='b'}" }));
    }

    [Test]
    public async Task A_table_may_come_first_in_from()
    {
        await using var rule = await Start("SELECT * FROM tk INNER JOIN s ON tk.id = s.id");
        await rule.Push("tk", """{"id": 1, "name": "one"}""");
        await rule.Push("tk", """{"id": 2, "name": "two"}""");
        await rule.Push("s", """{"id": 2, "v": "a"}""");
        await rule.Push("s", """{"id": 5, "v": "b"}""");
        await rule.Push("tk", """{"id": 5, "name": "five"}""");
        await rule.Push("s", """{"id": 5, "v": "c"}""");
        await rule.StopAsync();

        Assert.That(rule.Shown, Is.EqualTo(new[] { "{id=2, name='two', v='a'}", "{id=5, name='five', v='c'}" }));
    }

    [Test]
    public async Task Select_star_over_a_stream_and_a_table_takes_a_clashing_name_from_the_earlier_source()
    {
        string[] sources =
        [
            "CREATE STREAM ss () WITH (DATASOURCE=\"ss\", TYPE=\"memory\")",
            "CREATE TABLE tt () WITH (DATASOURCE=\"tt\", TYPE=\"memory\")",
        ];
        await using var rule = await JoinedRule.StartAsync("SELECT * FROM ss INNER JOIN tt ON ss.id = tt.id", T0, sources);
        await rule.Push("tt", """{"id": 1, "name": "table", "size": 9}""");
        await rule.Push("ss", """{"id": 1, "name": "stream", "color": "red"}""");
        await rule.StopAsync();

        Assert.That(rule.Shown, Is.EqualTo(new[] { "{color='red', id=1, name='stream', size=9}" }));
    }

    [Test]
    public async Task Two_streams_and_a_table_join_in_one_window()
    {
        string[] sources =
        [
            Stream,
            "CREATE STREAM s2 (id BIGINT, w STRING) WITH (DATASOURCE=\"s2\", TYPE=\"memory\")",
            "CREATE TABLE tk (id BIGINT, name STRING) WITH (DATASOURCE=\"tk\", TYPE=\"memory\", KEY=\"id\")",
        ];
        var sql = "SELECT s.v AS v, s2.w AS w, tk.name AS name FROM s INNER JOIN s2 ON s.id = s2.id LEFT JOIN tk ON s2.id = tk.id GROUP BY TUMBLINGWINDOW(ss, 1)";
        await using var rule = await JoinedRule.StartAsync(sql, T0, sources);
        await rule.At(T0 + 100, "tk", """{"id": 1, "name": "one"}""");
        await rule.At(T0 + 200, "s", """{"id": 1, "v": "a"}""");
        await rule.At(T0 + 300, "s2", """{"id": 1, "w": "x"}""");
        await rule.At(T0 + 400, "s", """{"id": 2, "v": "b"}""");
        await rule.At(T0 + 500, "s2", """{"id": 2, "w": "y"}""");
        await rule.At(T0 + 600, "s2", """{"id": 3, "w": "z"}""");
        await rule.AdvanceUntil(T0 + 1_900, () => rule.Emissions.Count >= 1, "the window");
        await rule.StopAsync();

        Assert.That(rule.Shown, Is.EqualTo(new[] { "{name='one', v='a', w='x'} | {v='b', w='y'}" }));
    }

    [Test]
    public async Task Each_rule_keeps_its_own_table_rows_from_the_time_it_starts()
    {
        await using var rule = await Start("SELECT s.v AS v, t.name AS name FROM s INNER JOIN t ON s.id = t.id");
        await rule.Push("t", """{"id": 1, "name": "before the second rule"}""");
        var second = new RuleDefinition("r2", "SELECT s.v AS v, t.name AS name FROM s LEFT JOIN t ON s.id = t.id");
        second.Actions.Add(new RuleAction("memory", new Dictionary<string, string> { ["topic"] = "out2" }));
        var secondRows = new List<string>();
        using var subscription = rule.Engine.Memory.Subscribe("out2", (rows, _) =>
        {
            lock (secondRows)
            {
                secondRows.Add(JoinedRule.Show(rows));
            }

            return ValueTask.CompletedTask;
        });
        await rule.Engine.CreateRuleAsync(second);
        await rule.Push("t", """{"id": 2, "name": "two"}""");
        await rule.Push("s", """{"id": 1, "v": "a"}""");
        await rule.Push("s", """{"id": 2, "v": "b"}""");
        await rule.StopAsync();
        await rule.Engine.StopRuleAsync("r2");

        Assert.That(rule.Shown, Is.EqualTo(new[] { "{name='before the second rule', v='a'}", "{name='two', v='b'}" }));
        Assert.That(secondRows, Is.EqualTo(new[] { "{v='a'}", "{name='two', v='b'}" }), "the second rule never saw the first table row");
    }

    [TestCase(true, "{id=1, v=null}")]
    [TestCase(false, "{id=1}")]
    public async Task Select_star_keeps_an_earlier_sources_null_over_a_later_sources_value(bool sendNilField, string expected)
    {
        string[] sources =
        [
            "CREATE STREAM ss () WITH (DATASOURCE=\"ss\", TYPE=\"memory\")",
            "CREATE TABLE tt () WITH (DATASOURCE=\"tt\", TYPE=\"memory\")",
        ];
        await using var rule = await JoinedRule.StartAsync("SELECT * FROM ss INNER JOIN tt ON ss.id = tt.id", T0, sources, o => o.SendNilField = sendNilField);
        await rule.Push("tt", """{"id": 1, "v": "from t"}""");
        await rule.Push("ss", """{"id": 1, "v": null}""");
        await rule.StopAsync();

        Assert.That(rule.Shown, Is.EqualTo(new[] { expected }));
    }

    [Test]
    public async Task Join_metrics_count_stream_rows_and_table_rows_at_the_aligner_and_non_empty_joins_at_the_join()
    {
        await using var rule = await Start("SELECT s.v AS v, t.name AS name FROM s INNER JOIN t ON s.id = t.id");
        await rule.Push("t", """{"id": 1, "name": "one"}""");
        await rule.Push("t", """[{"id": 2, "name": "two"}, {"id": 2, "name": "deux"}]"""); // one message of two rows
        await rule.Push("s", """{"id": 1, "v": "a"}""");
        await rule.Push("s", """{"id": 3, "v": "b"}""");                                    // no match
        await rule.Push("s", """{"id": 2, "v": "c"}""");
        var status = await rule.StopAsync();

        Assert.That(rule.Shown, Is.EqualTo(new[] { "{name='one', v='a'}", "{name='two', v='c'} | {name='deux', v='c'}" }));
        var metrics = status.Metrics;
        Assert.Multiple(() =>
        {
            Assert.That(metrics["op_5_join_aligner_0_records_in_total"], Is.EqualTo(6), "3 stream rows and 3 table rows");
            Assert.That(metrics["op_5_join_aligner_0_records_out_total"], Is.EqualTo(3), "each stream row goes on to the join");
            Assert.That(metrics["op_6_join_0_records_in_total"], Is.EqualTo(3));
            Assert.That(metrics["op_6_join_0_records_out_total"], Is.EqualTo(2), "the row without a match joins nothing");
            Assert.That(metrics["source_t_0_records_in_total"], Is.EqualTo(2), "a batch of rows is one table record");
            Assert.That(metrics["source_t_0_records_out_total"], Is.EqualTo(2));
            Assert.That(metrics["source_s_0_records_in_total"], Is.EqualTo(3));
            Assert.That(status.RecordsOut, Is.EqualTo(3), "three result rows");
        });
    }

    [Test]
    public async Task A_join_filter_after_a_table_join_is_numbered_after_the_join()
    {
        await using var rule = await Start("SELECT s.v AS v FROM s INNER JOIN t ON s.id = t.id WHERE t.name = 'keep'");
        await rule.Push("t", """{"id": 1, "name": "keep"}""");
        await rule.Push("t", """{"id": 2, "name": "drop"}""");
        await rule.Push("s", """{"id": 1, "v": "a"}""");
        await rule.Push("s", """{"id": 2, "v": "b"}""");
        var status = await rule.StopAsync();

        Assert.That(rule.Shown, Is.EqualTo(new[] { "{v='a'}" }));
        Assert.That((status.Metrics["op_7_filter_0_records_in_total"], status.Metrics["op_7_filter_0_records_out_total"]), Is.EqualTo((2L, 1L)));
    }

    [Test]
    public async Task A_file_table_holding_a_json_array_is_loaded_once_as_one_record_when_the_rule_starts()
    {
        using var folder = new TempFolder();
        var path = folder.Write("lookup.json", """
            [
              {"id": 1, "name": "one"},
              {"id": 2, "name": "two"}
            ]
            """);
        await using var rule = await JoinedRule.StartAsync(
            "SELECT s.v AS v, ft.name AS name FROM s INNER JOIN ft ON s.id = ft.id", T0, [Stream, FileTable(path)]);
        File.WriteAllText(path, """[{"id": 3, "name": "written after the start"}]""");
        await rule.Push("s", """{"id": 2, "v": "a"}""");
        await rule.Push("s", """{"id": 3, "v": "b"}""");
        await rule.Push("s", """{"id": 1, "v": "c"}""");
        var status = await rule.StopAsync();

        Assert.That(rule.Shown, Is.EqualTo(new[] { "{name='two', v='a'}", "{name='one', v='c'}" }));
        Assert.That((status.Metrics["source_ft_0_records_in_total"], status.Metrics["source_ft_0_records_out_total"]), Is.EqualTo((1L, 1L)));
    }

    [Test]
    public async Task A_file_table_of_json_lines_loads_one_row_per_line()
    {
        using var folder = new TempFolder();
        var path = folder.Write("lookup.jsonl", "{\"id\": 1, \"name\": \"one\"}\n\n{\"id\": 2, \"name\": \"two\"}\r\n{\"id\": 2, \"name\": \"deux\"}\n");
        await using var rule = await JoinedRule.StartAsync(
            "SELECT s.v AS v, ft.name AS name FROM s LEFT JOIN ft ON s.id = ft.id", T0, [Stream, FileTable(path)]);
        await rule.Push("s", """{"id": 2, "v": "a"}""");
        await rule.Push("s", """{"id": 9, "v": "b"}""");
        await rule.Push("s", """{"id": 1, "v": "c"}""");
        var status = await rule.StopAsync();

        Assert.That(rule.Shown, Is.EqualTo(new[] { "{name='two', v='a'} | {name='deux', v='a'}", "{v='b'}", "{name='one', v='c'}" }));
        Assert.That(status.Metrics["source_ft_0_records_in_total"], Is.EqualTo(3), "one record per line; blank lines are skipped");
    }

    [Test]
    public void A_file_table_whose_file_is_missing_fails_rule_creation_naming_the_file()
    {
        using var folder = new TempFolder();
        var path = Path.Combine(folder.Path, "missing.json");

        var error = Assert.CatchAsync<SqlException>(async () =>
        {
            await using var rule = await JoinedRule.StartAsync("SELECT s.v FROM s INNER JOIN ft ON s.id = ft.id", T0, [Stream, FileTable(path)]);
        });

        Assert.That(error!.Message, Does.Contain(path));
    }

    [TestCase("RIGHT")]
    [TestCase("FULL")]
    public void A_right_or_full_join_with_a_table_is_refused(string kind)
    {
        var error = Assert.CatchAsync<SqlException>(async () =>
        {
            await using var rule = await Start($"SELECT s.v FROM s {kind} JOIN t ON s.id = t.id");
        });

        Assert.That(error!.Message, Does.Contain("a join with a table is INNER, LEFT or CROSS"));
    }

    private static string FileTable(string path) =>
        $"CREATE TABLE ft (id BIGINT, name STRING) WITH (DATASOURCE=\"{path}\", TYPE=\"file\")";

    /// <summary>A folder under the temp directory, deleted with its files.</summary>
    private sealed class TempFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("edgestream-join-").FullName;

        public string Write(string name, string text)
        {
            var file = System.IO.Path.Combine(Path, name);
            File.WriteAllText(file, text);
            return file;
        }

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
