using Microsoft.Extensions.DependencyInjection;

namespace EdgeStream.Sinks.MySql.Tests;

/// <summary>The sink against the real server: rules whose results land in MariaDB tables.</summary>
public sealed class MySqlSinkTests
{
    private static int tables;

    private static string NewTable() => "t" + Interlocked.Increment(ref tables);

    private static async Task<EdgeStreamEngine> EngineAsync(string sql, IReadOnlyDictionary<string, string> properties, string type = "mysql")
    {
        var engine = new EdgeStreamEngine();
        engine.RegisterMySqlSink();
        engine.Execute("CREATE STREAM s () WITH (DATASOURCE=\"s\", TYPE=\"memory\")");
        var rule = new RuleDefinition("r", sql);
        rule.Actions.Add(new RuleAction(type, properties));
        await engine.CreateRuleAsync(rule);
        return engine;
    }

    private static async Task WaitForRowsAsync(string table, long count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        long seen = 0;
        while (DateTime.UtcNow < deadline)
        {
            seen = Convert.ToInt64(await MariaDbServer.ScalarAsync($"SELECT COUNT(*) FROM `{table}`"), System.Globalization.CultureInfo.InvariantCulture);
            if (seen >= count)
            {
                return;
            }

            await Task.Delay(50);
        }

        Assert.Fail($"`{table}` has {seen} rows, not {count}, after 30 s");
    }

