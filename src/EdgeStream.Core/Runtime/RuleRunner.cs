using System.Threading.Channels;
using EdgeStream.Abstractions;
using EdgeStream.Compilation;
using EdgeStream.Runtime.Memory;

namespace EdgeStream.Runtime;

/// <summary>A result destination of a running rule.</summary>
internal interface IRuleSink
{
    ValueTask SendAsync(IReadOnlyList<ValueObject> emission, CancellationToken cancellationToken);

    /// <summary>The sink's counters (<c>sink_{type}_{index}_0_…</c>), if it keeps them.</summary>
    OperatorMetrics? Metrics => null;

    /// <summary>Called when the rule starts, before the first <see cref="SendAsync"/>.</summary>
    void Start()
    {
    }

    /// <summary>Called when the rule stops, after the last <see cref="SendAsync"/>; finishes what the sink holds.</summary>
    Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>eKuiper's <c>memory</c> sink: publishes each emission to a memory topic (through <c>dataTemplate</c> if set).</summary>
internal sealed class MemorySink(MemoryBus bus, string topic, SinkEncoding encoding, Func<Action<string>> onError, OperatorMetrics metrics) : IRuleSink
{
    public ValueTask SendAsync(IReadOnlyList<ValueObject> emission, CancellationToken cancellationToken)
    {
        IReadOnlyList<ValueObject> rows;
        try
        {
            rows = encoding.ToRows(emission);
        }
        catch (Templates.TemplateException e)
        {
            metrics.AddException();
            onError()($"sink `memory`: {e.Message}");
            return ValueTask.CompletedTask;
        }

        return PublishAsync(rows, cancellationToken);
    }

    private async ValueTask PublishAsync(IReadOnlyList<ValueObject> rows, CancellationToken cancellationToken)
    {
        try
        {
            await bus.PublishAsync(topic, new MemoryMessage(null, default, rows), cancellationToken).ConfigureAwait(false);
            metrics.AddOut();
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            metrics.AddException();
            // A host callback subscribed to the topic failed: the rule counts it and goes on.
            onError()($"sink `memory`: a subscriber of `{topic}` failed: {e.Message}");
        }
    }
}

/// <summary>eKuiper's <c>log</c> sink: writes each emission to the log (Information), as JSON or through <c>dataTemplate</c>.</summary>
internal sealed class LogSink(Microsoft.Extensions.Logging.ILogger logger, string ruleId, SinkEncoding encoding, Func<Action<string>> onError, OperatorMetrics metrics) : IRuleSink
{
    public ValueTask SendAsync(IReadOnlyList<ValueObject> emission, CancellationToken cancellationToken)
    {
        if (logger.IsEnabled(Microsoft.Extensions.Logging.LogLevel.Information))
        {
            string text;
            try
            {
                text = encoding.Template is null ? Json.JsonValueWriter.Write(emission) : encoding.Render(emission);
            }
            catch (Templates.TemplateException e)
            {
                metrics.AddException();
                onError()($"sink `log`: {e.Message}");
                return ValueTask.CompletedTask;
            }

#pragma warning disable CA1873 // The text is built only after the IsEnabled check above.
            Diagnostics.Log.LogSinkEmission(logger, ruleId, text);
#pragma warning restore CA1873
        }

        metrics.AddOut();
        return ValueTask.CompletedTask;
    }
}

/// <summary>eKuiper's <c>nop</c> sink: discards results (benchmarks, dry runs).</summary>
internal sealed class NopSink(OperatorMetrics metrics) : IRuleSink
{
    public ValueTask SendAsync(IReadOnlyList<ValueObject> emission, CancellationToken cancellationToken)
    {
        metrics.AddOut();
        return ValueTask.CompletedTask;
    }
}

/// <summary>Counters of one logical operator, with eKuiper's metric names.</summary>
/// <param name="prefix">The metric names' prefix, e.g. <c>op_2_filter_0_</c>.</param>
/// <param name="hasLatency">Whether it reports <c>process_latency_us</c> (operators do; sources and sinks do not).</param>
internal sealed class OperatorMetrics(string prefix, bool hasLatency = false)
{
    public long In;
    public long Out;
    public long Exceptions;
    public long LatencyUs;

    public string Prefix { get; } = prefix;

