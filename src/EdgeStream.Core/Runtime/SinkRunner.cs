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
/// With <c>enableCache</c> (eKuiper's sink cache, <see cref="SinkCacheOptions"/>) a write that fails for now does
/// not hold the rule back: its messages go to a <see cref="SinkCache"/> (memory, then the state store) and a resend
/// loop writes them when the destination is back, oldest first. A full cache holds the rule back, as the buffer does:
/// nothing is dropped.
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
    private readonly SinkCacheOptions? cacheOptions;
    private readonly State.IStateStore? cacheStore;
    private readonly string cachePrefix;
    private readonly SemaphoreSlim writeGate = new(1, 1);
    private SinkCache? cache;
    private SemaphoreSlim cacheChanged = new(0);
    private long cachedTotal;
    private long resentTotal;
    private long discardedTotal;
    private SemaphoreSlim roomChanged = new(0);
    private volatile bool sinkOpen;
    private volatile bool writerWaiting; // the main loop waits for room in the cache
    private readonly TimeSpan drainTimeout;
    private readonly TimeSpan writeTimeout;
    private CancellationTokenSource? resendStop;
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

    /// <param name="context">The sink's context (its rule, type, properties, logger, clock).</param>
    /// <param name="factory">Makes sink instances.</param>
    /// <param name="bus">Where dead letters go.</param>
    /// <param name="onError">The rule's error reporter, once it runs.</param>
    /// <param name="encoding">How messages become payloads.</param>
    /// <param name="metrics">The sink's counters.</param>
    /// <param name="store">Where the cache keeps what does not fit in memory (<c>enableCache</c>); null for memory only.</param>
    /// <param name="index">The sink's place among the rule's actions (its cache's key).</param>
    /// <param name="drainTimeout">How long a stop resends a cache that has no disk, at most (the engine's <c>DrainTimeout</c>).</param>
    /// <exception cref="ArgumentException">A runner or cache property is invalid.</exception>
    public SinkRunner(SinkContext context, Func<SinkContext, ISink> factory, MemoryBus bus, Func<Action<string>> onError, SinkEncoding encoding, OperatorMetrics metrics,
        State.IStateStore? store = null, int index = 0, TimeSpan? drainTimeout = null)
    {
        this.drainTimeout = drainTimeout ?? TimeSpan.FromSeconds(30);
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
        writeTimeout = TimeSpan.FromMilliseconds(context.Properties.ContainsKey("writeTimeout") ? NonNegative(context, "writeTimeout") : 30_000);
        cacheOptions = SinkCacheOptions.From(context);
        cacheStore = store;
        cachePrefix = SinkCache.Prefix(context.RuleId, index, context.SinkType);
        if (cacheOptions is not null && concurrency > 1)
        {
            throw new ArgumentException($"sink `{context.SinkType}`: `enableCache` needs `concurrency` 1: the cache resends in order");
        }

        if (cacheOptions?.Destination is not null && !context.Properties.ContainsKey("topic") && !context.Properties.ContainsKey("table"))
        {
            throw new ArgumentException($"sink `{context.SinkType}`: `resendDestination` replaces the sink's `topic` or `table`, and it has neither");
        }

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
            if (cacheOptions is not null)
            {
                // The cache, in messages: held now (and of those on disk), ever cached, resent, and discarded at a stop.
                var held = Volatile.Read(ref cache);
                counts[metrics.Prefix + "cache_length"] = held?.Count ?? 0;
                counts[metrics.Prefix + "cache_disk_length"] = held?.DiskCount ?? 0;
                counts[metrics.Prefix + "cached_total"] = Interlocked.Read(ref cachedTotal);
                counts[metrics.Prefix + "resent_total"] = Interlocked.Read(ref resentTotal);
                counts[metrics.Prefix + "cache_discarded_total"] = Interlocked.Read(ref discardedTotal);
            }

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
    public static readonly string[] RunnerProperties = ["bufferLength", "batchSize", "lingerInterval", "concurrency", "runAsync", "writeTimeout", .. SinkCacheOptions.Properties];

    private static int NonNegative(SinkContext context, string name)
    {
        var text = context.Properties[name];
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new ArgumentException($"sink `{context.SinkType}`: `{name}` must be a number of milliseconds (0 for none), not `{text}`");
    }

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
        (cachedTotal, resentTotal, discardedTotal) = (0, 0, 0);
        (cacheChanged, roomChanged) = (new SemaphoreSlim(0), new SemaphoreSlim(0));
        Volatile.Write(ref cache, cacheOptions is null ? null : new SinkCache(cacheOptions, cacheStore, cachePrefix));
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
        if (cacheOptions is not null)
        {
            return DrainedWithCacheAsync(target, cancellationToken);
        }

        return Drained(target) ? Task.CompletedTask : WaitDrainedAsync(target, cancellationToken);
    }

    /// <summary>
    /// With a cache, rows settle when they are written or cached; a checkpoint also needs the cached ones durable:
    /// moved to disk, or, with no disk, resent.
    /// </summary>
    private async Task DrainedWithCacheAsync(long target, CancellationToken cancellationToken)
    {
        if (!Drained(target))
        {
            await WaitDrainedAsync(target, cancellationToken).ConfigureAwait(false);
        }

        while (Volatile.Read(ref cache) is { AllOnDisk: false } held)
        {
            if (held.HasDisk)
            {
                await writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    await held.SpillAsync(cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    writeGate.Release();
                }

                if (held.AllOnDisk)
                {
                    return;
                }
            }

            await roomChanged.WaitAsync(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
        }
    }

    private Task WaitDrainedAsync(long target, CancellationToken cancellationToken)
    {
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
        Task? resending = null;
        try
        {
            sink = factory(context);
            Interlocked.CompareExchange(ref current, sink, null); // the first instance's own counters are shown
            // With a cache, a destination that is down at the start is like one that goes down later: the messages are
            // cached and the resend loop opens the sink when it can.
            sinkOpen = await OpenAsync(sink, first, token, once: cache is not null).ConfigureAwait(false);
            if (cache is { } held)
            {
                var loaded = await held.LoadAsync(token).ConfigureAwait(false);
                if (loaded > 0)
                {
                    Diagnostics.Log.SinkProblem(context.Logger, context.RuleId, $"sink `{context.SinkType}` resends {loaded} messages cached by an earlier run");
                }

                resendStop = CancellationTokenSource.CreateLinkedTokenSource(token);
                resending = EngineTasks.Run(() => ResendAsync(held, sink, reader, resendStop.Token));
            }

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
                if (cache is { } open)
                {
                    await WriteOrCacheAsync(open, sink, messages, token).ConfigureAwait(false);
                }
                else
                {
                    await WriteAsync(sink, messages, token).ConfigureAwait(false);
                }

                Interlocked.Add(ref waiting, -rows);
                Interlocked.Add(ref settled, rows);
                inFlight = 0;
                SignalDrains();
            }

            if (cache is { HasDisk: false } memoryOnly && !cacheOptions!.CleanAtStop)
            {
                // Nowhere to keep them: resend for as long as the stop allows, at most the engine's drain timeout.
                using var bound = CancellationTokenSource.CreateLinkedTokenSource(token);
                bound.CancelAfter(drainTimeout);
                try
                {
                    while (memoryOnly.Count > 0)
                    {
                        await roomChanged.WaitAsync(bound.Token).ConfigureAwait(false);
                    }
                }
                catch (OperationCanceledException) when (bound.IsCancellationRequested && !token.IsCancellationRequested)
                {
                    // What is left is dead-lettered when the cache is settled.
                }
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

            await StopResendingAsync(resending).ConfigureAwait(false);
            resending = null;
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
            await StopResendingAsync(resending).ConfigureAwait(false);
            await SettleCacheAsync().ConfigureAwait(false);
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
    /// <returns>Whether the sink is open: always, unless <paramref name="once"/> and that one attempt failed for now.</returns>
    private async Task<bool> OpenAsync(ISink sink, TaskCompletionSource first, CancellationToken token, bool once = false)
    {
        var backoff = FirstBackoff;
        while (true)
        {
            try
            {
                await BoundedAsync(sink.OpenAsync, "an open", token).ConfigureAwait(false);
                first.TrySetResult();
                return true;
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
                if (once)
                {
                    Report($"sink `{context.SinkType}` could not open, caching until it can: {e.Message}");
                    return false;
                }

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
    /// <param name="sink">The instance to write with.</param>
    /// <param name="messages">The messages.</param>
    /// <param name="token">Stops retrying.</param>
    /// <param name="retryTransient">False when a cache takes what fails for now: the first transient failure is thrown.</param>
    private async Task WriteAsync(ISink sink, IReadOnlyList<ValueObject>[] messages, CancellationToken token, bool retryTransient = true)
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
                    bound => sink is IPayloadSink payloadSink
                        ? payloadSink.WriteMessagesAsync(Slice(payloads, start, count), bound)
                        : sink.WriteAsync(Slice(rows, start, count), bound),
                    token, retryTransient).ConfigureAwait(false);
                Interlocked.Increment(ref batches);
                var written = 0;
                for (var i = start; i < start + count; i++)
                {
                    written += sink is IPayloadSink ? units[owners[i]].Count : 1;
                }

                Interlocked.Add(ref rowsOut, written);
            }
            catch (Exception e) when ((e is not OperationCanceledException || !token.IsCancellationRequested) && (retryTransient || !IsTransient(e)))
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

    /// <summary>
    /// With a cache: writes the messages once when nothing older waits in the cache (or, with
    /// <c>resendAlterQueue</c>, whatever waits there), else, or when the write fails for now, adds them to the cache.
    /// A full cache makes this wait for room, which holds the rule back.
    /// </summary>
    private async Task WriteOrCacheAsync(SinkCache held, ISink sink, IReadOnlyList<ValueObject>[] messages, CancellationToken token)
    {
        var options = cacheOptions!;
        while (true)
        {
            await writeGate.WaitAsync(token).ConfigureAwait(false);
            try
            {
                // resendPriority 1 with the alternate queue: what is cached goes first, new messages wait for it.
                var waitForCache = options.AlterQueue && options.Priority > 0 && held.Count > 0;
                if (!waitForCache && sinkOpen && (held.Count == 0 || options.AlterQueue))
                {
                    try
                    {
                        await WriteAsync(sink, messages, token, retryTransient: false).ConfigureAwait(false);
                        return;
                    }
                    catch (Exception e) when (!token.IsCancellationRequested && IsTransient(e))
                    {
                        Interlocked.Increment(ref retries);
                        metrics.SetLastException($"sink `{context.SinkType}` could not write, caching: {e.Message}", context.TimeProvider);
                        if (held.Count == 0)
                        {
                            Report($"sink `{context.SinkType}` could not write, caching until it can: {e.Message}");
                        }
                    }
                }

                try
                {
                    if (!waitForCache && await held.TryAddAsync(messages, token).ConfigureAwait(false))
                    {
                        Interlocked.Add(ref cachedTotal, messages.Length);
                        Signal(cacheChanged);
                        return;
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException || !token.IsCancellationRequested)
                {
                    // The state store failed: nothing was added or lost; the messages wait here and the rule with them.
                    metrics.SetLastException($"sink `{context.SinkType}` could not cache: {e.Message}", context.TimeProvider);
                    Report($"sink `{context.SinkType}` could not cache, retrying: {e.Message}");
                }
            }
            finally
            {
                writeGate.Release();
            }

            // Room comes with a resend; the timeout retries a failed store, or a write once the cache is empty.
            writerWaiting = true;
            try
            {
                await roomChanged.WaitAsync(TimeSpan.FromSeconds(1), token).ConfigureAwait(false);
            }
            finally
            {
                writerWaiting = false;
            }
        }
    }

    private static void Signal(SemaphoreSlim signal)
    {
        if (signal.CurrentCount == 0)
        {
            signal.Release();
        }
    }

    /// <summary>
    /// Resends cached messages, oldest first, one at a time, <c>resendInterval</c> apart, backing off while the
    /// destination stays down; with <c>resendPriority</c> -1 (and the alternate queue) only while no new message waits.
    /// </summary>
    private async Task ResendAsync(SinkCache held, ISink sink, ChannelReader<IReadOnlyList<ValueObject>> reader, CancellationToken token)
    {
        var options = cacheOptions!;
        ISink? destination = null;
        var backoff = FirstBackoff;
        try
        {
            while (true)
            {
                if (held.Count == 0)
                {
                    await cacheChanged.WaitAsync(token).ConfigureAwait(false);
                    continue;
                }

                if (options.AlterQueue && options.Priority < 0 && !writerWaiting && reader.CanCount && reader.Count > 0)
                {
                    await Task.Delay(FirstBackoff, context.TimeProvider, token).ConfigureAwait(false);
                    continue;
                }

                var sent = false;
                await writeGate.WaitAsync(token).ConfigureAwait(false);
                try
                {
                    IReadOnlyList<ValueObject>? message;
                    try
                    {
                        message = await held.PeekAsync(token).ConfigureAwait(false);
                    }
                    catch (FormatException e)
                    {
                        var lost = await held.DropDiskHeadAsync(token).ConfigureAwait(false);
                        metrics.AddException();
                        Report($"sink `{context.SinkType}`: a cached page cannot be read, its {lost} messages are lost: {e.Message}");
                        Signal(roomChanged);
                        continue;
                    }

                    if (message is not null)
                    {
                        try
                        {
                            if (!sinkOpen)
                            {
                                await BoundedAsync(sink.OpenAsync, "an open", token).ConfigureAwait(false);
                                sinkOpen = true;
                            }

                            destination ??= await DestinationAsync(sink, token).ConfigureAwait(false);
                            await WriteAsync(destination, [Indicated(message)], token, retryTransient: false).ConfigureAwait(false);
                            sent = true;
                        }
                        catch (Exception e) when (!token.IsCancellationRequested && (IsTransient(e) || destination is null || e is OperationCanceledException))
                        {
                            Interlocked.Increment(ref retries);
                            metrics.SetLastException($"sink `{context.SinkType}` could not resend: {e.Message}", context.TimeProvider);
                        }

                        if (sent)
                        {
                            await held.RemoveOldestAsync(token).ConfigureAwait(false);
                            Interlocked.Increment(ref resentTotal);
                        }
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException || !token.IsCancellationRequested)
                {
                    // The state store failed (a page would not read or delete): what it holds stays; try again later.
                    sent = false;
                    metrics.SetLastException($"sink `{context.SinkType}` could not resend: {e.Message}", context.TimeProvider);
                    Report($"sink `{context.SinkType}` could not resend from its cache, retrying: {e.Message}");
                }
                finally
                {
                    writeGate.Release();
                }

                if (sent)
                {
                    Signal(roomChanged);
                    backoff = FirstBackoff;
                    if (options.ResendInterval > TimeSpan.Zero)
                    {
                        await Task.Delay(options.ResendInterval, context.TimeProvider, token).ConfigureAwait(false);
                    }
                }
                else
                {
                    await Task.Delay(backoff, context.TimeProvider, token).ConfigureAwait(false);
                    backoff = Next(backoff);
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        finally
        {
            if (destination is not null && !ReferenceEquals(destination, sink))
            {
                await destination.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>The instance resent messages go to: the sink itself, or (<c>resendDestination</c>) one opened on the other topic or table.</summary>
    private async Task<ISink> DestinationAsync(ISink sink, CancellationToken token)
    {
        if (cacheOptions!.Destination is not { } target)
        {
            return sink;
        }

        var properties = new Dictionary<string, string>(context.Properties.Count, StringComparer.Ordinal);
        foreach (var (key, value) in context.Properties)
        {
            properties[key] = value;
        }

        properties[context.Properties.ContainsKey("topic") ? "topic" : "table"] = target;
        var other = factory(new SinkContext(context.RuleId, context.SinkType, properties, context.Logger, context.TimeProvider) { Reporter = context.Reporter });
        try
        {
            await other.OpenAsync(token).ConfigureAwait(false);
            return other;
        }
        catch
        {
            await other.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The message with <c>resendIndicatorField</c> set to true in each row, when configured.</summary>
    private IReadOnlyList<ValueObject> Indicated(IReadOnlyList<ValueObject> message)
    {
        if (cacheOptions!.IndicatorField is not { } field)
        {
            return message;
        }

        var marked = new ValueObject[message.Count];
        for (var i = 0; i < marked.Length; i++)
        {
            var row = new ValueObject(message[i].Count + 1);
            foreach (var (key, value) in message[i].Fields)
            {
                row[key] = value;
            }

            row[field] = Value.True;
            marked[i] = row;
        }

        return marked;
    }

    private async Task StopResendingAsync(Task? resending)
    {
        if (resending is null || resendStop is null)
        {
            return;
        }

        await resendStop.CancelAsync().ConfigureAwait(false);
        try
        {
            await resending.ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Reported; the cache is settled all the same.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Report($"sink `{context.SinkType}`: the resend loop failed: {e.Message}");
        }

        resendStop.Dispose();
        resendStop = null;
    }

    /// <summary>
    /// At the end of a run: <c>cleanCacheAtStop</c> discards the cache (counted and reported); otherwise what is in
    /// memory moves to disk for the next run, and what cannot (no state store, or a full disk) is reported undelivered.
    /// </summary>
    private async Task SettleCacheAsync()
    {
        if (Volatile.Read(ref cache) is not { Count: > 0 } held)
        {
            return;
        }

        try
        {
            if (cacheOptions!.CleanAtStop)
            {
                var discarded = await held.ClearAsync(CancellationToken.None).ConfigureAwait(false);
                Interlocked.Add(ref discardedTotal, discarded);
                Report($"sink `{context.SinkType}`: cleanCacheAtStop discarded {discarded} cached messages");
                return;
            }

            string why;
            try
            {
                why = await held.SpillAsync(CancellationToken.None).ConfigureAwait(false) == 0
                    ? string.Empty
                    : held.HasDisk ? "the disk cache (maxDiskCache) is full" : "the cache has no state store to keep them (EdgeStreamEngineOptions.StateStore)";
            }
#pragma warning disable CA1031 // The store failing at a stop: what memory holds is dead-lettered instead.
            catch (Exception e)
#pragma warning restore CA1031
            {
                why = $"the state store failed: {e.Message}";
            }

            if (why.Length > 0)
            {
                // Nowhere to keep them for the next run: they go to the dead-letter topic, never silently away.
                var rows = held.TakeMemory().SelectMany(m => m).Select(ClrValues.ToDictionary).ToArray();
                using var bound = new CancellationTokenSource(drainTimeout);
                await DeadLetterAsync(rows, $"not delivered: the sink stopped with its destination down and {why}", bound.Token).ConfigureAwait(false);
            }
        }
#pragma warning disable CA1031 // The store failing at a stop is reported; the stop goes on.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Report($"sink `{context.SinkType}` could not keep its cache at the stop: {e.Message}");
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

    /// <summary>
    /// Runs one sink call under <c>writeTimeout</c>: past it the call's token fires and the call counts as a
    /// transient failure (a <see cref="TimeoutException"/>, retried with backoff or cached), so a hung destination
    /// holds up only its own sink. A call that ignores its token is left to finish on its own.
    /// </summary>
    private async ValueTask BoundedAsync(Func<CancellationToken, ValueTask> call, string what, CancellationToken token)
    {
        if (writeTimeout <= TimeSpan.Zero)
        {
            await call(token).ConfigureAwait(false);
            return;
        }

        using var bound = CancellationTokenSource.CreateLinkedTokenSource(token);
        bound.CancelAfter(writeTimeout);
        var pending = call(bound.Token);
        if (pending.IsCompleted)
        {
            await pending.ConfigureAwait(false); // done at once (an in-memory write): no wait to bound
            return;
        }

        var running = pending.AsTask();
        try
        {
            await running.WaitAsync(writeTimeout, token).ConfigureAwait(false);
        }
        catch (Exception e) when (!token.IsCancellationRequested && (e is TimeoutException || (e is OperationCanceledException && bound.IsCancellationRequested)))
        {
            _ = running.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            throw new TimeoutException($"{what} took longer than {writeTimeout.TotalMilliseconds:0} ms (sink property writeTimeout)");
        }
    }

    private static bool IsTransient(Exception e) => e is SinkException { IsTransient: true } or TimeoutException or IOException;

    /// <summary>Writes until the write succeeds or fails for good, backing off exponentially between transient failures.</summary>
    private async Task RetryAsync(Func<CancellationToken, ValueTask> action, CancellationToken token, bool retryTransient = true)
    {
        var backoff = FirstBackoff;
        while (true)
        {
            try
            {
                await BoundedAsync(action, "a write", token).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (!token.IsCancellationRequested && IsTransient(e) && retryTransient)
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