    [Test]
    public async Task Every_type_is_written_as_a_parameter_and_read_back_the_same()
    {
        var table = NewTable();
        await MariaDbServer.ScalarAsync($"CREATE TABLE `{table}` (id BIGINT, f DOUBLE, s VARCHAR(100), b BOOLEAN, t DATETIME(3), doc JSON, raw BLOB, missing VARCHAR(10))");
        await using var engine = await EngineAsync("SELECT * FROM s", new Dictionary<string, string> { ["url"] = MariaDbServer.ConnectionString, ["table"] = table });
        var at = new DateTimeOffset(2026, 11, 23, 8, 9, 10, 123, TimeSpan.Zero);
        await engine.PublishAsync("s", new Dictionary<string, object?>
        {
            ["id"] = 42L, ["f"] = 2.5, ["s"] = "héllo 'quoted' \"double\" \\ back", ["b"] = true, ["t"] = at,
            ["doc"] = new Dictionary<string, object?> { ["k"] = new object?[] { 1L, "two", null } }, ["raw"] = new byte[] { 0, 1, 255 }, ["missing"] = null,
        });
        await WaitForRowsAsync(table, 1);

        var row = (await MariaDbServer.QueryAsync($"SELECT id, f, s, b, t, doc, raw, missing FROM `{table}`")).Single();
        Assert.Multiple(() =>
        {
            Assert.That(row["id"], Is.EqualTo(42L));
            Assert.That(row["f"], Is.EqualTo(2.5));
            Assert.That(row["s"], Is.EqualTo("héllo 'quoted' \"double\" \\ back"));
            Assert.That(Convert.ToInt64(row["b"], System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(1));
            Assert.That(row["t"], Is.EqualTo(at.UtcDateTime));
            Assert.That(row["doc"], Is.EqualTo("""{"k":[1,"two",null]}"""));
            Assert.That(row["raw"], Is.EqualTo(new byte[] { 0, 1, 255 }));
            Assert.That(row["missing"], Is.Null);
        });
    }

    [Test]
    public async Task Rows_arrive_in_batches_in_order_and_all_of_them()
    {
        var table = NewTable();
        await MariaDbServer.ScalarAsync($"CREATE TABLE `{table}` (seq BIGINT AUTO_INCREMENT PRIMARY KEY, n BIGINT, label VARCHAR(20))");
        await using var engine = await EngineAsync("SELECT n, label FROM s",
            new Dictionary<string, string> { ["url"] = MariaDbServer.ConnectionString, ["table"] = table, ["batchSize"] = "500", ["lingerInterval"] = "20" });
        const int Count = 2_345;
        for (var i = 0; i < Count; i++)
        {
            await engine.PublishAsync("s", new Dictionary<string, object?> { ["n"] = (long)i, ["label"] = i % 3 == 0 ? null : "x" + i });
        }

        await WaitForRowsAsync(table, Count);
        var rows = await MariaDbServer.QueryAsync($"SELECT n, label FROM `{table}` ORDER BY seq");
        Assert.That(rows.Select(r => (long)r["n"]!), Is.EqualTo(Enumerable.Range(0, Count).Select(i => (long)i)), "every row once, in order");
        Assert.That(rows.Where(r => (long)r["n"]! % 3 == 0).Select(r => r["label"]), Has.All.Null, "an omitted null column is left to its default");
        Assert.That(engine.GetRuleStatus("r").Errors, Is.Zero);
    }

    [Test]
    public async Task Names_and_values_that_try_sql_injection_are_names_and_values()
    {
        var table = "odd`; DROP TABLE victim; --";
        await MariaDbServer.ScalarAsync("CREATE TABLE IF NOT EXISTS victim (x INT)");
        await MariaDbServer.ScalarAsync("CREATE TABLE `odd``; DROP TABLE victim; --` (`c``) VALUES (1); --` VARCHAR(200), plain VARCHAR(200))");
        await using var engine = await EngineAsync("SELECT * FROM s", new Dictionary<string, string> { ["url"] = MariaDbServer.ConnectionString, ["table"] = table });
        const string Value = "x'); DROP TABLE victim; -- \" ` \\";
        await engine.PublishAsync("s", new Dictionary<string, object?> { ["c`) VALUES (1); --"] = Value, ["plain"] = "ok" });
        await WaitForRowsAsync("odd``; DROP TABLE victim; --", 1);

        var row = (await MariaDbServer.QueryAsync("SELECT * FROM `odd``; DROP TABLE victim; --`")).Single();
        Assert.That(row["c`) VALUES (1); --"], Is.EqualTo(Value));
        Assert.That(await MariaDbServer.ScalarAsync("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'edgetest' AND table_name = 'victim'"), Is.EqualTo(1L));
    }

    [Test]
    public void A_name_that_cannot_be_an_identifier_fails_rule_creation()
    {
        Assert.ThrowsAsync<ArgumentException>(async () =>
        {
            await using var engine = await EngineAsync("SELECT * FROM s", new Dictionary<string, string> { ["url"] = MariaDbServer.ConnectionString, ["table"] = new string('t', 65) });
        });
    }

    [TestCase("connection string")]
    [TestCase("url")]
    [TestCase("dsn")]
    public async Task The_three_url_forms_reach_the_server_and_sql_is_the_same_sink(string form)
    {
        var table = NewTable();
        await MariaDbServer.ScalarAsync($"CREATE TABLE `{table}` (a BIGINT)");
        var url = form switch
        {
            "url" => $"mysql://{MariaDbServer.User}:{Uri.EscapeDataString(MariaDbServer.Password)}@127.0.0.1:{MariaDbServer.Port}/{MariaDbServer.Database}",
            "dsn" => $"{MariaDbServer.User}:{MariaDbServer.Password}@tcp(127.0.0.1:{MariaDbServer.Port})/{MariaDbServer.Database}?parseTime=true",
            _ => MariaDbServer.ConnectionString,
        };
        await using var engine = await EngineAsync("SELECT a FROM s", new Dictionary<string, string> { ["url"] = url, ["table"] = table }, type: form == "dsn" ? "sql" : "mysql");
        await engine.PublishAsync("s", new Dictionary<string, object?> { ["a"] = 7L });
        await WaitForRowsAsync(table, 1);
        Assert.That(await MariaDbServer.ScalarAsync($"SELECT a FROM `{table}`"), Is.EqualTo(7L));
        var explained = engine.ExplainRule("r");
        Assert.That(explained, Does.Contain(table), "the explanation shows the action");
        Assert.That(explained, Does.Not.Contain(MariaDbServer.Password).And.Not.Contain(Uri.EscapeDataString(MariaDbServer.Password)), "but never its password");
    }

    [Test]
    public async Task Fields_and_tableDataField_choose_what_is_written()
    {
        var picked = NewTable();
        var nested = NewTable();
        await MariaDbServer.ScalarAsync($"CREATE TABLE `{picked}` (a BIGINT, b VARCHAR(10))");
        await MariaDbServer.ScalarAsync($"CREATE TABLE `{nested}` (k VARCHAR(10), v BIGINT)");
        await using var engine = new EdgeStreamEngine();
        engine.RegisterMySqlSink();
        engine.Execute("CREATE STREAM s () WITH (DATASOURCE=\"s\", TYPE=\"memory\")");
        var rule = new RuleDefinition("r", "SELECT a, b, c, items FROM s");
        rule.Actions.Add(new RuleAction("mysql", new Dictionary<string, string> { ["url"] = MariaDbServer.ConnectionString, ["table"] = picked, ["fields"] = "a,b" }));
        rule.Actions.Add(new RuleAction("mysql", new Dictionary<string, string> { ["url"] = MariaDbServer.ConnectionString, ["table"] = nested, ["tableDataField"] = "items" }));
        await engine.CreateRuleAsync(rule);
        await engine.PublishAsync("s", new Dictionary<string, object?>
        {
            ["a"] = 1L, ["b"] = "bee", ["c"] = "not a column",
            ["items"] = new object?[] { new Dictionary<string, object?> { ["k"] = "x", ["v"] = 10L }, new Dictionary<string, object?> { ["k"] = "y", ["v"] = 20L } },
        });
        await WaitForRowsAsync(picked, 1);
        await WaitForRowsAsync(nested, 2);
        Assert.That((await MariaDbServer.QueryAsync($"SELECT a, b FROM `{picked}`")).Single(), Is.EqualTo(new Dictionary<string, object?> { ["a"] = 1L, ["b"] = "bee" }));
        Assert.That((await MariaDbServer.QueryAsync($"SELECT k, v FROM `{nested}` ORDER BY v")).Select(r => (r["k"], r["v"])), Is.EqualTo(new[] { ((object?)"x", (object?)10L), ("y", 20L) }));
    }

    [Test]
    public async Task Rowkind_inserts_upserts_updates_and_deletes_by_key_in_order()
    {
        var table = NewTable();
        await MariaDbServer.ScalarAsync($"CREATE TABLE `{table}` (id BIGINT PRIMARY KEY, name VARCHAR(20), n BIGINT)");
        await using var engine = await EngineAsync("SELECT * FROM s", new Dictionary<string, string>
        {
            ["url"] = MariaDbServer.ConnectionString, ["table"] = table, ["rowkindField"] = "action", ["keyField"] = "id", ["batchSize"] = "3", ["lingerInterval"] = "20",
        });
        (string? Action, long Id, string Name, long N)[] changes =
        [
            ("insert", 1, "one", 1), (null, 2, "two", 2), ("upsert", 1, "uno", 10), ("update", 2, "dos", 20),
            ("insert", 3, "three", 3), ("delete", 1, "", 0), ("UPSERT", 4, "four", 4), ("upsert", 4, "cuatro", 40),
        ];
        foreach (var (action, id, name, n) in changes)
        {
            var row = new Dictionary<string, object?> { ["id"] = id, ["name"] = name, ["n"] = n };
            if (action is not null)
            {
                row["action"] = action;
            }

            await engine.PublishAsync("s", row);
        }

        await WaitForRowsAsync(table, 3);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        List<(object?, object?, object?)> rows;
        do
        {
            rows = (await MariaDbServer.QueryAsync($"SELECT id, name, n FROM `{table}` ORDER BY id")).Select(r => (r["id"], r["name"], r["n"])).ToList();
        }
        while (!rows.SequenceEqual([(2L, "dos", 20L), (3L, "three", 3L), (4L, "cuatro", 40L)]) && DateTime.UtcNow < deadline && await Delay());

        Assert.That(rows, Is.EqualTo(new[] { ((object?)2L, (object?)"dos", (object?)20L), (3L, "three", 3L), (4L, "cuatro", 40L) }));
        Assert.That(engine.GetRuleStatus("r").Errors, Is.Zero);
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(50);
        return true;
    }

    [Test]
    public void Rowkind_without_a_key_field_fails_rule_creation()
    {
        var error = Assert.ThrowsAsync<ArgumentException>(async () =>
        {
            await using var engine = await EngineAsync("SELECT * FROM s", new Dictionary<string, string> { ["url"] = MariaDbServer.ConnectionString, ["table"] = "t", ["rowkindField"] = "action" });
        })!;
        Assert.That(error.Message, Does.Contain("keyField"));
    }

    [Test]
    public async Task A_batch_the_table_refuses_goes_to_dead_letters_and_the_rule_goes_on()
    {
        var table = NewTable();
        await MariaDbServer.ScalarAsync($"CREATE TABLE `{table}` (a BIGINT)");
        await using var engine = await EngineAsync("SELECT * FROM s", new Dictionary<string, string> { ["url"] = MariaDbServer.ConnectionString, ["table"] = table });
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var letters = engine.Memory.Subscribe(EdgeStreamEngine.DeadLetterTopic, stop.Token);
        await engine.PublishAsync("s", new Dictionary<string, object?> { ["nope"] = 1L });
        var letter = (await letters.ReadAsync(stop.Token))[0];
        await engine.PublishAsync("s", new Dictionary<string, object?> { ["a"] = 2L });
        await WaitForRowsAsync(table, 1);
        Assert.That(letter["error"]?.ToString(), Does.Contain("Unknown column 'nope'"));
        Assert.That(letter["error"]?.ToString(), Does.Not.Contain(MariaDbServer.Password));
        Assert.That(await MariaDbServer.ScalarAsync($"SELECT a FROM `{table}`"), Is.EqualTo(2L));
    }

    [Test]
    public async Task A_refused_batch_is_split_so_only_the_rows_the_table_refuses_are_dead_lettered()
    {
        var table = NewTable();
        await MariaDbServer.ScalarAsync($"CREATE TABLE `{table}` (id BIGINT PRIMARY KEY, n BIGINT)");
        await using var engine = await EngineAsync("SELECT * FROM s", new Dictionary<string, string>
        {
            ["url"] = MariaDbServer.ConnectionString, ["table"] = table, ["batchSize"] = "10", ["lingerInterval"] = "500",
        });
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var letters = engine.Memory.Subscribe(EdgeStreamEngine.DeadLetterTopic, stop.Token);

        // Ids 2 and 3 come twice: the key refuses their second rows, and only those.
        long[] ids = [1, 2, 3, 2, 5, 6, 7, 3, 9, 10];
        await engine.PublishBatchAsync("s", ids.Select((id, n) => new Dictionary<string, object?> { ["id"] = id, ["n"] = (long)n }));
        await engine.StopRuleAsync("r");

        var rows = await MariaDbServer.QueryAsync($"SELECT id, n FROM `{table}` ORDER BY id");
        Assert.That(rows.Select(r => ((long)r["id"]!, (long)r["n"]!)), Is.EqualTo(new[] { (1L, 0L), (2L, 1L), (3L, 2L), (5L, 4L), (6L, 5L), (7L, 6L), (9L, 8L), (10L, 9L) }));
        var refused = new List<long>();
        while (letters.TryRead(out var letter))
        {
            Assert.That(letter[0]["error"]?.ToString(), Does.Contain("Duplicate entry"));
            refused.AddRange(((object?[])letter[0]["rows"]!).Select(r => (long)((IReadOnlyDictionary<string, object?>)r!)["n"]!));
        }

        Assert.That(refused, Is.EqualTo(new long[] { 3, 7 }), "the second rows of ids 2 and 3, each on its own");
        var status = engine.GetRuleStatus("r");
        Assert.That(status.Metrics["sink_mysql_0_0_exceptions_total"], Is.EqualTo(2));
        Assert.That(status.LastExceptions["sink_mysql_0_0_last_exception"], Does.Contain("Duplicate entry"));
    }

    [Test]
    public async Task Bad_credentials_fail_the_rules_start_with_the_servers_reason_and_never_the_password()
    {
        var table = NewTable();
        await MariaDbServer.ScalarAsync($"CREATE TABLE `{table}` (a BIGINT)");
        const string Wrong = "not-the-Secret-42";
        foreach (var url in new[]
        {
            $"Server=127.0.0.1;Port={MariaDbServer.Port};User ID={MariaDbServer.User};Password={Wrong};Database={MariaDbServer.Database}",
            $"mysql://{MariaDbServer.User}:{Wrong}@127.0.0.1:{MariaDbServer.Port}/{MariaDbServer.Database}",
            $"{MariaDbServer.User}:{Wrong}@tcp(127.0.0.1:{MariaDbServer.Port})/{MariaDbServer.Database}",
        })
        {
            var engine = new EdgeStreamEngine();
            await using (engine)
            {
                engine.RegisterMySqlSink();
                engine.Execute("CREATE STREAM s () WITH (DATASOURCE=\"s\", TYPE=\"memory\")");
                var rule = new RuleDefinition("r", "SELECT * FROM s");
                rule.Actions.Add(new RuleAction("mysql", new Dictionary<string, string> { ["url"] = url, ["table"] = table }));
                var error = Assert.ThrowsAsync<SinkException>(() => engine.CreateRuleAsync(rule))!;
                Assert.That(error.Message, Does.StartWith("sink `mysql` cannot start: mysql: connect failed").And.Contain("Access denied for user 'edge'"));
                var status = engine.GetRuleStatus("r");
                Assert.That(status.State, Is.EqualTo(RuleState.StoppedByError));
                foreach (var text in new[] { error.ToString(), status.LastError!, engine.ExplainRule("r") }.Concat(status.LastExceptions.Values))
                {
                    Assert.That(text, Does.Not.Contain(Wrong).And.Not.Contain(MariaDbServer.Password));
                }
            }
        }
    }

    [TestCase("missing_table", "table `missing_table` does not exist in database `edgetest`")]
    [TestCase("edgetest.missing_table", "table `missing_table` does not exist in database `edgetest`")]
    [TestCase("no_such_db.t", "table `t` does not exist in database `no_such_db`")]
    public async Task A_missing_table_fails_the_rules_start(string table, string reason)
    {
        var error = Assert.ThrowsAsync<SinkException>(async () =>
        {
            await using var engine = await EngineAsync("SELECT * FROM s", new Dictionary<string, string> { ["url"] = MariaDbServer.ConnectionString, ["table"] = table });
        })!;
        Assert.That(error.Message, Is.EqualTo("sink `mysql` cannot start: mysql: " + reason + " (or this user may not use it)"));
    }

    [Test]
    public async Task A_url_without_a_database_needs_a_qualified_table()
    {
        var table = NewTable();
        await MariaDbServer.ScalarAsync($"CREATE TABLE `{table}` (a BIGINT)");
        var url = $"mysql://{MariaDbServer.User}:{Uri.EscapeDataString(MariaDbServer.Password)}@127.0.0.1:{MariaDbServer.Port}/";
        var error = Assert.ThrowsAsync<SinkException>(async () =>
        {
            await using var engine = await EngineAsync("SELECT * FROM s", new Dictionary<string, string> { ["url"] = url, ["table"] = table });
        })!;
        Assert.That(error.Message, Does.Contain($"table `{table}` names no database and the url selects none"));

        await using (var engine = await EngineAsync("SELECT a FROM s", new Dictionary<string, string> { ["url"] = url, ["table"] = $"{MariaDbServer.Database}.{table}" }))
        {
            await engine.PublishAsync("s", new Dictionary<string, object?> { ["a"] = 5L });
            await WaitForRowsAsync(table, 1);
        }
    }

    [Test]
    public async Task An_unknown_database_fails_the_rules_start()
    {
        var url = new MySqlConnector.MySqlConnectionStringBuilder(MariaDbServer.ConnectionString) { Database = "nowhere" }.ConnectionString;
        var error = Assert.ThrowsAsync<SinkException>(async () =>
        {
            await using var engine = await EngineAsync("SELECT * FROM s", new Dictionary<string, string> { ["url"] = url, ["table"] = "t" });
        })!;
        Assert.That(error.Message, Does.Contain("nowhere").And.Not.Contain(MariaDbServer.Password));
    }

    [Test]
    public async Task A_server_crash_mid_stream_loses_nothing_and_an_upsert_key_writes_each_row_once()
    {
        var table = NewTable();
        await MariaDbServer.ScalarAsync($"CREATE TABLE `{table}` (id BIGINT PRIMARY KEY, v BIGINT)");
        await using var engine = await EngineAsync("SELECT id, v, 'upsert' AS action FROM s", new Dictionary<string, string>
        {
            ["url"] = MariaDbServer.ConnectionString + ";Connection Timeout=2", ["table"] = table,
            ["rowkindField"] = "action", ["keyField"] = "id", ["batchSize"] = "50", ["lingerInterval"] = "10",
        });
        using var stop = new CancellationTokenSource();
        var letters = engine.Memory.Subscribe(EdgeStreamEngine.DeadLetterTopic, stop.Token);
        const int Count = 3_000;
        var publishing = Task.Run(async () =>
        {
            for (var i = 0; i < Count; i++)
            {
                await engine.PublishAsync("s", new Dictionary<string, object?> { ["id"] = (long)i, ["v"] = (long)i * 2 });
                if (i % 100 == 0)
                {
                    await Task.Delay(20); // rows keep flowing while the server is down
                }
            }
        });
        await WaitForRowsAsync(table, 300);
        await MariaDbServer.CrashAndRestartAsync(TimeSpan.FromSeconds(2));
        await publishing;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Convert.ToInt64(await MariaDbServer.ScalarAsync($"SELECT COUNT(*) FROM `{table}`"), System.Globalization.CultureInfo.InvariantCulture) < Count
            && DateTime.UtcNow < deadline && !letters.TryPeek(out _))
        {
            await Task.Delay(50);
        }

        Assert.That(letters.TryRead(out var letter) ? letter[0]["error"] : null, Is.Null, "no batch may be given up as permanent");

        Assert.That(await MariaDbServer.ScalarAsync($"SELECT COUNT(*) FROM `{table}`"), Is.EqualTo((long)Count));
        Assert.That(await MariaDbServer.ScalarAsync($"SELECT COUNT(*) FROM `{table}` WHERE v = id * 2"), Is.EqualTo((long)Count));
        Assert.That(await MariaDbServer.ScalarAsync($"SELECT MIN(id) + MAX(id) FROM `{table}`"), Is.EqualTo((long)Count - 1));
        var status = engine.GetRuleStatus("r");
        Assert.That(status.State.ToString(), Is.EqualTo("Running"));
        Assert.That(status.LastError ?? string.Empty, Does.Not.Contain(MariaDbServer.Password));
        Assert.That(status.Metrics["sink_mysql_0_0_records_out_total"], Is.EqualTo((long)Count));
        Assert.That(status.Metrics["sink_mysql_0_0_retries_total"], Is.GreaterThan(0), "the outage was retried");
        Assert.That(status.Metrics["sink_mysql_0_0_batches_total"], Is.InRange(Count / 50, Count));
        Assert.That(status.Metrics["sink_mysql_0_0_buffer_length"], Is.Zero);
        Assert.That(status.Metrics["sink_mysql_0_0_rows_out_total"], Is.EqualTo((long)Count));
        Assert.That(status.Metrics["sink_mysql_0_0_rows_waiting"], Is.Zero);
        Assert.That(status.LastExceptions["sink_mysql_0_0_last_exception"], Does.StartWith("sink `mysql` could not write").And.Not.Contain(MariaDbServer.Password));
        Assert.That(status.Metrics["sink_mysql_0_0_exceptions_total"], Is.Zero);
    }

