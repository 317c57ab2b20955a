using EdgeStream.Abstractions;
using EdgeStream.Runtime.Memory;

namespace EdgeStream.Runtime;

/// <summary>How a running rule gets the events of a source that is not a plain memory topic.</summary>
internal interface IRuleInput
{
    /// <summary>Starts feeding <paramref name="rule"/>.</summary>
    void Attach(RuleRunner rule);

    /// <summary>Stops feeding <paramref name="rule"/>; returns when no more events will be delivered to it.</summary>
    Task DetachAsync(RuleRunner rule);

    /// <summary>Adds the running source instance's own counters (<see cref="IConnectorMetrics"/>) under <paramref name="prefix"/>.</summary>
    void AddMetrics(string prefix, IDictionary<string, long> metrics)
    {
    }

    /// <summary>A checkpoint covering everything up to <paramref name="position"/> is saved (see <see cref="ICheckpointedSource"/>).</summary>
    Task CommitAsync(string position, CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Reads a connector's own counters into a rule's status, under its operator's prefix.</summary>
internal static class ConnectorMetrics
{
    public static void AddTo(object? connector, string prefix, IDictionary<string, long> metrics)
    {
        if (connector is not IConnectorMetrics counted)
        {
            return;
        }

        var own = new Dictionary<string, long>(StringComparer.Ordinal);
        try
        {
            counted.AddMetrics(own);
        }
#pragma warning disable CA1031 // A connector's broken counters must not break reading a rule's status.
        catch (Exception)
#pragma warning restore CA1031
        {
            return;
        }

        foreach (var (name, value) in own)
        {
            metrics[prefix + name] = value;
        }
    }
}

/// <summary>Takes a source's events as memory messages to one destination; reports go to the reading rules.</summary>
internal sealed class SourceWriter(Func<MemoryMessage, CancellationToken, ValueTask> deliver, Action<string> report, TimeProvider clock) : ISourceWriter
{
    private long Now => clock.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Logs a source's problem and passes it on to the reading rules' status.</summary>
    public static Action<string> Reporter(SourceContext context, Action<string> record) => message =>
    {
        Diagnostics.Log.SourceProblem(context.Logger, context.StreamName, message);
        record(message);
    };

    public ValueTask WritePayloadAsync(ReadOnlyMemory<byte> payload, IReadOnlyDictionary<string, object?>? metadata, CancellationToken cancellationToken) =>
        deliver(new MemoryMessage(null, payload, null) { Meta = Meta(metadata), ArrivedAt = Now }, cancellationToken);

    public async ValueTask WritePayloadAsync(ReadOnlyMemory<byte> payload, IReadOnlyDictionary<string, object?>? metadata, string position, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(position);
        await deliver(new MemoryMessage(null, payload, null) { Meta = Meta(metadata), ArrivedAt = Now, Position = position }, cancellationToken).ConfigureAwait(false);
        LastPosition = position;
    }

    /// <summary>The position of the last event handed over with one (a new instance after a failure resumes there).</summary>
    public string? LastPosition { get; private set; }

    public ValueTask WriteRowAsync(IReadOnlyDictionary<string, object?> row, IReadOnlyDictionary<string, object?>? metadata, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(row);
        ValueObject fields;
        try
        {
            fields = ClrValues.FromClr(row).AsObject;
        }
        catch (ArgumentException e)
        {
            // A value with no SQL equivalent: the event is bad, the source goes on.
            report($"source event rejected: {e.Message}");
            return ValueTask.CompletedTask;
        }

        return deliver(new MemoryMessage(fields, default, null) { Meta = Meta(metadata), ArrivedAt = Now }, cancellationToken);
    }

    public ValueTask WriteRowsAsync(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows, IReadOnlyDictionary<string, object?>? metadata, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var batch = new List<ValueObject>(rows.Count);
        foreach (var row in rows)
        {
            try
            {
                batch.Add(ClrValues.FromClr(row).AsObject);
            }
            catch (ArgumentException e)
            {
                report($"source event rejected: {e.Message}");
            }
        }

        return batch.Count == 0 ? ValueTask.CompletedTask : deliver(new MemoryMessage(null, default, batch) { Meta = Meta(metadata), ArrivedAt = Now }, cancellationToken);
    }

    public void ReportError(string message) => report(message);

    public void RequestCheckpoint() => CheckpointRequested?.Invoke();

    /// <summary>What <see cref="RequestCheckpoint"/> calls: the reading rule's request; null where there is none (a shared stream).</summary>
    public Action? CheckpointRequested { get; init; }

    /// <summary>Passes an engine message through as it is (the memory source).</summary>
    internal ValueTask DeliverAsync(MemoryMessage message, CancellationToken cancellationToken) => deliver(message, cancellationToken);

    private static ValueObject? Meta(IReadOnlyDictionary<string, object?>? metadata) =>
        metadata is null ? null : ClrValues.FromClr(metadata).AsObject;
}

/// <summary>
/// Runs one source: makes an instance, runs it, and when it fails reports the failure and starts a new instance
/// after a backoff (100 ms doubling to 30 s), until stopped. A source whose input ends is not restarted.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The token source lives from Start to StopAsync, which disposes it.")]
internal sealed class SourceRunner(Func<SourceContext, ISource> factory, SourceContext context, SourceWriter writer, Action<string> report)
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    private CancellationTokenSource? stopping;
    private Task? loop;
    private ISource? current;

    /// <summary>The running instance, for its own counters; null between instances.</summary>
    public ISource? Current => Volatile.Read(ref current);

    /// <summary>Makes the first instance now (so it exists, and a memory topic is subscribed, when the rule has started) and runs it.</summary>
    public void Start()
    {
        stopping = new CancellationTokenSource();
        var token = stopping.Token;
        var first = Create();
        loop = EngineTasks.Run(() => RunAsync(first, token));
    }

    public async Task StopAsync()
    {
        if (stopping is null || loop is null)
        {
            return;
        }

        await stopping.CancelAsync().ConfigureAwait(false);
        await loop.ConfigureAwait(false);
        stopping.Dispose();
        (stopping, loop) = (null, null);
    }

    private async Task RunAsync(ISource? first, CancellationToken token)
    {
        var backoff = FirstBackoff;
        var source = first;
        while (!token.IsCancellationRequested)
        {
            if (source is not null)
            {
                Volatile.Write(ref current, source);
                var started = context.TimeProvider.GetTimestamp();
                try
                {
                    await source.RunAsync(writer, token).ConfigureAwait(false);
                    return; // the input ended
                }
                catch (OperationCanceledException) when (token.IsCancellationRequested)
                {
                    return;
                }
#pragma warning disable CA1031 // A failing source must never reach the host: it is reported and restarted.
                catch (Exception e)
#pragma warning restore CA1031
                {
                    if (context.TimeProvider.GetElapsedTime(started) >= MaxBackoff)
                    {
                        backoff = FirstBackoff; // it ran well for a while: a new failure, not the same one again
                    }

                    report($"source `{context.SourceType}` of stream `{context.StreamName}` failed, restarting in {backoff.TotalMilliseconds:0} ms: {e.Message}");
                }
                finally
                {
                    Volatile.Write(ref current, null);
                    await DisposeQuietlyAsync(source).ConfigureAwait(false);
                }
            }

            try
            {
                await Task.Delay(backoff, context.TimeProvider, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            source = Create();
        }

        await DisposeQuietlyAsync(source).ConfigureAwait(false);
    }

    private ISource? Create()
    {
        try
        {
            // A new instance after a failure goes on after the last event handed over, not from the checkpoint again.
            if (writer.LastPosition is { } position)
            {
                context.ResumePosition = position;
            }

            return factory(context);
        }
#pragma warning disable CA1031 // Reported; the loop tries again after the backoff.
        catch (Exception e)
#pragma warning restore CA1031
        {
            report($"source `{context.SourceType}` of stream `{context.StreamName}` could not be created: {e.Message}");
            return null;
        }
    }

    private async ValueTask DisposeQuietlyAsync(ISource? source)
    {
        if (source is null)
        {
            return;
        }

        try
        {
            await source.DisposeAsync().ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Same as above: a source's disposal failure is reported, not thrown.
        catch (Exception e)
#pragma warning restore CA1031
        {
            report($"source `{context.SourceType}` of stream `{context.StreamName}` failed to close: {e.Message}");
        }
    }
}

/// <summary>A source instance of one rule's own (a stream that is not <c>SHARED</c>): events go straight to the rule.</summary>
internal sealed class PrivateInput(Func<SourceContext, ISource> factory, SourceContext context) : IRuleInput
{
    private SourceRunner? runner;

    public void Attach(RuleRunner rule)
    {
        context.ResumePosition = rule.RestoredPosition;
        context.Checkpointed = rule.Checkpointed;
        var report = SourceWriter.Reporter(context, rule.RecordError);
        runner = new SourceRunner(factory, context, new SourceWriter(rule.DeliverAsync, report, context.TimeProvider) { CheckpointRequested = rule.RequestCheckpoint }, report);
        runner.Start();
    }

    public void AddMetrics(string prefix, IDictionary<string, long> metrics) => ConnectorMetrics.AddTo(runner?.Current, prefix, metrics);

    public async Task CommitAsync(string position, CancellationToken cancellationToken)
    {
        if (runner?.Current is ICheckpointedSource checkpointed)
        {
            await checkpointed.CommitAsync(position, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task DetachAsync(RuleRunner rule)
    {
        if (runner is { } r)
        {
            runner = null;
            await r.StopAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>
/// The one source instance of a <c>SHARED="true"</c> stream: started by the first reading rule, stopped with the
/// last. Each event is decoded once, with the stream's shared schema, and published to the stream's topic, which
/// every reading rule subscribes to.
/// </summary>
internal sealed class SharedInput(
    Func<SourceContext, ISource> factory, SourceContext context, RowDecoder decoder, MemoryBus bus, string streamTopic) : IRuleInput
{
    private readonly Lock gate = new();
    private readonly List<RuleRunner> readers = [];
    private readonly List<DecodeResult> decoded = [];
    private SourceRunner? runner;

    /// <summary>The decoder every rule of the stream compiles against, so a shared row fits all of them.</summary>
    public RowDecoder Decoder => decoder;

    public void Attach(RuleRunner rule)
    {
        lock (gate)
        {
            readers.Add(rule);
            if (readers.Count > 1)
            {
                return;
            }

            var report = SourceWriter.Reporter(context, Report);
            runner = new SourceRunner(factory, context, new SourceWriter(DeliverAsync, report, context.TimeProvider), report);
        }

        runner.Start();
    }

    public void AddMetrics(string prefix, IDictionary<string, long> metrics) => ConnectorMetrics.AddTo(runner?.Current, prefix, metrics);

    public async Task DetachAsync(RuleRunner rule)
    {
        SourceRunner? last = null;
        lock (gate)
        {
            if (readers.Remove(rule) && readers.Count == 0)
            {
                (last, runner) = (runner, null);
            }
        }

        if (last is not null)
        {
            await last.StopAsync().ConfigureAwait(false);
        }
    }

    private void Report(string message)
    {
        RuleRunner[] current;
        lock (gate)
        {
            current = [.. readers];
        }

        foreach (var rule in current)
        {
            rule.RecordError(message);
        }
    }

    /// <summary>Decodes once and publishes each event (or its decode error) to every reading rule. One writer at a time.</summary>
    private async ValueTask DeliverAsync(MemoryMessage message, CancellationToken cancellationToken)
    {
        decoded.Clear();
        decoder.DecodeAll(message, context.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds(), decoded);
        foreach (var result in decoded)
        {
            var shared = result.Row is { } row
                ? new MemoryMessage(null, default, null) { Decoded = row }
                : result.Payload.Kind == ValueKind.Object
                    ? new MemoryMessage(result.Payload.AsObject, default, null) { Error = result.Error }
                    : new MemoryMessage(null, System.Text.Encoding.UTF8.GetBytes(result.Payload.ToString()), null) { Error = result.Error };
            await bus.PublishAsync(streamTopic, shared, cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>
/// The built-in <c>file</c> source: one JSON object per line of the file named by <c>DATASOURCE</c>
/// (<c>stdin</c> reads the process's standard input). Blank lines are skipped; a malformed line is a bad event.
/// Each event's position is its line number: a rule that resumes from a checkpoint (or a new instance after a
/// failure) goes on at the line after the last one it took, so a file is read once across restarts.
/// </summary>
internal sealed class FileLineSource(SourceContext context) : ISource
{
    public async Task RunAsync(ISourceWriter writer, CancellationToken cancellationToken)
    {
        var path = context.DataSource;
        try
        {
            var stdin = path.Equals("stdin", StringComparison.OrdinalIgnoreCase);
            using var reader = stdin ? null : new StreamReader(path, System.Text.Encoding.UTF8);
            var lines = reader ?? Console.In;
            var skip = !stdin && long.TryParse(context.ResumePosition, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var taken) ? taken : 0;
            var number = 0L;
            while (await lines.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
            {
                if (++number <= skip || string.IsNullOrWhiteSpace(line))
                {
                    continue;
                }

                var payload = System.Text.Encoding.UTF8.GetBytes(line);
                if (stdin)
                {
                    await writer.WritePayloadAsync(payload, null, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await writer.WritePayloadAsync(payload, null, number.ToString(System.Globalization.CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Reading again from the start would repeat events, so the source ends here and says why.
            writer.ReportError($"file source `{path}`: {e.Message}");
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>
/// A memory topic as a source, for <c>SHARED</c> memory streams: its own bounded buffer takes what publishers send
/// (they wait when it is full), and one task hands it on to be decoded once for all the stream's rules.
/// </summary>
internal sealed class MemoryTopicSource : ISource, IMemorySubscriber
{
    private readonly System.Threading.Channels.Channel<MemoryMessage> buffer;
    private readonly MemoryBus bus;
    private readonly string topic;

    /// <summary>Subscribes at once: events published after the rule started must not be missed.</summary>
    public MemoryTopicSource(MemoryBus bus, string topic, int capacity)
    {
        (this.bus, this.topic) = (bus, topic);
        buffer = System.Threading.Channels.Channel.CreateBounded<MemoryMessage>(
            new System.Threading.Channels.BoundedChannelOptions(capacity) { FullMode = System.Threading.Channels.BoundedChannelFullMode.Wait, SingleReader = true });
        bus.Add(topic, this);
    }

    public async Task RunAsync(ISourceWriter writer, CancellationToken cancellationToken)
    {
        var target = (SourceWriter)writer;
        try
        {
            await foreach (var message in buffer.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                await target.DeliverAsync(message, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            bus.Remove(topic, this);
            buffer.Writer.TryComplete();
        }

        // Publishers were told these events were taken: hand them on before stopping (the rules still read).
        while (buffer.Reader.TryRead(out var left))
        {
            await target.DeliverAsync(left, CancellationToken.None).ConfigureAwait(false);
        }
    }

    public async ValueTask DeliverAsync(MemoryMessage message, CancellationToken cancellationToken)
    {
        try
        {
            await buffer.Writer.WriteAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (System.Threading.Channels.ChannelClosedException)
        {
            // The source stopped between the publisher's lookup and this write; it no longer subscribes.
        }
    }

    public ValueTask DisposeAsync()
    {
        bus.Remove(topic, this);
        buffer.Writer.TryComplete();
        return ValueTask.CompletedTask;
    }
}
