using System.Collections.Concurrent;

namespace EdgeStream.Tests.Runtime;

/// <summary>
/// What connectors learn from and report through their contexts: a source's rule (<see cref="SourceContext.RuleId"/>),
/// a source type's option check at rule creation, and a sink's <see cref="SinkContext.ReportError"/>.
/// </summary>
public sealed class ConnectorContextTests
{
    private sealed class IdleSource(SourceContext context, ConcurrentBag<string?> seen) : ISource
    {
        public async Task RunAsync(ISourceWriter writer, CancellationToken cancellationToken)
        {
            seen.Add(context.StreamName + ":" + (context.RuleId ?? "(shared)"));
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private static RuleDefinition Rule(string id, string sql, string sink = "nop")
    {
        var rule = new RuleDefinition(id, sql);
        rule.Actions.Add(new RuleAction(sink, new Dictionary<string, string>()));
        return rule;
    }

    [Test]
    public async Task A_source_learns_its_rule_unless_the_stream_is_shared_and_its_options_are_checked_at_creation()
    {
        var seen = new ConcurrentBag<string?>();
        var checks = 0;
        await using var engine = new EdgeStreamEngine();
        engine.RegisterSource("opc", context => new IdleSource(context, seen), context =>
        {
            Interlocked.Increment(ref checks);
            if (!context.DataSource.StartsWith("ns=", StringComparison.Ordinal))
            {
                throw new ArgumentException($"DATASOURCE `{context.DataSource}` must be a node id such as ns=2;s=x");
            }
        });
        engine.Execute("CREATE STREAM own () WITH (TYPE=\"opc\", DATASOURCE=\"ns=2;s=a\")");
        engine.Execute("CREATE STREAM together () WITH (TYPE=\"opc\", DATASOURCE=\"ns=2;s=b\", SHARED=\"true\")");
        engine.Execute("CREATE STREAM wrong () WITH (TYPE=\"opc\", DATASOURCE=\"x\")");

        await engine.CreateRuleAsync(Rule("r1", "SELECT * FROM own"));
        await engine.CreateRuleAsync(Rule("r2", "SELECT * FROM own"));
        await engine.CreateRuleAsync(Rule("r3", "SELECT * FROM together"));
        await engine.CreateRuleAsync(Rule("r4", "SELECT * FROM together"));
        var error = Assert.ThrowsAsync<SqlException>(() => engine.CreateRuleAsync(Rule("r5", "SELECT *\n  FROM wrong")))!;

        Assert.That(error.Reason, Is.EqualTo("stream `wrong` (opc): DATASOURCE `x` must be a node id such as ns=2;s=x"));
        Assert.That((error.Line, error.Column), Is.EqualTo((2, 8)));
        Assert.That(engine.RuleIds, Is.EquivalentTo(new[] { "r1", "r2", "r3", "r4" }));
        Assert.That(checks, Is.GreaterThanOrEqualTo(5), "every rule's stream was checked");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (seen.Count < 3 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.That(seen, Is.EquivalentTo(new[] { "own:r1", "own:r2", "together:(shared)" }));
    }

    private sealed class FlakySink(SinkContext context) : ISink
    {
        public ValueTask OpenAsync(CancellationToken cancellationToken)
        {
            context.ReportError("link to the historian lost; reconnecting");
            return ValueTask.CompletedTask;
        }

        public ValueTask WriteAsync(IReadOnlyList<IReadOnlyDictionary<string, object?>> batch, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Test]
    public async Task A_problem_a_sink_reports_is_the_rules_last_error_and_the_sinks_last_exception()
    {
        await using var engine = new EdgeStreamEngine();
        engine.RegisterSink("historian", context => new FlakySink(context));
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (TYPE=\"memory\", DATASOURCE=\"s\")");
        await engine.CreateRuleAsync(Rule("r", "SELECT a FROM s", "historian"));

        var status = engine.GetRuleStatus("r");
        Assert.That(status.LastError, Does.Contain("link to the historian lost; reconnecting"));
        Assert.That(status.LastExceptions["sink_historian_0_0_last_exception"], Is.EqualTo("sink `historian`: link to the historian lost; reconnecting"));
        Assert.That(status.State, Is.EqualTo(RuleState.Running));
    }
}
