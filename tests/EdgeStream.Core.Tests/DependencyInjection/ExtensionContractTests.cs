using System.Threading.Channels;
using EdgeStream.TestExtensions;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeStream.Tests.DependencyInjection;

/// <summary>
/// User <see cref="ISource"/>, <see cref="IFunction"/>, <see cref="IAggregateFunction"/> and <see cref="IFormat"/>
/// implementations from a separate assembly, registered through DI and run end to end.
/// </summary>
public sealed class ExtensionContractTests
{
    private static ServiceProvider Provider()
    {
        var services = new ServiceCollection();
        services.AddSingleton<SourceFeed>();
        services.AddEdgeStream()
            .AddSource<FeedSource>("feed")
            .AddFunction<ScaleFunction>("scale")
            .AddFunction<TagFunction>("tag")
            .AddAggregateFunction<ProductAggregate>("product")
            .AddFormat<KeyValueFormat>("kv");
        return services.BuildServiceProvider();
    }

    private static RuleDefinition ToMemory(string id, string sql, string topic, bool sendError = false)
    {
        var rule = new RuleDefinition(id, sql);
        rule.Actions.Add(new RuleAction("memory", new Dictionary<string, string> { ["topic"] = topic }));
        rule.Options.SendError = sendError;
        return rule;
    }

    internal static async Task<List<IReadOnlyDictionary<string, object?>>> Take(ChannelReader<IReadOnlyList<IReadOnlyDictionary<string, object?>>> reader, int count)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var rows = new List<IReadOnlyDictionary<string, object?>>();
        while (rows.Count < count)
        {
            rows.AddRange(await reader.ReadAsync(timeout.Token));
        }