    /// <summary>
    /// Whether several tasks count at once (rule or sink concurrency above 1): then counts are atomic. A single
    /// writer counts with plain adds, which readers on other threads see whole (64-bit writes do not tear on the
    /// platforms .NET 10 runs on), at most a moment late.
    /// </summary>
    public bool Shared { get; set; }

    public void Reset() => (In, Out, Exceptions, LatencyUs) = (0, 0, 0, 0);

    public void AddIn(long n = 1) => Add(ref In, n);

    public void AddOut(long n = 1) => Add(ref Out, n);

    public void AddException() => Add(ref Exceptions, 1);

    private void Add(ref long counter, long n)
    {
        if (Shared)
        {
            Interlocked.Add(ref counter, n);
        }
        else
        {
            counter += n;
        }
    }

    public void AddTo(IDictionary<string, long> metrics)
    {
        metrics[Prefix + "records_in_total"] = Interlocked.Read(ref In);
        metrics[Prefix + "records_out_total"] = Interlocked.Read(ref Out);
        metrics[Prefix + "exceptions_total"] = Interlocked.Read(ref Exceptions);
        if (hasLatency)
        {
            metrics[Prefix + "process_latency_us"] = Interlocked.Read(ref LatencyUs);
        }
    }
}

/// <summary>
/// One running instance of a stateless rule: a bounded channel from its memory topic (and its source, if any), and
/// <c>concurrency</c> tasks that each decode, filter and project events and hand results to the sinks. Decode,
/// filter and project are fused into one stage, but counted per logical operator with eKuiper's metric names. A bad
/// event is counted (and sent as an error row with <c>sendError</c>) and the loop goes on; stopping drains what the
/// channel already holds. A failure of the whole loop (a bug, a broken logger) stops the rule and is reported to
/// <c>onFailed</c>, which applies the restart strategy.
/// </summary>
internal sealed class RuleRunner : IMemorySubscriber, IDisposable
{
    private readonly string id;
    private readonly RulePlan plan;
    private readonly IReadOnlyList<IRuleSink> sinks;
    private readonly RuleOptions options;
    private readonly MemoryBus bus;
    private readonly string[] topics;
    private readonly TimeProvider time;
    private readonly Channel<MemoryMessage> input;
    private readonly RowGate? rowGate;
    private readonly CancellationTokenSource stopping = new();
    private readonly IRuleInput? source;
    private readonly Action<RuleRunner>? onFailed;
    private readonly OperatorMetrics sourceMetrics;
    private readonly OperatorMetrics? filterMetrics;
    private readonly OperatorMetrics projectMetrics;
    private readonly OperatorMetrics? windowMetrics;
    private readonly OperatorMetrics? havingMetrics;
    private readonly OperatorMetrics? aggregateMetrics;
    private readonly OperatorMetrics? windowFilterMetrics;
    private readonly List<Row> windowRows = [];

    // Rows of a tumbling/hopping window with the time they count at: their arrival, or, for a row published before
    // a tick but queued after it (it waited for buffer room), the end of the last window cut, so it is never lost.
    private readonly List<(Row Row, long At)> timedRows = [];
    private long lastWindowEnd;
    private readonly Lock tickGate = new();
    private ITimer? windowTimer;
    private long nextWindowEnd;
    private Task? loop;
    private long recordsIn;
    private long recordsOut;
    private long errors;
    private long dropped;
    private long messages;
    private readonly bool atomic;
    private string? lastError;
    private volatile bool failed;
    private int failures;

    private readonly IReadOnlyList<string> warnings;
    private readonly Microsoft.Extensions.Logging.ILogger logger;
    private readonly KeyValuePair<string, object?> ruleTag;

