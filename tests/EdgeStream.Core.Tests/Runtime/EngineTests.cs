using System.Text;

namespace EdgeStream.Tests.Runtime;

/// <summary>The engine through its public API: memory streams in, memory sinks out.</summary>
public sealed class EngineTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static async Task<List<IReadOnlyList<IReadOnlyDictionary<string, object?>>>> Take(
        System.Threading.Channels.ChannelReader<IReadOnlyList<IReadOnlyDictionary<string, object?>>> reader, int count)
    {
        using var timeout = new CancellationTokenSource(Patience);
        var emissions = new List<IReadOnlyList<IReadOnlyDictionary<string, object?>>>();
        while (emissions.Count < count)
        {
            emissions.Add(await reader.ReadAsync(timeout.Token));
        }

        return emissions;
    }

    private static string Show(IEnumerable<IReadOnlyList<IReadOnlyDictionary<string, object?>>> emissions) =>
        string.Join(" | ", emissions.Select(e => string.Join("; ", e.Select(r => string.Join(", ", r.Select(kv => $"{kv.Key}={kv.Value}"))))));

    private static async Task<EdgeStreamEngine> EngineWith(string ddl, string sql, Action<RuleDefinition>? configure = null)
    {
        var engine = new EdgeStreamEngine();
        engine.Execute(ddl);
        var rule = new RuleDefinition("r1", sql);
        rule.Actions.Add(new RuleAction("memory", new Dictionary<string, string> { ["topic"] = "out" }));
        configure?.Invoke(rule);
        await engine.CreateRuleAsync(rule);
        return engine;
    }

    [Test]
    public async Task A_stateless_rule_filters_and_projects()
    {
        await using var engine = await EngineWith(
            "CREATE STREAM s (a BIGINT, b FLOAT) WITH (DATASOURCE=\"in\", TYPE=\"memory\")",
            "SELECT a, b * 2 AS c FROM s WHERE a > 10");
        using var stop = new CancellationTokenSource();
        var output = engine.Memory.Subscribe("out", stop.Token);

        await engine.Memory.PublishAsync("in", new Dictionary<string, object?> { ["a"] = 5, ["b"] = 1.0 });
        await engine.Memory.PublishAsync("in", new Dictionary<string, object?> { ["a"] = 11, ["b"] = 1.5 });
        await engine.Memory.PublishJsonAsync("in", """{"a": 12, "b": 2}"""u8.ToArray());
        await engine.Memory.PublishJsonAsync("in", """{"a": 13}"""u8.ToArray());

        var results = await Take(output, 3);
        Assert.That(Show(results), Is.EqualTo("a=11, c=3 | a=12, c=4 | a=13"));
        Assert.That(results[1][0]["c"], Is.TypeOf<double>(), "a FLOAT column times 2 stays a float");

        var status = engine.GetRuleStatus("r1");
        Assert.That((status.State, status.RecordsIn, status.RecordsOut, status.Errors), Is.EqualTo((RuleState.Running, 4L, 3L, 0L)));
    }

    [Test]
    public async Task Malformed_events_are_counted_reported_and_lose_no_other_event()
    {
        await using var engine = await EngineWith(
            "CREATE STREAM s () WITH (DATASOURCE=\"in\", TYPE=\"memory\")",
            "SELECT a FROM s",
            r => r.Options.SendError = true);
        using var stop = new CancellationTokenSource();
        var output = engine.Memory.Subscribe("out", stop.Token);

        string[] payloads = ["""{"a": 1}""", """{"a": """, """{"a": 2}""", "[1, 2]", """{"a": 3}""", "not json", """{"a": 4}"""];
        foreach (var payload in payloads)
        {
            await engine.Memory.PublishJsonAsync("in", Encoding.UTF8.GetBytes(payload));
        }

        var results = await Take(output, payloads.Length);
        var values = results.Select(e => e[0].TryGetValue("a", out var a) ? $"a={a}" : e[0].ContainsKey("error") ? "error" : "?").ToArray();
        Assert.That(values, Is.EqualTo(new[] { "a=1", "error", "a=2", "error", "a=3", "error", "a=4" }));
        var status = engine.GetRuleStatus("r1");
        Assert.That((status.RecordsIn, status.Errors, status.State), Is.EqualTo((7L, 3L, RuleState.Running)));
        Assert.That(status.LastError, Does.StartWith("decode error"));
    }

    [Test]
    public async Task Without_send_error_bad_events_are_only_counted()
    {
        await using var engine = await EngineWith(
            "CREATE STREAM s () WITH (DATASOURCE=\"in\", TYPE=\"memory\")",
            "SELECT size * 5 AS c FROM s");
        using var stop = new CancellationTokenSource();
        var output = engine.Memory.Subscribe("out", stop.Token);
        await engine.Memory.PublishJsonAsync("in", """{"size": "string"}"""u8.ToArray());
        await engine.Memory.PublishJsonAsync("in", """{"size": 3}"""u8.ToArray());

        var results = await Take(output, 1);
        Assert.That(Show(results), Is.EqualTo("c=15"));
        Assert.That(engine.GetRuleStatus("r1").LastError, Is.EqualTo("run Select error: invalid operation string(string) * int64(5)"));
    }

    [Test]
    public async Task Strict_validation_rejects_mistyped_fields_with_ekuipers_message()
    {
        await using var engine = await EngineWith(
            "CREATE STREAM s (color STRING, size BIGINT) WITH (DATASOURCE=\"in\", TYPE=\"memory\", STRICT_VALIDATION=\"true\")",
            "SELECT color, size FROM s",
            r => r.Options.SendError = true);
        using var stop = new CancellationTokenSource();
        var output = engine.Memory.Subscribe("out", stop.Token);
        await engine.Memory.PublishJsonAsync("in", """{"color": "blue", "size": "red"}"""u8.ToArray());
        await engine.Memory.PublishJsonAsync("in", """{"color": "red", "size": 3.0}"""u8.ToArray());

        var results = await Take(output, 2);
        Assert.That(results[0][0]["error"], Is.EqualTo("error in preprocessor: field size type mismatch: cannot convert string(red) to int64"));
        Assert.That(results[1][0]["size"], Is.EqualTo(3L), "a whole float converts to a BIGINT column");
    }

    [Test]
    public async Task Stopping_finishes_every_accepted_event()
    {
        await using var engine = await EngineWith(
            "CREATE STREAM s () WITH (DATASOURCE=\"in\", TYPE=\"memory\")",
            "SELECT i FROM s");
        using var stop = new CancellationTokenSource();
        var output = engine.Memory.Subscribe("out", stop.Token, capacity: 10_000);
        for (var i = 0; i < 2_000; i++)
        {
            await engine.Memory.PublishAsync("in", new Dictionary<string, object?> { ["i"] = i });
        }

        await engine.StopRuleAsync("r1");
        var status = engine.GetRuleStatus("r1");
        Assert.That((status.State, status.RecordsIn, status.RecordsOut), Is.EqualTo((RuleState.Stopped, 2_000L, 2_000L)));
        var results = await Take(output, 2_000);
        Assert.That(results.Select(e => (long)e[0]["i"]!), Is.EqualTo(Enumerable.Range(0, 2_000).Select(i => (long)i)));

        // A stopped rule takes nothing; started again, it does.
        await engine.Memory.PublishAsync("in", new Dictionary<string, object?> { ["i"] = -1 });
        await engine.StartRuleAsync("r1");
        await engine.Memory.PublishAsync("in", new Dictionary<string, object?> { ["i"] = 7 });
        Assert.That(Show(await Take(output, 1)), Is.EqualTo("i=7"));
    }

    [Test]
    public async Task Rules_chain_through_memory_topics()
    {
        await using var engine = new EdgeStreamEngine();
        engine.Execute("CREATE STREAM raw () WITH (DATASOURCE=\"raw\", TYPE=\"memory\")");
        engine.Execute("CREATE STREAM hot () WITH (DATASOURCE=\"hot\", TYPE=\"memory\")");
        var first = new RuleDefinition("filter", "SELECT id, temp FROM raw WHERE temp > 30");
        first.Actions.Add(new RuleAction("memory", new Dictionary<string, string> { ["topic"] = "hot" }));
        var second = new RuleDefinition("convert", "SELECT id, temp * 9 / 5 + 32 AS f FROM hot");
        second.Actions.Add(new RuleAction("memory", new Dictionary<string, string> { ["topic"] = "out" }));
        await engine.CreateRuleAsync(second);
        await engine.CreateRuleAsync(first);
        using var stop = new CancellationTokenSource();
        var output = engine.Memory.Subscribe("out", stop.Token);

        await engine.Memory.PublishAsync("raw", new Dictionary<string, object?> { ["id"] = "a", ["temp"] = 20 });
        await engine.Memory.PublishAsync("raw", new Dictionary<string, object?> { ["id"] = "b", ["temp"] = 35.0 });
        Assert.That(Show(await Take(output, 1)), Is.EqualTo("id=b, f=95"));
    }

    [Test]
    public async Task Rules_are_added_and_removed_while_others_run()
    {
        await using var engine = await EngineWith("CREATE STREAM s () WITH (DATASOURCE=\"in\", TYPE=\"memory\")", "SELECT a FROM s");
        using var stop = new CancellationTokenSource();
        var output = engine.Memory.Subscribe("out", stop.Token);
        var second = new RuleDefinition("r2", "SELECT a + 100 AS b FROM s");
        second.Actions.Add(new RuleAction("memory", new Dictionary<string, string> { ["topic"] = "out2" }));
        await engine.CreateRuleAsync(second);
        var output2 = engine.Memory.Subscribe("out2", stop.Token);

        await engine.Memory.PublishAsync("in", new Dictionary<string, object?> { ["a"] = 1 });
        Assert.That(Show(await Take(output2, 1)), Is.EqualTo("b=101"));
        await engine.DeleteRuleAsync("r2");
        Assert.That(engine.RuleIds, Is.EqualTo(new[] { "r1" }));

        await engine.Memory.PublishAsync("in", new Dictionary<string, object?> { ["a"] = 2 });
        Assert.That(Show(await Take(output, 2)), Is.EqualTo("a=1 | a=2"));
        Assert.That(output2.TryRead(out _), Is.False, "a deleted rule produces nothing");
        Assert.Throws<KeyNotFoundException>(() => engine.GetRuleStatus("r2"));
    }

    [Test]
    public async Task Events_can_be_pushed_into_any_stream_by_name()
    {
        await using var engine = await EngineWith(
            "CREATE STREAM sensors (id STRING, t FLOAT) WITH (DATASOURCE=\"factory/+/temp\", TYPE=\"mqtt\")",
            "SELECT id FROM sensors WHERE t > 50");
        using var stop = new CancellationTokenSource();
        var output = engine.Memory.Subscribe("out", stop.Token);
        await engine.PublishAsync("SENSORS", new Dictionary<string, object?> { ["id"] = "a", ["t"] = 20.5 });
        await engine.PublishJsonAsync("sensors", """{"id": "b", "t": 70}"""u8.ToArray());
        Assert.That(Show(await Take(output, 1)), Is.EqualTo("id=b"));
        Assert.ThrowsAsync<KeyNotFoundException>(async () => await engine.PublishAsync("nope", new Dictionary<string, object?>()));
    }

    [Test]
    public async Task Invalid_rules_fail_at_creation_with_a_clear_error()
    {
        await using var engine = new EdgeStreamEngine();
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (DATASOURCE=\"in\", TYPE=\"memory\")");
        engine.Execute("CREATE STREAM m (a BIGINT) WITH (DATASOURCE=\"topic\", TYPE=\"mqtt\")");

        async Task<Exception> Fails(string sql, params RuleAction[] actions)
        {
            var rule = new RuleDefinition("bad", sql);
            foreach (var action in actions)
            {
                rule.Actions.Add(action);
            }

            var e = Assert.CatchAsync(() => engine.CreateRuleAsync(rule))!;
            await Task.CompletedTask;
            return e;
        }

        Assert.Multiple(async () =>
        {
            Assert.That((await Fails("SELECT b FROM s")).Message, Is.EqualTo("Error (line 1, column 8): unknown field `b` in stream `s`."));
            Assert.That((await Fails("SELECT abs('x') FROM s")).Message,
                Is.EqualTo("Error (line 1, column 12): abs: argument 1 must be a number, not string(x)."));
            Assert.That(await Fails("SELECT a FROM s", new RuleAction("kafka")), Is.TypeOf<ArgumentException>());
            Assert.That(await Fails("SELECT a FROM s", new RuleAction("memory")), Is.TypeOf<ArgumentException>());
        });
        Assert.That(engine.RuleIds, Is.Empty, "a rule that fails creation is not added");

        var rule = new RuleDefinition("ok", "SELECT a FROM s");
        await engine.CreateRuleAsync(rule);
        Assert.ThrowsAsync<ArgumentException>(() => engine.CreateRuleAsync(new RuleDefinition("ok", "SELECT a FROM s")));
        var drop = Assert.Throws<SqlException>(() => engine.Execute("DROP STREAM s"))!;
        Assert.That(drop.Reason, Is.EqualTo("`s` is used by rule `ok`; delete the rule first"));
    }

    [Test]
    public async Task A_table_or_stream_a_rule_joins_cannot_be_dropped_while_the_rule_exists()
    {
        await using var engine = new EdgeStreamEngine();
        engine.Execute("CREATE STREAM s (a BIGINT, k STRING) WITH (DATASOURCE=\"s\", TYPE=\"memory\")");
        engine.Execute("CREATE STREAM other (k STRING) WITH (DATASOURCE=\"o\", TYPE=\"memory\")");
        engine.Execute("CREATE TABLE t (k STRING, name STRING) WITH (DATASOURCE=\"t\", TYPE=\"memory\")");
        await engine.CreateRuleAsync(new RuleDefinition("lookup", "SELECT s.a, t.name FROM s LEFT JOIN t ON s.k = t.k"));
        await engine.CreateRuleAsync(new RuleDefinition("pair", "SELECT s.a FROM s INNER JOIN other ON s.k = other.k GROUP BY TUMBLINGWINDOW(ss, 10)"));

        Assert.That(Assert.Throws<SqlException>(() => engine.Execute("DROP TABLE t"))!.Reason, Is.EqualTo("`t` is used by rule `lookup`; delete the rule first"));
        Assert.That(Assert.Throws<SqlException>(() => engine.Execute("DROP STREAM other"))!.Reason, Is.EqualTo("`other` is used by rule `pair`; delete the rule first"));

        await engine.DeleteRuleAsync("lookup");
        engine.Execute("DROP TABLE t");
        Assert.That(engine.GetStreams().Select(d => d.Name), Is.EquivalentTo(new[] { "s", "other" }));
    }

    [Test]
    public async Task Rule_statuses_list_every_rule_once_in_id_order_with_its_state()
    {
        await using var engine = new EdgeStreamEngine();
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (DATASOURCE=\"s\", TYPE=\"memory\")");
        await engine.CreateRuleAsync(new RuleDefinition("b", "SELECT a FROM s"));
        await engine.CreateRuleAsync(new RuleDefinition("a", "SELECT a FROM s") { Triggered = false });
        await engine.CreateRuleAsync(new RuleDefinition("c", "SELECT a FROM s"));
        await engine.DeleteRuleAsync("c");

        var statuses = engine.GetRuleStatuses();
        Assert.That(statuses.Select(s => (s.Id, s.State)), Is.EqualTo(new[] { ("a", RuleState.Stopped), ("b", RuleState.Running) }));
        Assert.That(engine.GetRuleStatuses(), Is.Not.SameAs(statuses), "a new snapshot per call");
    }
}