    [Test]
    public async Task A_server_that_is_down_when_the_rule_starts_gets_the_rows_once_it_is_up()
    {
        var table = NewTable();
        await MariaDbServer.ScalarAsync($"CREATE TABLE `{table}` (n BIGINT)");
        await MariaDbServer.Server.CrashAsync();
        EdgeStreamEngine engine;
        try
        {
            // Not a configuration error: the rule starts, and what it sends waits in the sink's buffer.
            engine = await EngineAsync("SELECT n FROM s", new Dictionary<string, string>
            {
                ["url"] = MariaDbServer.ConnectionString + ";Connection Timeout=1", ["table"] = table, ["batchSize"] = "10",
            });
            for (var i = 0; i < 100; i++)
            {
                await engine.PublishAsync("s", new Dictionary<string, object?> { ["n"] = (long)i });
            }

            await Task.Delay(1500);
            var status = engine.GetRuleStatus("r");
            Assert.That(status.State.ToString(), Is.EqualTo("Running"));
            Assert.That(status.LastError, Does.Contain("could not open").And.Not.Contain(MariaDbServer.Password));
            Assert.That(status.Metrics["sink_mysql_0_0_retries_total"], Is.GreaterThan(0));
        }
        finally
        {
            await MariaDbServer.Server.RestartAsync();
        }

        await using (engine)
        {
            await WaitForRowsAsync(table, 100);
            var rows = await MariaDbServer.QueryAsync($"SELECT n FROM `{table}`");
            Assert.That(rows.Select(r => (long)r["n"]!).Order(), Is.EqualTo(Enumerable.Range(0, 100).Select(i => (long)i)));
        }
    }

