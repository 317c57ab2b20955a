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
    private long rowsOut;
    private long waiting;
    private long accepted; // rows taken, ever (less those whose hand-over failed)
    private long settled; // rows written or given up on, ever
    private readonly List<(long Target, TaskCompletionSource Done)> drains = [];
    private long retries;
    private CancellationTokenSource? stopping;
    private Task? loop;
    private TaskCompletionSource? opened;
    private ISink? current;

    public SinkRunner(SinkContext context, Func<SinkContext, ISink> factory, MemoryBus bus, Func<Action<string>> onError, SinkEncoding encoding, OperatorMetrics metrics)
    {
        this.metrics = metrics;
        this.context = context;
        this.encoding = encoding;
        this.factory = factory;
        this.bus = bus;
        this.onError = onError;
        context.Reporter = message =>
        {
            metrics.SetLastException($"sink `{context.SinkType}`: {message}", context.TimeProvider);
            Report(message);
        };
        capacity = Positive(context, "bufferLength", 1024);
        batchSize = Positive(context, "batchSize", 0);
        linger = TimeSpan.FromMilliseconds(Positive(context, "lingerInterval", 0));
        concurrency = Positive(context, "concurrency", 1);
        metrics.Shared = concurrency > 1;
        metrics.Extra = counts =>
        {
            // Beside eKuiper's records_in/out and exceptions (counted by message): batches written, retries (open and
            // write), messages in the buffer, rows written, and rows taken but not yet written (buffered or in a batch
            // being retried).
            counts[metrics.Prefix + "batches_total"] = Interlocked.Read(ref batches);
            counts[metrics.Prefix + "retries_total"] = Interlocked.Read(ref retries);
            counts[metrics.Prefix + "buffer_length"] = buffer is { } buffered && buffered.Reader.CanCount ? buffered.Reader.Count : 0;
            counts[metrics.Prefix + "rows_out_total"] = Interlocked.Read(ref rowsOut);
            counts[metrics.Prefix + "rows_waiting"] = Math.Max(0, Interlocked.Read(ref waiting));
            ConnectorMetrics.AddTo(Volatile.Read(ref current), metrics.Prefix, counts);
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
        (batches, retries, rowsOut, waiting) = (0, 0, 0, 0);
        stopping = new CancellationTokenSource();
        var first = opened = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reader = buffer.Reader;
        var token = stopping.Token;
        var loops = Enumerable.Range(0, concurrency).Select(_ => EngineTasks.Run(() => RunAsync(reader, first, token))).ToArray();
        loop = loops.Length == 1 ? loops[0] : Task.WhenAll(loops);
    }

    /// <summary>
    /// Completes once every instance's first open attempt is over: opened, or failed in a way worth retrying (the
    /// destination is unreachable; the runner goes on trying while the rule runs). Faults with a
    /// <see cref="SinkException"/> when an instance refused to open for good (bad credentials, a missing table): the
    /// rule must not start.
    /// </summary>
    public Task Opened => opened?.Task ?? Task.CompletedTask;

    public ValueTask SendAsync(IReadOnlyList<ValueObject> emission, CancellationToken cancellationToken)
    {
        Interlocked.Add(ref waiting, emission.Count);
        Interlocked.Add(ref accepted, emission.Count);
        var written = buffer!.Writer.WriteAsync(emission, cancellationToken);
        return written.IsCompletedSuccessfully ? written : WaitAsync(written, emission.Count);
    }

    public ValueTask SendManyAsync(IReadOnlyList<IReadOnlyList<ValueObject>> emissions, CancellationToken cancellationToken)
    {
        // While the buffer has room each emission goes in without a wait; the first that finds it full waits, and
        // so does everything after it, in order.
        var writer = buffer!.Writer;
        for (var i = 0; i < emissions.Count; i++)
        {
            var emission = emissions[i];
            Interlocked.Add(ref waiting, emission.Count);
            Interlocked.Add(ref accepted, emission.Count);
            if (!writer.TryWrite(emission))
            {
                Interlocked.Add(ref waiting, -emission.Count);
                Interlocked.Add(ref accepted, -emission.Count);
                return SendRestAsync(emissions, i, cancellationToken);
            }
        }

        return ValueTask.CompletedTask;
    }

    private async ValueTask SendRestAsync(IReadOnlyList<IReadOnlyList<ValueObject>> emissions, int from, CancellationToken cancellationToken)
    {
        for (var i = from; i < emissions.Count; i++)
        {
            await SendAsync(emissions[i], cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask WaitAsync(ValueTask written, int rows)
    {
        try
        {
            await written.ConfigureAwait(false);
        }
        catch
        {
            Interlocked.Add(ref waiting, -rows);
            Interlocked.Add(ref accepted, -rows);
            throw;
        }
    }

    /// <summary>
    /// Completes once every row taken before this call is written or given up on (dead-lettered): a checkpoint's
    /// barrier. With one writer, rows settle in order, so the count of settled rows says it; with several, only a
    /// moment with nothing waiting does.
    /// </summary>
    public Task DrainedAsync(CancellationToken cancellationToken)
    {
        var target = Interlocked.Read(ref accepted);
        if (Drained(target))
        {
            return Task.CompletedTask;
        }

        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (drains)
        {
            drains.Add((target, done));
        }

        SignalDrains(); // it may have settled while the waiter was added
        return done.Task.WaitAsync(cancellationToken);
    }

    private bool Drained(long target) =>
        concurrency == 1 ? Interlocked.Read(ref settled) >= target : Interlocked.Read(ref waiting) <= 0;

    private void SignalDrains()
    {
        lock (drains)
        {
            for (var i = drains.Count - 1; i >= 0; i--)
            {
                if (Drained(drains[i].Target))
                {
                    drains[i].Done.TrySetResult();
                    drains.RemoveAt(i);
                }
            }
        }
    }

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

    private async Task RunAsync(ChannelReader<IReadOnlyList<ValueObject>> reader, TaskCompletionSource first, CancellationToken token)
    {
        var batch = new List<IReadOnlyList<ValueObject>>();
        var inFlight = 0;
        ISink? sink = null;
        try
        {
            sink = factory(context);
            Interlocked.CompareExchange(ref current, sink, null); // the first instance's own counters are shown
            await OpenAsync(sink, first, token).ConfigureAwait(false);
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
                Interlocked.Add(ref waiting, -rows);
                Interlocked.Add(ref settled, rows);
                inFlight = 0;
                SignalDrains();
            }
        }
        catch (SinkException e) when (first.Task.IsFaulted && ReferenceEquals(e, first.Task.Exception?.InnerException))
        {
            // The rule's start reports it: nothing was taken yet.
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
            first.TrySetException(new SinkException($"sink `{context.SinkType}` cannot start: {e.Message}", isTransient: false, e));
        }
        finally
        {
            first.TrySetResult(); // a stop before the first attempt ended: nothing to wait for
            if (sink is not null)
            {
                Interlocked.CompareExchange(ref current, null, sink);
                await sink.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Opens <paramref name="sink"/>, retrying with backoff while the rule runs. Only the first attempt can refuse:
    /// a non-transient <see cref="SinkException"/> from it is a configuration error (bad credentials, a missing
    /// table) that fails the rule's start. Any other failure, and every failure after the first attempt (the
    /// destination came back wrongly set up), is retried: the rows wait in the buffer, and the rule in backpressure.
    /// </summary>
    private async Task OpenAsync(ISink sink, TaskCompletionSource first, CancellationToken token)
    {
        var backoff = FirstBackoff;
        while (true)
        {
            try
            {
                await sink.OpenAsync(token).ConfigureAwait(false);
                first.TrySetResult();
                return;
            }
            catch (SinkException e) when (!e.IsTransient && !first.Task.IsCompleted && !token.IsCancellationRequested)
            {
                var refused = new SinkException($"sink `{context.SinkType}` cannot start: {e.Message}", isTransient: false, e);
                metrics.SetLastException(refused.Message, context.TimeProvider);
                first.TrySetException(refused);
                throw refused;
            }
            catch (Exception e) when (!token.IsCancellationRequested)
            {
                first.TrySetResult(); // unreachable is not misconfigured: the rule runs and its rows wait
                Interlocked.Increment(ref retries);
                metrics.SetLastException($"sink `{context.SinkType}` could not open: {e.Message}", context.TimeProvider);
                Report($"sink `{context.SinkType}` could not open, retrying in {backoff.TotalMilliseconds:0} ms: {e.Message}");
                await Task.Delay(backoff, context.TimeProvider, token).ConfigureAwait(false);
                backoff = Next(backoff);
            }
        }
    }

    private static TimeSpan Next(TimeSpan backoff) => TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));

    /// <summary>
    /// Writes one batch of messages: as payloads to a payload sink (one per message, or one for the whole batch
    /// without <c>sendSingle</c>), else as rows. A message the template or format cannot encode goes to the
    /// dead-letter topic; transient failures are retried. A batch the sink refuses for good is split in halves and
    /// each half written again, down to single rows (or payloads), so only what the sink refuses is dead-lettered, in
    /// order with the rest. Splitting rewrites rows, so it is done only for sinks whose writes are all-or-nothing or
    /// idempotent; an at-least-once sink's refused batch goes to the dead-letter topic whole.
    /// </summary>
    private async Task WriteAsync(ISink sink, IReadOnlyList<ValueObject>[] messages, CancellationToken token)
    {
        // Each unit (a row, or a payload) with the message it came from, and the messages it carries when refused.
        var payloadSink = sink is IPayloadSink;
        var owners = new List<int>(messages.Length);
        var rows = payloadSink ? [] : new List<IReadOnlyDictionary<string, object?>>(messages.Length);
        var payloads = payloadSink ? new List<SinkMessage>(messages.Length) : [];
        var whole = payloadSink && !encoding.SendSingle && messages.Length > 1;
        var units = whole ? [messages.SelectMany(m => m).ToArray()] : messages;
        var encodable = new bool[messages.Length];
        for (var m = 0; m < units.Length; m++)
        {
            var message = units[m];
            try
            {
                if (sink is IPayloadSink)
                {
                    payloads.Add(new SinkMessage(encoding.Encode(message), message, encoding.SendSingle && message.Count == 1));
                    owners.Add(m);
                }
                else
                {
                    foreach (var row in encoding.ToRows(message))
                    {
                        rows.Add(ClrValues.ToDictionary(row));
                        owners.Add(m);
                    }
                }

                encodable[whole ? 0 : m] = true;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Whatever a template or a user format throws, the message is bad, not the sink.
                await DeadLetterAsync(message.Select(ClrValues.ToDictionary).ToArray(), $"cannot encode: {e.Message}", token).ConfigureAwait(false);
            }
        }

        if (owners.Count == 0)
        {
            return;
        }

        var refused = new bool[units.Length];
        var split = sink.WriteSemantics is not SinkWriteSemantics.AtLeastOnce;
        await WriteSplittingAsync(0, owners.Count).ConfigureAwait(false);
        var delivered = 0;
        for (var m = 0; m < units.Length; m++)
        {
            delivered += encodable[whole ? 0 : m] && !refused[m] ? 1 : 0;
        }

        metrics.AddOut(whole ? (delivered == 1 ? messages.Length : 0) : delivered);

        async Task WriteSplittingAsync(int start, int count)
        {
            try
            {
                await RetryAsync(
                    () => sink is IPayloadSink payloadSink
                        ? payloadSink.WriteMessagesAsync(Slice(payloads, start, count), token)
                        : sink.WriteAsync(Slice(rows, start, count), token),
                    token).ConfigureAwait(false);
                Interlocked.Increment(ref batches);
                var written = 0;
                for (var i = start; i < start + count; i++)
                {
                    written += sink is IPayloadSink ? units[owners[i]].Count : 1;
                }

                Interlocked.Add(ref rowsOut, written);
            }
            catch (Exception e) when (e is not OperationCanceledException || !token.IsCancellationRequested)
            {
                if (split && count > 1)
                {
                    await WriteSplittingAsync(start, count / 2).ConfigureAwait(false);
                    await WriteSplittingAsync(start + count / 2, count - count / 2).ConfigureAwait(false);
                    return;
                }

                // Can never succeed: count it, log it, and keep the rows on the dead-letter topic.
                metrics.SetLastException($"sink `{context.SinkType}`: {e.Message}", context.TimeProvider);
                var letter = new List<IReadOnlyDictionary<string, object?>>();
                for (var i = start; i < start + count; i++)
                {
                    if (sink is IPayloadSink)
                    {
                        letter.AddRange(units[owners[i]].Select(ClrValues.ToDictionary));
                    }
                    else
                    {
                        letter.Add(rows[i]);
                    }

                    refused[owners[i]] = true;
                }

                await DeadLetterAsync(letter.ToArray(), e.Message, token).ConfigureAwait(false);
            }
        }
    }

    private static List<T> Slice<T>(List<T> items, int start, int count) =>
        start == 0 && count == items.Count ? items : items.GetRange(start, count);

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

    /// <summary>Writes until the write succeeds or fails for good, backing off exponentially between transient failures.</summary>
    private async Task RetryAsync(Func<ValueTask> action, CancellationToken token)
    {
        var backoff = FirstBackoff;
        while (true)
        {
            try
            {
                await action().ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (!token.IsCancellationRequested && IsTransient(e))
            {
                Interlocked.Increment(ref retries);
                metrics.SetLastException($"sink `{context.SinkType}` could not write: {e.Message}", context.TimeProvider);
                Report($"sink `{context.SinkType}` could not write, retrying in {backoff.TotalMilliseconds:0} ms: {e.Message}");
                await Task.Delay(backoff, context.TimeProvider, token).ConfigureAwait(false);
                backoff = Next(backoff);
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
