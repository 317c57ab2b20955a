namespace EdgeStream.Tests.Runtime;

/// <summary>A source's and a sink's own counters (<see cref="IConnectorMetrics"/>) appear in the rule status under their operator's prefix.</summary>
public sealed class ConnectorMetricsTests
{
    private sealed class CountedSource : ISource, IConnectorMetrics
    {
        public long Sent;

        public async Task RunAsync(ISourceWriter writer, CancellationToken cancellationToken)
        {
            await writer.WriteRowAsync(new Dictionary<string, object?> { ["a"] = 1L }, null, cancellationToken);
            Interlocked.Increment(ref Sent);
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        public void AddMetrics(IDictionary<string, long> metrics)
        {
            metrics["connected"] = 1;
            metrics["messages_in_total"] = Interlocked.Read(ref Sent);
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class CountedSink : ISink, IConnectorMetrics
    {
        private long rows;

        public ValueTask OpenAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask WriteAsync(IReadOnlyList<IReadOnlyDictionary<string, object?>> batch, CancellationToken cancellationToken)
        {
            Interlocked.Add(ref rows, batch.Count);
            return ValueTask.CompletedTask;
        }

        public void AddMetrics(IDictionary<string, long> metrics) => metrics["reconnects_total"] = 40 + Interlocked.Read(ref rows);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Test]
    public async Task A_connectors_own_counters_are_in_the_status_while_it_runs()
    {
        var source = new CountedSource();
        await using var engine = new EdgeStreamEngine();
        engine.RegisterSource("counted", _ => source);
        engine.RegisterSink("counted", _ => new CountedSink());
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (TYPE=\"counted\", DATASOURCE=\"x\")");
        var rule = new RuleDefinition("r", "SELECT a FROM s");
        rule.Actions.Add(new RuleAction("counted"));
        await engine.CreateRuleAsync(rule);

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (engine.GetRuleStatus("r").Metrics.GetValueOrDefault("sink_counted_0_0_reconnects_total") < 41 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        var status = engine.GetRuleStatus("r");
        Assert.That(status.Metrics["source_s_0_connected"], Is.EqualTo(1));
        Assert.That(status.Metrics["source_s_0_messages_in_total"], Is.EqualTo(1));
        Assert.That(status.Metrics["sink_counted_0_0_reconnects_total"], Is.EqualTo(41), "the sink's counter saw the one row");

        await engine.StopRuleAsync("r");
        Assert.That(engine.GetRuleStatus("r").Metrics.Keys, Has.None.EndsWith("_connected"), "a stopped connector has no counters to show");
    }
}
