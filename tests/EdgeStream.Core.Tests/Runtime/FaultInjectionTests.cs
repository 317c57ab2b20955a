using System.Collections.Concurrent;
using EdgeStream.Tests.Support;

namespace EdgeStream.Tests.Runtime;

/// <summary>
/// Injected faults — sinks that throw now and then, hang, or fail every call for a while; functions that throw;
/// sources that break off mid-batch — each with a count at the far end: what should arrive arrives, once, and the
/// metrics say what happened. (The MariaDB and Mosquitto servers killed under load are in their own test projects.)
/// </summary>
public sealed class FaultInjectionTests
{
    /// <summary>A sink whose calls fail, hang or pass as <see cref="Fault"/> decides, counting rows written.</summary>
    private sealed class FaultySink(Func<int, string?> fault, ConcurrentQueue<long> written) : ISink
    {
        private int calls;

        public ValueTask OpenAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public async ValueTask WriteAsync(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows, CancellationToken cancellationToken)
        {
            switch (fault(Interlocked.Increment(ref calls)))
            {
                case "throw":
                    throw new SinkException("injected failure", isTransient: true);
                case "hang":
                    await Task.Delay(Timeout.Infinite, cancellationToken);
                    break;
            }

            foreach (var row in rows)
            {
                written.Enqueue((long)row["a"]!);
            }
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private static async Task<EdgeStreamEngine> EngineAsync(string sinkType, Func<int, string?> fault, ConcurrentQueue<long> written, Dictionary<string, string>? properties = null, string sql = "SELECT a FROM s")
    {
        var engine = new EdgeStreamEngine();
        engine.RegisterSink(sinkType, _ => new FaultySink(fault, written));
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (DATASOURCE=\"in\", TYPE=\"memory\")");
        var rule = new RuleDefinition("r", sql);
        rule.Actions.Add(new RuleAction(sinkType, properties ?? []));
        await engine.CreateRuleAsync(rule);
        return engine;
    }

    private static async Task PublishAsync(EdgeStreamEngine engine, int count)
    {
        for (var a = 1; a <= count; a++)
        {
            await engine.PublishAsync("s", new Dictionary<string, object?> { ["a"] = a });
        }
    }

    private static long[] Range(int count) => [.. Enumerable.Range(1, count).Select(i => (long)i)];

    [Test]
    public async Task A_sink_that_fails_every_third_call_gets_every_row_once_in_order()
    {
        var written = new ConcurrentQueue<long>();
        // Batches of up to ten rows: a failed call (100 ms of backoff each) holds up to ten rows, retried together.
        await using var engine = await EngineAsync("flaky", call => call % 3 == 0 ? "throw" : null, written, new() { ["batchSize"] = "10" });
        await PublishAsync(engine, 300);

        await Wait.Until(() => written.Count == 300, "every row written");
        Assert.That(written, Is.EqualTo(Range(300)));
        var status = engine.GetRuleStatus("r");
        Assert.That(status.Metrics["sink_flaky_0_0_retries_total"], Is.GreaterThanOrEqualTo(5), "every third call was retried");
        Assert.That((status.State, status.Metrics["sink_flaky_0_0_rows_out_total"]), Is.EqualTo((RuleState.Running, 300L)));
    }

    [Test]
    public async Task A_sink_that_fails_every_call_for_a_while_gets_everything_when_it_recovers()
    {
        var written = new ConcurrentQueue<long>();
        var downUntil = DateTime.UtcNow.AddMilliseconds(800);
        await using var engine = await EngineAsync("down", _ => DateTime.UtcNow < downUntil ? "throw" : null, written);
        await PublishAsync(engine, 50);

        await Wait.Until(() => written.Count == 50, "every row written after the outage");
        Assert.That(written, Is.EqualTo(Range(50)));
        Assert.That(engine.GetRuleStatus("r").Metrics["sink_down_0_0_retries_total"], Is.GreaterThanOrEqualTo(2));
    }

    [Test]
    public async Task A_hung_sink_call_times_out_is_retried_and_does_not_stall_another_rule()
    {
        var written = new ConcurrentQueue<long>();
        var other = new ConcurrentQueue<long>();
        await using var engine = await EngineAsync("hang", call => call == 1 ? "hang" : null, written, new() { ["writeTimeout"] = "200" });
        engine.RegisterSink("fine", _ => new FaultySink(_ => null, other));
        var second = new RuleDefinition("r2", "SELECT a FROM s");
        second.Actions.Add(new RuleAction("fine"));
        await engine.CreateRuleAsync(second);

        await PublishAsync(engine, 20);
        await Wait.Until(() => other.Count == 20, "the other rule's rows, while the first sink hangs");
        await Wait.Until(() => written.Count == 20, "the hung write retried, then the rest");
        Assert.That(written, Is.EqualTo(Range(20)));
        var status = engine.GetRuleStatus("r");
        Assert.That(status.Metrics["sink_hang_0_0_retries_total"], Is.GreaterThanOrEqualTo(1));
        Assert.That(status.LastExceptions["sink_hang_0_0_last_exception"], Does.Contain("took longer than 200 ms (sink property writeTimeout)"));
    }

    /// <summary>A function that throws for some of its arguments.</summary>
    private sealed class Picky : IFunction
    {
        public int MinArguments => 1;

        public int MaxArguments => 1;

        public SqlValue Invoke(ReadOnlySpan<SqlValue> arguments, FunctionContext context)
        {
            var a = arguments[0].AsInt64();
            return a % 10 == 0 ? throw new InvalidOperationException($"picky refuses {a}") : SqlValue.From(a);
        }
    }

    [Test]
    public async Task A_function_that_throws_fails_only_its_rows()
    {
        var written = new ConcurrentQueue<long>();
        var engine = new EdgeStreamEngine();
        await using (engine)
        {
            engine.RegisterFunction("picky", new Picky());
            engine.RegisterSink("count", _ => new FaultySink(_ => null, written));
            engine.Execute("CREATE STREAM s (a BIGINT) WITH (DATASOURCE=\"in\", TYPE=\"memory\")");
            var rule = new RuleDefinition("r", "SELECT picky(a) AS a FROM s");
            rule.Actions.Add(new RuleAction("count"));
            await engine.CreateRuleAsync(rule);
            await PublishAsync(engine, 100);

            await Wait.Until(() => engine.GetRuleStatus("r").RecordsIn == 100 && written.Count == 90, "the rows picky takes");
            Assert.That(written, Is.EqualTo(Range(100).Where(a => a % 10 != 0)));
            var status = engine.GetRuleStatus("r");
            Assert.That((status.State, status.Errors), Is.EqualTo((RuleState.Running, 10L)));
            Assert.That(status.LastError, Does.Contain("picky refuses 100"));
        }
    }

    /// <summary>A source that breaks off after <c>failAfter</c> events the first time, and resumes from its position.</summary>
    private sealed class BreakingSource(SourceContext context, ConcurrentQueue<string> starts, int count, int failAfter) : ISource
    {
        public async Task RunAsync(ISourceWriter writer, CancellationToken cancellationToken)
        {
            starts.Enqueue(context.ResumePosition ?? "none");
            var from = context.ResumePosition is { } at ? int.Parse(at, System.Globalization.CultureInfo.InvariantCulture) + 1 : 1;
            for (var n = from; n <= count; n++)
            {
                if (starts.Count == 1 && n == failAfter + 1)
                {
                    throw new IOException("connection reset by peer");
                }

                await writer.WritePayloadAsync(System.Text.Encoding.UTF8.GetBytes($$"""{"a": {{n}}}"""), null, n.ToString(System.Globalization.CultureInfo.InvariantCulture), cancellationToken);
            }

            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Test]
    public async Task A_source_that_breaks_off_mid_batch_is_restarted_after_its_last_event_and_nothing_is_lost_or_repeated()
    {
        var written = new ConcurrentQueue<long>();
        var starts = new ConcurrentQueue<string>();
        await using var engine = new EdgeStreamEngine();
        engine.RegisterSource("breaking", c => new BreakingSource(c, starts, 40, 17));
        engine.RegisterSink("count", _ => new FaultySink(_ => null, written));
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (DATASOURCE=\"x\", TYPE=\"breaking\")");
        var rule = new RuleDefinition("r", "SELECT a FROM s");
        rule.Actions.Add(new RuleAction("count"));
        await engine.CreateRuleAsync(rule);

        await Wait.Until(() => written.Count == 40, "every event");
        Assert.That(written, Is.EqualTo(Range(40)));
        Assert.That(starts, Is.EqualTo(new[] { "none", "17" }), "the new instance resumed after the last event handed over");
        var status = engine.GetRuleStatus("r");
        Assert.That((status.State, status.LastError), Is.EqualTo((RuleState.Running, "source `breaking` of stream `s` failed, restarting in 100 ms: connection reset by peer")));
    }
}