    public RuleRunner(
        string id, RulePlan plan, IReadOnlyList<IRuleSink> sinks, RuleOptions options, MemoryBus bus, TimeProvider time,
        IReadOnlyList<string> warnings, Microsoft.Extensions.Logging.ILogger logger, IRuleInput? source = null, Action<RuleRunner>? onFailed = null)
    {
        this.warnings = warnings;
        this.logger = logger;
        ruleTag = new("rule", id);
        this.id = id;
        this.plan = plan;
        this.sinks = sinks;
        this.options = options;
        this.bus = bus;
        this.time = time;
        this.source = source;
        this.onFailed = onFailed;
        var stream = plan.Source;
        var memoryTopic = source is null && string.Equals(stream.Option("TYPE"), "memory", StringComparison.OrdinalIgnoreCase) ? stream.Option("DATASOURCE") : null;
        topics = memoryTopic is { Length: > 0 } ? [StreamTopic(stream.Name), memoryTopic] : [StreamTopic(stream.Name)];
        // Blocking (the default) bounds the buffer by rows, so batches weigh what they carry; drop-oldest bounds it
        // by messages, each dropped message counted.
        if (options.DropOldestWhenFull)
        {
            input = Channel.CreateBounded<MemoryMessage>(
                new BoundedChannelOptions(Math.Max(1, options.BufferLength)) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = options.Concurrency <= 1 },
                _ => Interlocked.Increment(ref dropped));
        }
        else
        {
            rowGate = new RowGate(Math.Max(1, options.BufferLength));
            input = Channel.CreateUnbounded<MemoryMessage>(new UnboundedChannelOptions { SingleReader = options.Concurrency <= 1 });
        }

        // eKuiper numbers operators from 2 (after the source); the fused stage keeps its logical operators' names.
        atomic = options.Concurrency > 1;
        sourceMetrics = new OperatorMetrics($"source_{stream.Name}_0_") { Shared = atomic };
        var prefixes = plan.OperatorPrefixes();
        OperatorMetrics? Metrics(string key, bool shared = false) =>
            prefixes.TryGetValue(key, out var prefix) ? new OperatorMetrics(prefix, hasLatency: true) { Shared = shared } : null;
        filterMetrics = Metrics("filter", atomic);
        windowFilterMetrics = Metrics("windowFilter");
        windowMetrics = Metrics("window");
        aggregateMetrics = Metrics("aggregate");
        havingMetrics = Metrics("having");
        projectMetrics = Metrics("project", atomic)!;
        foreach (var sink in sinks)
        {
            if (sink.Metrics is { } counted)
            {
                counted.Shared |= atomic; // a sink runner with several instances has set it already
            }
        }
    }

    public string Id => id;

    public void Start()
    {
        foreach (var sink in sinks)
        {
            sink.Start();
        }

        foreach (var topic in topics)
        {
            bus.Add(topic, this);
        }

        if (plan.Window is { FiltersAfter: false } window)
        {
            // The timer only enqueues a tick: the window is cut by the processing task, in order with the events.
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            nextWindowEnd = window.FirstEnd(now);
            windowTimer = time.CreateTimer(_ => Tick(window), null, TimeSpan.FromMilliseconds(nextWindowEnd - now), TimeSpan.FromMilliseconds(window.Interval));
        }

        // A window's state belongs to one task, so windowed rules run one whatever their concurrency.
        var count = plan.Window is null ? Math.Max(1, options.Concurrency) : 1;
        var workers = Enumerable.Range(0, count).Select(_ => EngineTasks.Run(RunAsync)).ToArray();
        loop = workers.Length == 1 ? workers[0] : Task.WhenAll(workers);
        source?.Attach(this);

        Diagnostics.Log.RuleStarted(logger, id);
    }

