namespace EdgeStream.Tests.Runtime;

public sealed class ExplainTests
{
    [Test]
    public async Task Explain_shows_source_stage_operators_and_sinks_with_secrets_masked()
    {
        await using var engine = new EdgeStreamEngine();
        engine.RegisterSink("db", _ => new NopTestSink());
        engine.Execute("CREATE STREAM demo (a BIGINT, b FLOAT) WITH (DATASOURCE=\"in\", TYPE=\"memory\", SHARED=\"true\")");
        var rule = RuleDefinition.FromJson("""
            {"id": "r1", "sql": "SELECT a, b*2 AS c FROM demo WHERE a > 10",
             "actions": [{"memory": {"topic": "out"}},
                         {"db": {"url": "root:hunter2@tcp(127.0.0.1:3306)/test", "password": "hunter2", "dsn": "Server=x;Password=hunter2;User=u", "table": "t"}}],
             "options": {"concurrency": 2}}
            """);
        await engine.CreateRuleAsync(rule);

        var plan = engine.ExplainRule("r1");
        Assert.That(plan, Is.EqualTo("""
            rule r1
              source demo: type memory, datasource "in", format json, shared, columns a, b  [source_demo_0_]
              stage: decode, filter, project fused, 2 tasks; buffer 1024 (block when full)
                filter: a > 10  [op_2_filter_0_]
                project: a, b * 2 AS c  [op_3_project_0_]
              sink 0: memory (topic=out)  [sink_memory_0_0_]
              sink 1: db (dsn=Server=x;Password=***;User=u, password=***, table=t, url=root:***@tcp(127.0.0.1:3306)/test); rows, idempotent writes  [sink_db_1_0_]

            """.ReplaceLineEndings("\n")));
        Assert.That(plan, Does.Not.Contain("hunter2"));
        Assert.That(() => engine.ExplainRule("nope"), Throws.TypeOf<KeyNotFoundException>());
    }

    private sealed class NopTestSink : ISink
    {
        public SinkWriteSemantics WriteSemantics => SinkWriteSemantics.Idempotent;

        public ValueTask OpenAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask WriteAsync(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

public sealed class WindowExplainTests
{
    [Test]
    public async Task Explain_shows_the_window_and_grouping()
    {
        await using var engine = new EdgeStreamEngine();
        engine.Execute("CREATE STREAM demo (k STRING, v BIGINT) WITH (DATASOURCE=\"in\", TYPE=\"memory\")");
        await engine.CreateRuleAsync(new RuleDefinition("w", "SELECT k, sum(v) AS s FROM demo GROUP BY k, TUMBLINGWINDOW(ss, 10) HAVING s > 1"));
        Assert.That(engine.ExplainRule("w"), Does.Contain("    window and grouping: GROUP BY k, TUMBLINGWINDOW(ss, 10) HAVING s > 1  [op_2_window_0_]\n    project: k, sum(v) AS s  [op_5_project_0_]\n"));
    }
}