    [Test]
    public async Task Registered_through_di_under_mysql_and_sql()
    {
        var services = new ServiceCollection();
        services.AddEdgeStream().AddMySqlSink();
        await using var provider = services.BuildServiceProvider();
        var engine = provider.GetRequiredService<EdgeStreamEngine>();
        engine.Execute("CREATE STREAM s () WITH (DATASOURCE=\"s\", TYPE=\"memory\")");
        var table = NewTable();
        await MariaDbServer.ScalarAsync($"CREATE TABLE `{table}` (a BIGINT)");
        foreach (var type in MySqlSinkExtensions.ActionNames)
        {
            var rule = new RuleDefinition("r-" + type, "SELECT a FROM s");
            rule.Actions.Add(new RuleAction(type, new Dictionary<string, string> { ["url"] = MariaDbServer.ConnectionString, ["table"] = table }));
            await engine.CreateRuleAsync(rule);
        }

        await engine.PublishAsync("s", new Dictionary<string, object?> { ["a"] = 5L });
        await WaitForRowsAsync(table, 2);
        var bad = new RuleDefinition("bad", "SELECT a FROM s");
        bad.Actions.Add(new RuleAction("mysql", new Dictionary<string, string> { ["url"] = MariaDbServer.ConnectionString, ["table"] = table, ["tabel"] = "typo" }));
        Assert.ThrowsAsync<ArgumentException>(() => engine.CreateRuleAsync(bad));
    }
}