    /// <summary>
    /// Stops taking events, finishes those already taken, and returns when the loop has ended. If
    /// <paramref name="cancellationToken"/> fires first (a sink that no longer takes results), the rest is abandoned.
    /// </summary>
    /// <summary>A window timer fired: queue the cut of the window that ends now (ticks skip the row gate; they carry no rows).</summary>
    private void Tick(WindowPlan window)
    {
        // Under a lock: overlapping timer callbacks must queue their ends in order.
        lock (tickGate)
        {
            var end = nextWindowEnd;
            nextWindowEnd += window.Interval;
            input.Writer.TryWrite(new MemoryMessage(null, default, null) { TickAt = end });
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // Open windows are not flushed on stop, as in eKuiper.
        windowTimer?.Dispose();

        // Giving up (the token fires) abandons what is in flight: the loop stops and waiting publishers are let go.
        using var giveUp = cancellationToken.Register(() =>
        {
            stopping.Cancel();
            rowGate?.Close();
        });
        if (source is not null)
        {
            try
            {
                await source.DetachAsync(this).WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // A source that ignores cancellation is left to finish on its own; the rule stops anyway.
            }
        }

        Unsubscribe();
        input.Writer.TryComplete();
        if (loop is null)
        {
            return;
        }

        await loop.ConfigureAwait(false);
        rowGate?.Close(); // publishers still waiting were never taken

        foreach (var sink in sinks)
        {
            await sink.StopAsync(cancellationToken).ConfigureAwait(false);
        }

        Diagnostics.Log.RuleStopped(logger, id);
    }

    public void Dispose()
    {
        stopping.Dispose();
    }

    /// <summary>
    /// The file a <c>TYPE="file"</c> stream reads: its DATASOURCE, one JSON object per line (<c>stdin</c> reads the
    /// process's standard input); null for other stream types.
    /// </summary>
    internal static string? FileSource(Planning.StreamDefinition stream) =>
        string.Equals(stream.Option("TYPE"), "file", StringComparison.OrdinalIgnoreCase) ? stream.Option("DATASOURCE") : null;

    /// <summary>The bus topic of events pushed to a stream by name; the control character keeps it apart from user topics.</summary>
    internal static string StreamTopic(string stream) => "\u0001stream/" + stream.ToUpperInvariant();

    private void Unsubscribe()
    {
        foreach (var topic in topics)
        {
            bus.Remove(topic, this);
        }
    }

    public bool Failed => failed;

    public RuleStatus Status(bool running)
    {
        var metrics = new SortedDictionary<string, long>(StringComparer.Ordinal);
        sourceMetrics.AddTo(metrics);
        metrics[sourceMetrics.Prefix + "dropped_total"] = Interlocked.Read(ref dropped);
        filterMetrics?.AddTo(metrics);
        windowFilterMetrics?.AddTo(metrics);
        windowMetrics?.AddTo(metrics);
        aggregateMetrics?.AddTo(metrics);
        havingMetrics?.AddTo(metrics);
        projectMetrics.AddTo(metrics);
        foreach (var sink in sinks)
        {
            sink.Metrics?.AddTo(metrics);
        }

        return new(
            id,
            failed ? RuleState.StoppedByError : running ? RuleState.Running : RuleState.Stopped,
            Interlocked.Read(ref recordsIn),
            Interlocked.Read(ref recordsOut),
            Interlocked.Read(ref errors),
            Volatile.Read(ref lastError),
            warnings,
            metrics);
    }

    public ValueTask DeliverAsync(MemoryMessage message, CancellationToken cancellationToken)
    {
        if (rowGate is { } gate)
        {
            var credits = gate.WaitAsync(message.RowCount, cancellationToken);
            if (credits.IsCompletedSuccessfully)
            {
                return Enqueue(gate, message, credits.Result) ? ValueTask.CompletedTask : RefusedAsync(message);
            }

            return WaitThenEnqueueAsync(gate, message, credits);
        }

        return WriteAsync(message, cancellationToken);
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WaitThenEnqueueAsync(RowGate gate, MemoryMessage message, ValueTask<bool> credits)
    {
        if (!Enqueue(gate, message, await credits.ConfigureAwait(false)))
        {
            await RefusedAsync(message).ConfigureAwait(false);
        }
    }

    /// <summary>Enqueues a message whose credits were taken; false when the gate or channel is closed (the rule stopped or failed).</summary>
    private bool Enqueue(RowGate gate, MemoryMessage message, bool granted)
    {
        if (granted && !input.Writer.TryWrite(message))
        {
            gate.Release(message.RowCount);
            return false;
        }

        return granted;
    }

    /// <summary>
    /// A message that arrived as the rule stopped. After a normal stop nobody subscribes any more and it was never
    /// taken; after a failure it is dead-lettered, so a publisher's event is never silently dropped.
    /// </summary>
    private async ValueTask RefusedAsync(MemoryMessage message)
    {
        if (failed)
        {
            await DeadLetterMessageAsync(message, "not processed: the rule had failed").ConfigureAwait(false);
        }
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteAsync(MemoryMessage message, CancellationToken cancellationToken)
    {
        try
        {
            await input.Writer.WriteAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            // The rule stopped between the publisher's lookup and this write; it no longer subscribes.
            await RefusedAsync(message).ConfigureAwait(false);
        }
    }

    /// <summary>One processing task: its own evaluation context, so tasks never share per-row state.</summary>
    private async Task RunAsync()
    {
        var context = plan.Compiler.CreateContext();
        var decoded = new List<DecodeResult>();
        MemoryMessage? current = null;
        try
        {
            await foreach (var message in input.Reader.ReadAllAsync(stopping.Token).ConfigureAwait(false))
            {
                current = message;
                if (message.TickAt != 0)
                {
                    await EmitWindowAsync(message.TickAt, context).ConfigureAwait(false);
                    current = null;
                    continue;
                }

                await ProcessAsync(message, context, decoded).ConfigureAwait(false);
                current = null;
                rowGate?.Release(message.RowCount);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
#pragma warning disable CA1031 // A rule's failure must never reach the host: it is recorded in the rule status.
        catch (Exception e)
#pragma warning restore CA1031
        {
            RecordError(e.Message);
            Diagnostics.Log.RuleFailed(logger, id, e);
            if (current is { TickAt: 0 } interrupted)
            {
                // Its results may be partly out; the event itself is kept where it can be replayed.
                await DeadLetterMessageAsync(interrupted, $"not fully processed: the rule failed ({e.Message})").ConfigureAwait(false);
            }

            if (Interlocked.Exchange(ref failures, 1) == 0)
            {
                failed = true;
                Unsubscribe();
                input.Writer.TryComplete();
                rowGate?.Close();
                windowTimer?.Dispose();
                await DeadLetterWaitingAsync(e.Message).ConfigureAwait(false);

                // Rows held by an open window were taken and never emitted: they are kept where they can be replayed.
                foreach (var held in windowRows.Concat(timedRows.Select(t => t.Row)))
                {
                    await DeadLetterAsync($"not processed: the rule failed ({e.Message})", Value.From(ToObject(held))).ConfigureAwait(false);
                }
                if (source is not null)
                {
                    // Stop reading: a source must not take (and acknowledge) events that no rule will process.
                    await source.DetachAsync(this).ConfigureAwait(false);
                }

                try
                {
                    onFailed?.Invoke(this);
                }
#pragma warning disable CA1031 // The restart policy failing leaves the rule stopped by error; it must not fault the loop.
                catch (Exception restart)
#pragma warning restore CA1031
                {
                    Diagnostics.Log.RuleFailed(logger, id, restart);
                }
            }
        }
    }

    /// <summary>Events taken but not processed when the rule failed go to the dead-letter topic, not nowhere.</summary>
    private async Task DeadLetterWaitingAsync(string reason)
    {
        while (input.Reader.TryRead(out var message))
        {
            if (message.TickAt == 0)
            {
                await DeadLetterMessageAsync(message, $"not processed: the rule failed ({reason})").ConfigureAwait(false);
            }
        }
    }

    /// <summary>Dead-letters every event of a message (decoded if it can be, else as its payload).</summary>
    private async Task DeadLetterMessageAsync(MemoryMessage message, string reason)
    {
        var decoded = new List<DecodeResult>();
        plan.Decoder.DecodeAll(message, time.GetUtcNow().ToUnixTimeMilliseconds(), decoded);
        foreach (var result in decoded)
        {
            var payload = result.Row is { } row ? Value.From(ToObject(row)) : result.Payload;
            await DeadLetterAsync(reason, payload).ConfigureAwait(false);
        }
    }

    private static ValueObject ToObject(Row row)
    {
        var fields = new ValueObject(row.Values.Length);
        foreach (var (name, value) in row.Fields())
        {
            fields[name] = value;
        }

        return fields;
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ProcessAsync(MemoryMessage message, EvalContext context, List<DecodeResult> decoded)
    {
        // Latency is sampled (every 16th message, and the first): reading the clock costs more than a simple filter.
        var started = (Count(ref messages, 1) & 15) == 1 ? time.GetTimestamp() : 0;
        decoded.Clear();
        plan.Decoder.DecodeAll(message, time.GetUtcNow().ToUnixTimeMilliseconds(), decoded);
        foreach (var result in decoded)
        {
            Count(ref recordsIn, 1);
            sourceMetrics.AddIn();
            Diagnostics.EngineMetrics.RecordsIn.Add(1, ruleTag);
            if (result.Row is { } row)
            {
                sourceMetrics.AddOut();
                await ProcessRowAsync(row, context, started).ConfigureAwait(false);
            }
            else
            {
                // As eKuiper counts them: a payload that does not decode is the source's exception; a decoded event that
                // fails schema validation has left the source and fails in its preprocessor.
                if (IsValidationError(result.Error!))
                {
                    sourceMetrics.AddOut();
                }
                else
                {
                    sourceMetrics.AddException();
                }

                await ReportAsync(result.Error!).ConfigureAwait(false);
                await DeadLetterAsync(result.Error!, result.Payload).ConfigureAwait(false);
            }
        }
    }

    private static bool IsValidationError(string error) => error.StartsWith(RowDecoder.ValidationErrorPrefix, StringComparison.Ordinal);

    /// <summary>
    /// Publishes an event the rule could not process to <see cref="EdgeStreamEngine.DeadLetterTopic"/>. Best effort:
    /// a dead-letter subscriber that fails is counted and logged, and never stops the rule.
    /// </summary>
    private async ValueTask DeadLetterAsync(string error, Value payload)
    {
        var letter = new ValueObject(4)
        {
            ["rule"] = Value.From(id),
            ["stream"] = Value.From(plan.Source.Name),
            ["error"] = Value.From(error),
            ["payload"] = payload,
        };
        try
        {
            await bus.PublishAsync(EdgeStreamEngine.DeadLetterTopic, new MemoryMessage(letter, default, null), stopping.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            RecordError($"dead-letter subscriber failed: {e.Message}");
            Diagnostics.Log.SinkProblem(logger, id, $"dead-letter subscriber failed: {e.Message}");
        }
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ProcessRowAsync(Row row, EvalContext context, long started)
    {
        context.SetRow(row);
        if (plan.Window is { IsCount: true } countWindow)
        {
            // A count window takes every row; WHERE runs on its rows when it fires.
            if (await EntersWindowAsync(context).ConfigureAwait(false))
            {
                windowMetrics!.AddIn();
                windowRows.Add(row);
                if (windowRows.Count >= countWindow.Size)
                {
                    var rows = windowRows.ToList();
                    windowRows.Clear();

                    // It ends when its last row arrived (the clock at emission, in eKuiper; the arrival time keeps it exact).
                    await EmitFilteredWindowAsync(rows, rows[0].Timestamp, rows[^1].Timestamp, context).ConfigureAwait(false);
                }
            }

            return;
        }

        if (plan.Window is { IsSliding: true } sliding)
        {
            // A sliding window: a row that meets OVER (WHEN …) fires it over the length before it, itself included.
            if (await EntersWindowAsync(context).ConfigureAwait(false))
            {
                windowMetrics!.AddIn();
                var now = row.Timestamp;
                windowRows.Add(row);
                windowRows.RemoveAll(r => r.Timestamp < now - sliding.Length);
                bool fires;
                try
                {
                    context.SetRow(row);
                    fires = plan.SlidingTriggers(context);
                }
                catch (EvaluationException e)
                {
                    await ReportAsync("run Window Over error: " + e.Message).ConfigureAwait(false);
                    return;
                }

                if (fires)
                {
                    await EmitFilteredWindowAsync(windowRows.ToList(), now - sliding.Length, now, context).ConfigureAwait(false);
                }
            }

            return;
        }

        if (filterMetrics is { } filter)
        {
            filter.AddIn();
            bool pass;
            try
            {
                pass = plan.Filter(context);
            }
            catch (EvaluationException e)
            {
                filter.AddException();
                await ReportAsync("run Where error: " + e.Message).ConfigureAwait(false);
                return;
            }

            Latency(filter, started);
            if (!pass)
            {
                return;
            }

            filter.AddOut();
        }

        if (windowMetrics is { } windowed)
        {
            if (await EntersWindowAsync(context).ConfigureAwait(false))
            {
                windowed.AddIn();
                timedRows.Add((row, Math.Max(row.Timestamp, lastWindowEnd)));
            }

            return;
        }

        projectMetrics.AddIn();
        ValueObject result;
        try
        {
            result = plan.Project(context, options.SendNilField, options.SendMetaToSink);
        }
        catch (EvaluationException e)
        {
            projectMetrics.AddException();
            await ReportAsync("run Select error: " + e.Message).ConfigureAwait(false);
            return;
        }

        projectMetrics.AddOut();
        Latency(projectMetrics, started);
        await EmitAsync([result]).ConfigureAwait(false);
    }

    /// <summary>
    /// Cuts the window ending at <paramref name="end"/>: its rows in arrival order (or ORDER BY), each projected, at
    /// most LIMIT of them, as one emission — an empty one when no row fell in it. Rows no later window can hold are
    /// forgotten.
    /// </summary>
    /// <summary>The window's <c>FILTER (WHERE …)</c> for the current row; a failure is reported and keeps the row out.</summary>
    private async ValueTask<bool> EntersWindowAsync(EvalContext context)
    {
        if (windowFilterMetrics is not { } counts)
        {
            return true;
        }

        counts.AddIn();
        try
        {
            var pass = plan.WindowFilter(context);
            if (pass)
            {
                counts.AddOut();
            }

            return pass;
        }
        catch (EvaluationException e)
        {
            counts.AddException();
            await ReportAsync("run Window Filter error: " + e.Message).ConfigureAwait(false);
            return false;
        }
    }

    /// <summary>A count or sliding window that fired: WHERE on its rows, then as any window.</summary>
    private async ValueTask EmitFilteredWindowAsync(List<Row> rows, long start, long end, EvalContext context)
    {
        var passed = new List<Row>(rows.Count);
        foreach (var row in rows)
        {
            context.SetRow(row);
            filterMetrics?.AddIn();
            try
            {
                if (plan.Filter(context))
                {
                    filterMetrics?.AddOut();
                    passed.Add(row);
                }
            }
            catch (EvaluationException e)
            {
                filterMetrics?.AddException();
                await ReportAsync("run Where error: " + e.Message).ConfigureAwait(false);
            }
        }

        windowMetrics!.AddOut();
        if (passed.Count == 0 && rows.Count > 0)
        {
            return; // as eKuiper: a filter after the window that removes every row sends nothing, not []
        }

        await EmitRowsAsync(passed, start, end, context).ConfigureAwait(false);
    }

    private async ValueTask EmitWindowAsync(long end, EvalContext context)
    {
        var window = plan.Window!;
        var start = end - window.Length;
        var rows = timedRows.Where(r => r.At >= start && r.At < end).Select(r => r.Row).ToList();
        var keepFrom = end + window.Interval - window.Length;
        timedRows.RemoveAll(r => r.At < keepFrom);
        lastWindowEnd = Math.Max(lastWindowEnd, end);
        windowMetrics!.AddOut();
        await EmitRowsAsync(rows, start, end, context).ConfigureAwait(false);
    }

    /// <summary>Projects a window's rows (per row, or per group) and emits them.</summary>
    private async ValueTask EmitRowsAsync(List<Row> rows, long start, long end, EvalContext context)
    {
        context.WindowStart = start;
        context.WindowEnd = end;
        try
        {
            var results = plan.Groups ? await ProjectGroupsAsync(rows, context).ConfigureAwait(false) : await ProjectRowsAsync(rows, context).ConfigureAwait(false);
            if (results is not null)
            {
                await EmitAsync(results).ConfigureAwait(false);
            }
        }
        finally
        {
            context.Group = null;
            (context.WindowStart, context.WindowEnd) = (0, 0);
        }
    }

    /// <summary>A window without aggregates: each row projected, in arrival order or ORDER BY; null when it failed (reported).</summary>
    private async ValueTask<List<ValueObject>?> ProjectRowsAsync(List<Row> rows, EvalContext context)
    {
        if (plan.HasOrder)
        {
            try
            {
                rows = plan.Sort(rows, context);
            }
            catch (EvaluationException e)
            {
                await ReportAsync("run Order By error: " + e.Message).ConfigureAwait(false);
                return null;
            }
        }

        // Operators downstream of a window count windows, not rows, as eKuiper does.
        projectMetrics.AddIn();
        var results = new List<ValueObject>(rows.Count);
        foreach (var row in rows)
        {
            if (plan.Limit is { } limit && results.Count >= limit)
            {
                break;
            }

            context.SetRow(row);
            try
            {
                if (!plan.Having(context))
                {
                    continue; // HAVING without aggregates or keys filters the window's rows
                }

                results.Add(plan.Project(context, options.SendNilField, options.SendMetaToSink));
            }
            catch (EvaluationException e)
            {
                // As eKuiper: one failing row fails the window's whole emission.
                projectMetrics.AddException();
                await ReportAsync("run Select error: " + e.Message).ConfigureAwait(false);
                return null;
            }
        }

        projectMetrics.AddOut();
        return results;
    }

    /// <summary>
    /// A window with aggregates or GROUP BY keys: one result row per group (its plain columns read from the group's
    /// first row), filtered by HAVING, ordered by ORDER BY over the groups, cut by LIMIT; null when it failed.
    /// </summary>
    private async ValueTask<List<ValueObject>?> ProjectGroupsAsync(List<Row> rows, EvalContext context)
    {
        List<List<Row>> groups;
        aggregateMetrics?.AddIn();
        try
        {
            groups = plan.Group(rows, context);
            aggregateMetrics?.AddOut();
        }
        catch (EvaluationException e)
        {
            aggregateMetrics?.AddException();
            await ReportAsync("run Group By error: " + e.Message).ConfigureAwait(false);
            return null;
        }

        // HAVING keeps the groups that pass; a window left with none goes no further (it emits nothing, not []).
        if (havingMetrics is { } havingCounts)
        {
            havingCounts.AddIn();
            var passed = new List<List<Row>>(groups.Count);
            foreach (var group in groups)
            {
                context.SetRow(group[0]);
                context.Group = group;
                try
                {
                    if (plan.Having(context))
                    {
                        passed.Add(group);
                    }
                }
                catch (EvaluationException e)
                {
                    havingCounts.AddException();
                    await ReportAsync("run Having error: " + e.Message).ConfigureAwait(false);
                    return null;
                }
            }

            if (passed.Count == 0)
            {
                return null;
            }

            havingCounts.AddOut();
            groups = passed;
        }

        projectMetrics.AddIn();
        var kept = new List<(List<Row> Group, ValueObject Result, Value[] Keys)>();
        foreach (var group in groups)
        {
            context.SetRow(group[0]);
            context.Group = group;
            try
            {
                var result = plan.Project(context, options.SendNilField, options.SendMetaToSink);
                kept.Add((group, result, plan.HasOrder ? plan.SortKeys(context) : []));
            }
            catch (EvaluationException e)
            {
                projectMetrics.AddException();
                await ReportAsync("run Select error: " + e.Message).ConfigureAwait(false);
                return null;
            }
        }

        projectMetrics.AddOut();

        if (plan.HasOrder)
        {
            try
            {
                kept = plan.SortBy(kept, k => k.Keys);
            }
            catch (EvaluationException e)
            {
                await ReportAsync("run Order By error: " + e.Message).ConfigureAwait(false);
                return null;
            }
        }

        var results = kept.Select(k => k.Result);
        return (plan.Limit is { } limit ? results.Take((int)Math.Min(limit, int.MaxValue)) : results).ToList();
    }

    /// <summary>Adds to one of the rule's own counters: atomically only when several tasks process events.</summary>
    private long Count(ref long counter, long n) => atomic ? Interlocked.Add(ref counter, n) : counter += n;

    /// <summary>The operator's latest sampled processing latency, from the event's arrival at the stage, in microseconds.</summary>
    private void Latency(OperatorMetrics metrics, long started)
    {
        if (started != 0)
        {
            Volatile.Write(ref metrics.LatencyUs, (long)time.GetElapsedTime(started).TotalMicroseconds);
        }
    }

    /// <summary>Records a failure outside the event path (a sink's, a source's): counted and kept as the last error.</summary>
    internal void RecordError(string message)
    {
        Interlocked.Increment(ref errors);
        Volatile.Write(ref lastError, message);
        Diagnostics.EngineMetrics.Errors.Add(1, ruleTag);
    }

    private async ValueTask ReportAsync(string message)
    {
        RecordError(message);
        Diagnostics.Log.EventRejected(logger, id, message);
        if (options.SendError)
        {
            var error = new ValueObject(1) { ["error"] = Value.From(message) };
            await EmitAsync([error]).ConfigureAwait(false);
        }
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1859", Justification = "Emissions are handed to sinks as read-only lists.")]
    private async ValueTask EmitAsync(IReadOnlyList<ValueObject> emission)
    {
        foreach (var sink in sinks)
        {
            await sink.SendAsync(emission, stopping.Token).ConfigureAwait(false);
        }

        Count(ref recordsOut, emission.Count);
        Diagnostics.EngineMetrics.RecordsOut.Add(emission.Count, ruleTag);
    }
}
