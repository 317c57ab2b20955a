using System.Collections.Concurrent;
using EdgeStream.Tests.Support;

namespace EdgeStream.Tests.Runtime;

/// <summary>
/// A source much faster than its sink: with the sink stalled, what the engine holds never exceeds its configured
/// buffers and the source is slowed to a stop (backpressure), not dropped; released, every event arrives once.
/// </summary>
public sealed class OverloadTests
{
    /// <summary>A source that writes as fast as the engine takes events, counting those taken.</summary>
    private sealed class FloodSource(int count, Action taken) : ISource
    {
        public async Task RunAsync(ISourceWriter writer, CancellationToken cancellationToken)
        {
            for (var n = 1; n <= count; n++)
            {
                await writer.WriteRowAsync(new Dictionary<string, object?> { ["a"] = n }, null, cancellationToken);
                taken();
            }

            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>A sink whose writes wait until released.</summary>
    private sealed class StalledSink(Task released, ConcurrentQueue<long> written) : ISink
    {
        public ValueTask OpenAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public async ValueTask WriteAsync(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows, CancellationToken cancellationToken)
        {
            await released.WaitAsync(cancellationToken);
            foreach (var row in rows)
            {
                written.Enqueue((long)row["a"]!);
            }
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [TestCase(8, 4, 1)]
    [TestCase(64, 16, 8)]
    public async Task A_stalled_sink_holds_the_source_within_the_buffers_and_nothing_is_dropped(int ruleBuffer, int sinkBuffer, int batchSize)
    {
        const int Count = 5_000;
        var taken = 0;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var written = new ConcurrentQueue<long>();
        await using var engine = new EdgeStreamEngine();
        engine.RegisterSource("flood", _ => new FloodSource(Count, () => Interlocked.Increment(ref taken)));
        engine.RegisterSink("stalled", _ => new StalledSink(release.Task, written));
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (DATASOURCE=\"x\", TYPE=\"flood\")");
        var rule = new RuleDefinition("r", "SELECT a FROM s");
        rule.Options.BufferLength = ruleBuffer;
        rule.Actions.Add(new RuleAction("stalled", new Dictionary<string, string>
        {
            ["bufferLength"] = sinkBuffer.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["batchSize"] = batchSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }));
        await engine.CreateRuleAsync(rule);
        try
        {
            await HeldWithinBoundsAsync(engine, ruleBuffer, sinkBuffer, batchSize, () => Volatile.Read(ref taken));
        }
        finally
        {
            release.TrySetResult();
        }

        await Wait.Until(() => written.Count == Count, "every event once the sink is back");
        Assert.That(written, Is.EqualTo(Enumerable.Range(1, Count).Select(i => (long)i)));
    }

    [Test]
    public async Task Drop_oldest_drops_only_where_configured_and_counts_every_event_it_drops()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var written = new ConcurrentQueue<long>();
        await using var engine = new EdgeStreamEngine();
        engine.RegisterSink("stalled", _ => new StalledSink(release.Task, written));
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (DATASOURCE=\"in\", TYPE=\"memory\")");
        var rule = new RuleDefinition("r", "SELECT a FROM s");
        rule.Options.BufferLength = 4;
        rule.Options.DropOldestWhenFull = true;
        rule.Actions.Add(new RuleAction("stalled", new Dictionary<string, string> { ["bufferLength"] = "2" }));
        await engine.CreateRuleAsync(rule);

        // Twenty batches of ten: the publisher never waits; what does not fit is dropped, batch by batch.
        for (var b = 0; b < 20; b++)
        {
            await engine.PublishBatchAsync("s", [.. Enumerable.Range((b * 10) + 1, 10).Select(a => new Dictionary<string, object?> { ["a"] = a })]);
        }

        var dropped = engine.GetRuleStatus("r").Metrics["source_s_0_dropped_total"];
        Assert.That(dropped, Is.GreaterThan(0).And.EqualTo(dropped / 10 * 10), "whole batches, counted by their events");
        release.SetResult();
        await Wait.Until(() => written.Count + engine.GetRuleStatus("r").Metrics["source_s_0_dropped_total"] == 200, "every event delivered or counted as dropped");
        Assert.That(written, Is.Ordered, "what is delivered keeps its order");
    }

    private static async Task HeldWithinBoundsAsync(EdgeStreamEngine engine, int ruleBuffer, int sinkBuffer, int batchSize, Func<int> taken)
    {
        // Let the flood fill everything, then watch it stay put.
        await Wait.Until(() => engine.GetRuleStatus("r").Metrics["sink_stalled_0_0_buffer_length"] == sinkBuffer, "the sink's buffer to fill");
        await Task.Delay(300);
        var held = taken();
        await Task.Delay(300);

        // Taken = in the rule's buffer + in the sink's buffer + one batch being written + one event being processed.
        var bound = ruleBuffer + sinkBuffer + batchSize + 2;
        Assert.That(taken(), Is.EqualTo(held), "the source is stopped, not racing ahead");
        Assert.That(held, Is.LessThanOrEqualTo(bound), $"the engine holds at most {bound} events");
        var status = engine.GetRuleStatus("r");
        Assert.That(status.Metrics["sink_stalled_0_0_buffer_length"], Is.LessThanOrEqualTo(sinkBuffer));
        // Waiting: the buffer, the batch being written, and the one emission the rule is blocked handing over.
        Assert.That(status.Metrics["sink_stalled_0_0_rows_waiting"], Is.LessThanOrEqualTo(sinkBuffer + batchSize + 1));
        Assert.That(status.Metrics["source_s_0_dropped_total"], Is.Zero);
    }
}