/// <summary><c>edgestream run</c> with an eKuiper rule file whose action is <c>mysql</c>.</summary>
public sealed class CliMySqlTests
{
    [Test]
    public async Task A_rule_file_with_a_mysql_action_runs_from_the_cli()
    {
        await MariaDbServer.ScalarAsync("CREATE TABLE cli_out (a BIGINT, c DOUBLE)");
        var ruleFile = Path.Combine(Path.GetTempPath(), $"edgestream-rule-{Guid.NewGuid():N}.json");
        var dsn = $"{MariaDbServer.User}:{MariaDbServer.Password}@tcp(127.0.0.1:{MariaDbServer.Port})/{MariaDbServer.Database}";
        await File.WriteAllTextAsync(ruleFile, System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["id"] = "cli",
            ["sql"] = "SELECT a, b * 2 AS c FROM s WHERE a > 10",
            ["actions"] = new[] { new Dictionary<string, object> { ["mysql"] = new Dictionary<string, string> { ["url"] = dsn, ["table"] = "cli_out" } } },
        }));
        try
        {
            using var stdout = new StringWriter();
            using var stderr = new StringWriter();
            var code = Cli.CliApp.Run(["run", ruleFile, "--stream", "CREATE STREAM s (a BIGINT, b FLOAT) WITH (DATASOURCE=\"s\")"],
                new StringReader("{\"a\": 11, \"b\": 1.5}\n{\"a\": 5, \"b\": 1}\n{\"a\": 12, \"b\": 2}\n"), stdout, stderr);
            Assert.That(code, Is.Zero, stderr.ToString());
            Assert.That(stderr.ToString(), Does.Not.Contain(MariaDbServer.Password));
        }
        finally
        {
            File.Delete(ruleFile);
        }

        var rows = await MariaDbServer.QueryAsync("SELECT a, c FROM cli_out ORDER BY a");
        Assert.That(rows.Select(r => (r["a"], r["c"])), Is.EqualTo(new[] { ((object?)11L, (object?)3.0), (12L, 4.0) }));
    }

    [Test]
    public void A_rule_file_whose_table_is_missing_fails_the_cli_run_with_the_reason()
    {
        var ruleFile = Path.Combine(Path.GetTempPath(), $"edgestream-rule-{Guid.NewGuid():N}.json");
        var dsn = $"{MariaDbServer.User}:{MariaDbServer.Password}@tcp(127.0.0.1:{MariaDbServer.Port})/{MariaDbServer.Database}";
        File.WriteAllText(ruleFile, System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["id"] = "cli",
            ["sql"] = "SELECT a FROM s",
            ["actions"] = new[] { new Dictionary<string, object> { ["mysql"] = new Dictionary<string, string> { ["url"] = dsn, ["table"] = "cli_nowhere" } } },
        }));
        try
        {
            using var stdout = new StringWriter();
            using var stderr = new StringWriter();
            var code = Cli.CliApp.Run(["run", ruleFile, "--stream", "CREATE STREAM s (a BIGINT) WITH (DATASOURCE=\"s\")"], new StringReader("{\"a\": 1}\n"), stdout, stderr);
            Assert.That(code, Is.Not.Zero);
            Assert.That(stderr.ToString(), Does.Contain("table `cli_nowhere` does not exist in database `edgetest`").And.Not.Contain("ready").And.Not.Contain(MariaDbServer.Password));
        }
        finally
        {
            File.Delete(ruleFile);
        }
    }
}