        return rows;
    }

    [Test]
    public async Task A_registered_source_format_and_function_run_a_rule_and_bad_payloads_do_not_stop_it()
    {
        await using var provider = Provider();
        var engine = provider.GetRequiredService<EdgeStreamEngine>();
        var feed = provider.GetRequiredService<SourceFeed>();
        engine.Execute("CREATE STREAM s (a BIGINT, b BIGINT) WITH (TYPE=\"feed\", DATASOURCE=\"plant\", FORMAT=\"kv\")");
        using var cts = new CancellationTokenSource();
        var output = engine.Memory.Subscribe("out", cts.Token);
        var letters = engine.Memory.Subscribe(EdgeStreamEngine.DeadLetterTopic, cts.Token);
        await engine.CreateRuleAsync(ToMemory("r1", "SELECT a, scale(b, 10) AS c, tag(a) AS t FROM s WHERE a > 0", "out"));

        var w = feed.For("plant");
        await w.WriteAsync("a=1;b=2");
        await w.WriteAsync("not a key value payload");
        await w.WriteAsync("a=0;b=9\na=3;b=4"); // one payload, two events; the first is filtered out
        var rows = await Take(output, 2);

        Assert.That(rows.Select(r => (r["a"], r["c"], r["t"])), Is.EqualTo(new[] { ((object?)1L, (object?)20L, (object?)"r1/tag/1"), (3L, 40L, "r1/tag/3") }));
        var letter = (await Take(letters, 1))[0];
        Assert.That(letter["error"], Does.StartWith("decode error: `not a key value payload` is not key=value"));
        var status = engine.GetRuleStatus("r1");
        Assert.That((status.RecordsIn, status.Errors), Is.EqualTo((4L, 1L)), "three events and one bad payload came in");
        Assert.That(feed.Instances, Is.EqualTo(1));
    }

    [Test]
    public async Task With_sendMetaToSink_results_carry_the_source_metadata()
    {
        await using var provider = Provider();
        var engine = provider.GetRequiredService<EdgeStreamEngine>();
        var feed = provider.GetRequiredService<SourceFeed>();
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (TYPE=\"feed\", DATASOURCE=\"line-3\", FORMAT=\"kv\", SHARED=\"true\")");
        using var cts = new CancellationTokenSource();
        var with = engine.Memory.Subscribe("with", cts.Token);
        var without = engine.Memory.Subscribe("without", cts.Token);
        await engine.CreateRuleAsync(RuleDefinition.FromJson("""
            {"id": "m", "sql": "SELECT a FROM s", "options": {"sendMetaToSink": true},
             "actions": [{"memory": {"topic": "with"}},
                         {"memory": {"topic": "without", "sendSingle": true, "dataTemplate": "{\"line\": \"{{.__meta.source}}\", \"a\": {{.a}}}"}}]}
            """));
        await engine.CreateRuleAsync(ToMemory("plain", "SELECT a FROM s", "plain"));
        var plain = engine.Memory.Subscribe("plain", cts.Token);
        await feed.For("line-3").WriteAsync("a=7");

        var row = (await Take(with, 1))[0];
        Assert.That(row["__meta"], Is.EqualTo(new Dictionary<string, object?> { ["source"] = "line-3" }));
        Assert.That((await Take(without, 1))[0], Is.EqualTo(new Dictionary<string, object?> { ["line"] = "line-3", ["a"] = 7L }));
        Assert.That((await Take(plain, 1))[0].Keys, Is.EqualTo(new[] { "a" }), "without the option there is no __meta column");
        Assert.That(engine.GetRuleStatus("m").Warnings, Is.Empty);
    }

    [Test]
    public async Task A_throwing_function_fails_only_its_row()
    {
        await using var provider = Provider();
        var engine = provider.GetRequiredService<EdgeStreamEngine>();
        engine.Execute("CREATE STREAM s (a BIGINT, f BIGINT) WITH (TYPE=\"memory\", DATASOURCE=\"in\")");
        using var cts = new CancellationTokenSource();
        var output = engine.Memory.Subscribe("out", cts.Token);
        await engine.CreateRuleAsync(ToMemory("r", "SELECT scale(a, f) AS x FROM s", "out", sendError: true));

        foreach (var (a, f) in new[] { (1L, 3L), (2L, 0L), (3L, 3L) })
        {
            await engine.PublishAsync("s", new Dictionary<string, object?> { ["a"] = a, ["f"] = f });
        }

        var rows = await Take(output, 3);
        Assert.That(rows[0]["x"], Is.EqualTo(3L));
        Assert.That(rows[1]["error"], Is.EqualTo("run Select error: function `scale` failed: factor 0 is not allowed"));
        Assert.That(rows[2]["x"], Is.EqualTo(9L));
        Assert.That(engine.GetRuleStatus("r").Errors, Is.EqualTo(1));
    }

    [Test]
    public async Task Nested_user_function_calls_each_get_their_own_arguments()
    {
        await using var provider = Provider();
        var engine = provider.GetRequiredService<EdgeStreamEngine>();
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (TYPE=\"memory\", DATASOURCE=\"in\")");
        using var cts = new CancellationTokenSource();
        var output = engine.Memory.Subscribe("out", cts.Token);
        await engine.CreateRuleAsync(ToMemory("r", "SELECT scale(scale(a, 3), scale(a)) AS x, scale(1.5) AS y FROM s", "out"));
        await engine.PublishAsync("s", new Dictionary<string, object?> { ["a"] = 5 });

        var row = (await Take(output, 1))[0];
        Assert.That((row["x"], row["y"]), Is.EqualTo(((object?)150L, (object?)3.0)), "(5*3) * (5*2), and a float doubled");
    }

    [Test]
    public async Task A_shared_stream_runs_one_source_instance_and_decodes_once_for_all_its_rules()
    {
        await using var provider = Provider();
        var engine = provider.GetRequiredService<EdgeStreamEngine>();
        var feed = provider.GetRequiredService<SourceFeed>();
        engine.Execute("CREATE STREAM s (a BIGINT, b BIGINT) WITH (TYPE=\"feed\", DATASOURCE=\"shared\", FORMAT=\"kv\", SHARED=\"true\")");
        using var cts = new CancellationTokenSource();
        var one = engine.Memory.Subscribe("one", cts.Token);
        var two = engine.Memory.Subscribe("two", cts.Token);
        await engine.CreateRuleAsync(ToMemory("r1", "SELECT a FROM s", "one"));
        await engine.CreateRuleAsync(ToMemory("r2", "SELECT b, a + b AS s FROM s WHERE b > 1", "two"));

        var w = feed.For("shared");
        await w.WriteAsync("a=1;b=1");
        await w.WriteAsync("a=2;b=2");
        await w.WriteAsync("garbage");
        await w.WriteAsync("a=3;b=3");

        Assert.That((await Take(one, 3)).Select(r => r["a"]), Is.EqualTo(new object[] { 1L, 2L, 3L }));
        Assert.That((await Take(two, 2)).Select(r => r["s"]), Is.EqualTo(new object[] { 4L, 6L }));
        Assert.That(feed.Instances, Is.EqualTo(1), "one source instance serves both rules");
        Assert.That(feed.Decodes, Is.EqualTo(4), "each payload is decoded once, not once per rule");
        Assert.That(engine.GetRuleStatus("r1").Errors, Is.EqualTo(1), "both rules count the bad payload");
        Assert.That(engine.GetRuleStatus("r2").Errors, Is.EqualTo(1));

        // The source stays up while one rule still reads, and a restarted rule joins the running instance.
        await engine.StopRuleAsync("r1");
        await w.WriteAsync("a=4;b=4");
        Assert.That((await Take(two, 1))[0]["s"], Is.EqualTo(8L));
        await engine.StartRuleAsync("r1");
        await w.WriteAsync("a=5;b=5");
        Assert.That((await Take(one, 1))[0]["a"], Is.EqualTo(5L));
        Assert.That(feed.Instances, Is.EqualTo(1));
    }

    [Test]
    public async Task A_stream_that_is_not_shared_gets_a_source_instance_per_rule()
    {
        await using var provider = Provider();
        var engine = provider.GetRequiredService<EdgeStreamEngine>();
        var feed = provider.GetRequiredService<SourceFeed>();
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (TYPE=\"feed\", DATASOURCE=\"own\")");
        await engine.CreateRuleAsync(ToMemory("r1", "SELECT a FROM s", "one"));
        await engine.CreateRuleAsync(ToMemory("r2", "SELECT a FROM s", "two"));
        Assert.That(feed.Instances, Is.EqualTo(2), "each running rule made its own instance when it started");
    }

    [Test]
    public async Task A_failing_source_is_reported_and_restarted()
    {
        await using var provider = Provider();
        var engine = provider.GetRequiredService<EdgeStreamEngine>();
        var feed = provider.GetRequiredService<SourceFeed>();
        feed.FailFirstRuns = 2;
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (TYPE=\"feed\", DATASOURCE=\"flaky\")");
        using var cts = new CancellationTokenSource();
        var output = engine.Memory.Subscribe("out", cts.Token);
        await engine.CreateRuleAsync(ToMemory("r", "SELECT a FROM s", "out"));
        await feed.For("flaky").WriteAsync("row:7");
        await feed.For("flaky").WriteAsync("rows:8,9");

        Assert.That((await Take(output, 3)).Select(r => r["a"]), Is.EqualTo(new object[] { 7L, 8L, 9L }), "rows written as fields, alone or in a batch, need no format");
        Assert.That(feed.Failures, Is.EqualTo(2));
        var status = engine.GetRuleStatus("r");
        Assert.That(status.Errors, Is.EqualTo(2));
        Assert.That(status.LastError, Does.Contain("source `feed` of stream `s` failed, restarting in 200 ms: feed unavailable"));
        Assert.That(status.State, Is.EqualTo(RuleState.Running));
    }

    [Test]
    public async Task An_aggregate_function_is_bound_as_an_aggregate()
    {
        await using var provider = Provider();
        var engine = provider.GetRequiredService<EdgeStreamEngine>();
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (TYPE=\"memory\", DATASOURCE=\"in\")");

        var nested = Assert.Throws<SqlException>(() => engine.ValidateRule(new RuleDefinition("r", "SELECT sum(product(a)) FROM s GROUP BY TUMBLINGWINDOW(ss, 1)")))!;
        Assert.That(nested.Reason, Is.EqualTo("aggregate function `product` cannot be nested inside `sum`"));
        var inWhere = Assert.Throws<SqlException>(() => engine.ValidateRule(new RuleDefinition("r", "SELECT a FROM s WHERE product(a) > 1")))!;
        Assert.That(inWhere.Reason, Does.StartWith("aggregate function `product` cannot be used in WHERE"));
    }

    [Test]
    public void Function_names_are_checked_when_registered_and_when_called()
    {
        using var engine = new DisposableEngine();
        Assert.That(() => engine.Engine.RegisterFunction("abs", new ScaleFunction()), Throws.ArgumentException.With.Message.Contains("`abs` is a built-in function; register with the override flag"));
        Assert.That(() => engine.Engine.RegisterFunction("1x", new ScaleFunction()), Throws.ArgumentException.With.Message.Contains("not a valid function name"));
        engine.Engine.RegisterFunction("Scale", new ScaleFunction());
        Assert.That(() => engine.Engine.RegisterFunction("scale", new ScaleFunction()), Throws.ArgumentException, "names are case-insensitive");

        engine.Engine.Execute("CREATE STREAM s (a BIGINT) WITH (TYPE=\"memory\", DATASOURCE=\"in\")");
        var arity = Assert.Throws<SqlException>(() => engine.Engine.ValidateRule(new RuleDefinition("r", "SELECT scale(a, 1, 2) FROM s")))!;
        Assert.That(arity.Reason, Does.StartWith("function `scale` takes 1 to 2 arguments, not 3"));
        var typo = Assert.Throws<SqlException>(() => engine.Engine.ValidateRule(new RuleDefinition("r", "SELECT scael(a) FROM s")))!;
        Assert.That(typo.Reason, Does.Contain("did you mean `scale`"));
    }

    [Test]
    public void Unknown_and_unimplemented_formats_fail_rule_creation()
    {
        using var engine = new DisposableEngine();
        engine.Engine.RegisterFormat("kv", new KeyValueFormat(new SourceFeed()));
        Assert.That(() => engine.Engine.RegisterFormat("JSON", new KeyValueFormat(new SourceFeed())), Throws.ArgumentException);
        engine.Engine.Execute("CREATE STREAM a (x BIGINT) WITH (TYPE=\"memory\", DATASOURCE=\"a\", FORMAT=\"yaml\")");
        engine.Engine.Execute("CREATE STREAM b (x BIGINT) WITH (TYPE=\"memory\", DATASOURCE=\"b\", FORMAT=\"protobuf\")");

        var unknown = Assert.Throws<SqlException>(() => engine.Engine.ValidateRule(new RuleDefinition("r", "SELECT x FROM a")))!;
        Assert.That(unknown.Reason, Is.EqualTo("stream `a` has unknown FORMAT `yaml`; available: binary, delimited, json, kv"));
        var pending = Assert.Throws<SqlException>(() => engine.Engine.ValidateRule(new RuleDefinition("r", "SELECT x FROM b")))!;
        Assert.That(pending.Reason, Does.StartWith("stream `b` has FORMAT `protobuf`, which is not implemented yet"));
    }

    [Test]
    public async Task A_binary_stream_takes_the_whole_payload_as_self()
    {
        await using var provider = Provider();
        var engine = provider.GetRequiredService<EdgeStreamEngine>();
        var feed = provider.GetRequiredService<SourceFeed>();
        engine.Execute("CREATE STREAM img () WITH (TYPE=\"feed\", DATASOURCE=\"cam\", FORMAT=\"BINARY\")");
        using var cts = new CancellationTokenSource();
        var output = engine.Memory.Subscribe("out", cts.Token);
        await engine.CreateRuleAsync(ToMemory("r", "SELECT self AS image FROM img", "out"));
        await feed.For("cam").WriteAsync("\u0001PNG");

        Assert.That((await Take(output, 1))[0]["image"], Is.EqualTo(new byte[] { 1, (byte)'P', (byte)'N', (byte)'G' }));
    }

    [Test]
    public async Task A_json_array_payload_is_one_event_per_element()
    {
        await using var engine = new EdgeStreamEngine();
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (TYPE=\"memory\", DATASOURCE=\"in\")");
        using var cts = new CancellationTokenSource();
        var output = engine.Memory.Subscribe("out", cts.Token);
        await engine.CreateRuleAsync(ToMemory("r", "SELECT a FROM s", "out"));
        await engine.PublishJsonAsync("s", """ [{"a": 1}, {"a": 2}] """u8.ToArray());
        await engine.PublishJsonAsync("s", """[1, 2]"""u8.ToArray());
        await engine.PublishJsonAsync("s", """{"a": 3}"""u8.ToArray());

        Assert.That((await Take(output, 3)).Select(r => r["a"]), Is.EqualTo(new object[] { 1L, 2L, 3L }));
        Assert.That(engine.GetRuleStatus("r").LastError, Is.EqualTo("decode error: invalid JSON: expected an object or an array of objects"));
    }

    [Test]
    public async Task A_shared_memory_stream_delivers_to_every_rule_and_keeps_what_it_took_when_stopping()
    {
        await using var engine = new EdgeStreamEngine();
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (TYPE=\"memory\", DATASOURCE=\"in\", SHARED=\"true\")");
        using var cts = new CancellationTokenSource();
        var one = engine.Memory.Subscribe("one", cts.Token);
        var two = engine.Memory.Subscribe("two", cts.Token, capacity: 1000);
        await engine.CreateRuleAsync(ToMemory("r1", "SELECT a FROM s", "one"));
        await engine.CreateRuleAsync(ToMemory("r2", "SELECT a FROM s", "two"));
        for (var i = 0; i < 500; i++)
        {
            await engine.Memory.PublishAsync("in", new Dictionary<string, object?> { ["a"] = i });
        }

        Assert.That((await Take(one, 500)).Select(r => (long)r["a"]!), Is.EqualTo(Enumerable.Range(0, 500).Select(i => (long)i)));
        await engine.StopRuleAsync("r1");
        await engine.StopRuleAsync("r2");
        Assert.That(engine.GetRuleStatus("r2").RecordsOut, Is.EqualTo(500), "stopping the last rule drains the shared source");
    }

    private sealed class DisposableEngine : IDisposable
    {
        public EdgeStreamEngine Engine { get; } = new();

        public void Dispose() => Engine.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }
}
