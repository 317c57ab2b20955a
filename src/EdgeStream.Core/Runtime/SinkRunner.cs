using System.Globalization;
using System.Threading.Channels;
using EdgeStream.Abstractions;
using EdgeStream.Runtime.Memory;

namespace EdgeStream.Runtime;

/// <summary>
/// Runs one user <see cref="ISink"/> for a rule: a bounded buffer of emissions (a full buffer makes the rule wait,
/// nothing is dropped), <c>concurrency</c> sink instances each writing from it (one by default, so order is kept),
/// batching (<c>batchSize</c> rows, waiting at most <c>lingerInterval</c> ms for a batch to
/// fill), opening and writing with retry and exponential backoff on transient failures, and the dead-letter topic
/// for batches that can never succeed. Connector packages implement only the I/O.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The stop token source lives from Start to StopAsync, which disposes it.")]
internal sealed class SinkRunner : IRuleSink
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    private readonly SinkContext context;
    private readonly Func<SinkContext, ISink> factory;
    private readonly MemoryBus bus;
    private readonly int capacity;
    private readonly int batchSize;
    private readonly int concurrency;
    private readonly TimeSpan linger;
    private readonly Func<Action<string>> onError;
    private readonly SinkEncoding encoding;
    private readonly OperatorMetrics metrics;
    private Channel<IReadOnlyList<ValueObject>>? buffer;
    private long batches;
    private long retries;
    private CancellationTokenSource? stopping;
    private Task? loop;

    public SinkRunner(SinkContext context, Func<SinkContext, ISink> factory, MemoryBus bus, Func<Action<string>> onError, SinkEncoding encoding, OperatorMetrics metrics)
    {
        this.metrics = metrics;
        this.context = context;
        this.encoding = encoding;
        this.factory = factory;
        this.bus = bus;
        this.onError = onError;
        capacity = Positive(context, "bufferLength", 1024);
        batchSize = Positive(context, "batchSize", 0);
        linger = TimeSpan.FromMilliseconds(Positive(context, "lingerInterval", 0));
        concurrency = Positive(context, "concurrency", 1);
        metrics.Shared = concurrency > 1;
        metrics.Extra = counts =>
        {
            // Beside eKuiper's records_in/out and exceptions: batches written, retries (open and write), and what waits.
            counts[metrics.Prefix + "batches_total"] = Interlocked.Read(ref batches);
            counts[metrics.Prefix + "retries_total"] = Interlocked.Read(ref retries);
            counts[metrics.Prefix + "buffer_length"] = buffer is { } waiting && waiting.Reader.CanCount ? waiting.Reader.Count : 0;
        };
        if (context.Properties.TryGetValue("runAsync", out var runAsync) && !bool.TryParse(runAsync, out _))
        {
            throw new ArgumentException($"sink `{context.SinkType}`: `runAsync` must be true or false, not `{runAsync}`");
        }
    }

    /// <summary>
    /// The properties this runner applies, besides the sink's own. <c>runAsync</c> is always in effect: the rule hands
    /// results to the runner's buffer and goes on, whatever its value.
    /// </summary>
    public static readonly string[] RunnerProperties = ["bufferLength", "batchSize", "lingerInterval", "concurrency", "runAsync"];

    private static int Positive(SinkContext context, string name, int absent)
    {
        if (!context.Properties.TryGetValue(name, out var text))
        {
            return absent;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw new ArgumentException($"sink `{context.SinkType}`: `{name}` must be a positive integer, not `{text}`");
    }

    public void Start()
    {
        // Several processing tasks (rule concurrency) may write; several sink instances (sink concurrency) may read.
        buffer = Channel.CreateBounded<IReadOnlyList<ValueObject>>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = concurrency == 1,
        });
        stopping = new CancellationTokenSource();
        var reader = buffer.Reader;
        var token = stopping.Token;
        var loops = Enumerable.Range(0, concurrency).Select(_ => EngineTasks.Run(() => RunAsync(reader, token))).ToArray();
        loop = loops.Length == 1 ? loops[0] : Task.WhenAll(loops);
    }

    public ValueTask SendAsync(IReadOnlyList<ValueObject> emission, CancellationToken cancellationToken) =>
        buffer!.Writer.WriteAsync(emission, cancellationToken);

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (buffer is null || loop is null || stopping is null)
        {
            return;
        }

        buffer.Writer.TryComplete();
        using (cancellationToken.Register(stopping.Cancel))
        {
            await loop.ConfigureAwait(false);
        }

        stopping.Dispose();
        (buffer, loop, stopping) = (null, null, null);
    }

    private async Task RunAsync(ChannelReader<IReadOnlyList<ValueObject>> reader, CancellationToken token)
    {
        var batch = new List<IReadOnlyList<ValueObject>>();
        var inFlight = 0;
        ISink? sink = null;
        try
        {
            sink = factory(context);
            await RetryAsync(() => sink.OpenAsync(token), "open", transientOnly: false, token).ConfigureAwait(false);
            while (await reader.WaitToReadAsync(token).ConfigureAwait(false))
            {
                var rows = Fill(reader, batch);
                if (linger > TimeSpan.Zero && rows < batchSize)
                {
                    await Task.Delay(linger, context.TimeProvider, token).ConfigureAwait(false);
                    rows += Fill(reader, batch);
                }

                if (batch.Count == 0)
                {
                    continue;
                }

                var messages = batch.ToArray();
                batch.Clear();
                inFlight = rows;
                await WriteAsync(sink, messages, token).ConfigureAwait(false);
                inFlight = 0;
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            var left = inFlight + batch.Sum(m => m.Count);
            while (reader.TryRead(out var emission))
            {
                left += emission.Count;
            }

            if (left > 0)
            {
                Report($"sink `{context.SinkType}` stopped before delivering {left} rows");
            }
        }
#pragma warning disable CA1031 // A sink factory or sink failing must not take the host down; it is reported.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Report($"sink `{context.SinkType}` failed: {e.Message}");
        }
        finally
        {
            if (sink is not null)
            {
                await sink.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Writes one batch of messages: as payloads to a payload sink (one per message, or one for the whole batch
    /// without <c>sendSingle</c>), else as rows. A message the template or format cannot encode, and a batch the sink
    /// can never take, go to the dead-letter topic; transient failures are retried.
    /// </summary>
    private async Task WriteAsync(ISink sink, IReadOnlyList<ValueObject>[] messages, CancellationToken token)
    {
        var encoded = new List<IReadOnlyList<ValueObject>>(messages.Length);
        var rows = new List<IReadOnlyDictionary<string, object?>>();
        var payloads = new List<ReadOnlyMemory<byte>>();
        var units = sink is IPayloadSink && !encoding.SendSingle && messages.Length > 1 ? [messages.SelectMany(m => m).ToArray()] : messages;
        foreach (var message in units)
        {
            try
            {
                if (sink is IPayloadSink)
                {
                    payloads.Add(encoding.Encode(message));
                }
                else
                {
                    rows.AddRange(encoding.ToRows(message).Select(ClrValues.ToDictionary));
                }

                encoded.Add(message);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Whatever a template or a user format throws, the message is bad, not the sink.
                await DeadLetterAsync(message.Select(ClrValues.ToDictionary).ToArray(), $"cannot encode: {e.Message}", token).ConfigureAwait(false);
            }
        }

        if (encoded.Count == 0)
        {
            return;
        }

        try
        {
            await RetryAsync(
                () => sink is IPayloadSink payloadSink ? payloadSink.WritePayloadsAsync(payloads, token) : sink.WriteAsync(rows, token),
                "write", transientOnly: true, token).ConfigureAwait(false);
            metrics.AddOut(encoded.Count);
            Interlocked.Increment(ref batches);
        }
        catch (Exception e) when (e is not OperationCanceledException || !token.IsCancellationRequested)
        {
            // Can never succeed: count it, log it, and keep the rows on the dead-letter topic.
            await DeadLetterAsync(encoded.SelectMany(m => m).Select(ClrValues.ToDictionary).ToArray(), e.Message, token).ConfigureAwait(false);
        }
    }

    /// <summary>Adds buffered emissions to the batch: up to <c>batchSize</c> rows, or one emission when unbatched. Returns the rows added.</summary>
    private int Fill(ChannelReader<IReadOnlyList<ValueObject>> reader, List<IReadOnlyList<ValueObject>> batch)
    {
        var rows = batch.Sum(m => m.Count);
        var added = 0;
        while ((batchSize == 0 ? batch.Count == 0 : rows < batchSize) && reader.TryRead(out var emission))
        {
            batch.Add(emission);
            rows += emission.Count;
            added += emission.Count;
            if (batchSize == 0)
            {
                break;
            }
        }

        return added;
    }

    private static bool IsTransient(Exception e) => e is SinkException { IsTransient: true } or TimeoutException or IOException;

    /// <summary>Runs <paramref name="action"/> until it succeeds, backing off exponentially between tries.</summary>
    private async Task RetryAsync(Func<ValueTask> action, string what, bool transientOnly, CancellationToken token)
    {
        var backoff = FirstBackoff;
        while (true)
        {
            try
            {
                await action().ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (!token.IsCancellationRequested && (!transientOnly || IsTransient(e)))
            {
                Interlocked.Increment(ref retries);
                Report($"sink `{context.SinkType}` could not {what}, retrying in {backoff.TotalMilliseconds:0} ms: {e.Message}");
                await Task.Delay(backoff, context.TimeProvider, token).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }

    private async Task DeadLetterAsync(IReadOnlyDictionary<string, object?>[] rows, string error, CancellationToken token)
    {
        try
        {
            await PublishDeadLetterAsync(rows, error, token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Best effort: a failing dead-letter subscriber must not end the sink's loop (the rule would then block).
            Report($"dead-letter subscriber failed: {e.Message}");
        }
    }

    private async Task PublishDeadLetterAsync(IReadOnlyDictionary<string, object?>[] rows, string error, CancellationToken token)
    {
        metrics.AddException();
        Report($"sink `{context.SinkType}` rejected {rows.Length} rows: {error}");
        var letter = new ValueObject(4)
        {
            ["rule"] = Value.From(context.RuleId),
            ["sink"] = Value.From(context.SinkType),
            ["error"] = Value.From(error),
            ["rows"] = ClrValues.FromClr(rows),
        };
        await bus.PublishAsync(EdgeStreamEngine.DeadLetterTopic, new MemoryMessage(letter, default, null), token).ConfigureAwait(false);
    }

    private void Report(string message)
    {
        Diagnostics.Log.SinkProblem(context.Logger, context.RuleId, message);
        onError()(message);
    }
}
