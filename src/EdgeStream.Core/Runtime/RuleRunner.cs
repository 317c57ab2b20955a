using System.Threading.Channels;
using EdgeStream.Abstractions;
using EdgeStream.Compilation;
using EdgeStream.Runtime.Memory;

namespace EdgeStream.Runtime;

/// <summary>A result destination of a running rule.</summary>
internal interface IRuleSink
{
    ValueTask SendAsync(IReadOnlyList<ValueObject> emission, CancellationToken cancellationToken);

    /// <summary>
    /// Takes several emissions at once, in order, as if each were given to <see cref="SendAsync"/>: a rule that
    /// processed a batch of events hands their results over in one call. The list is the caller's again when this
    /// completes.
    /// </summary>
    async ValueTask SendManyAsync(IReadOnlyList<IReadOnlyList<ValueObject>> emissions, CancellationToken cancellationToken)
    {
        for (var i = 0; i < emissions.Count; i++)
        {
            await SendAsync(emissions[i], cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The sink's counters (<c>sink_{type}_{index}_0_…</c>), if it keeps them.</summary>
    OperatorMetrics? Metrics => null;

    /// <summary>Called when the rule starts, before the first <see cref="SendAsync"/>.</summary>
    void Start()
    {
    }

    /// <summary>
    /// Completes when the sink has tried to open once after <see cref="Start"/> (opened, or unreachable for now and
    /// retrying); faults with a <see cref="SinkException"/> when it refuses to open for good, which fails the start.
    /// </summary>
    Task Opened => Task.CompletedTask;

    /// <summary>Called when the rule stops, after the last <see cref="SendAsync"/>; finishes what the sink holds.</summary>
    Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Completes once every result handed over before this call has reached the sink (or its dead letters): what a
    /// checkpoint waits for, so that the state it saves is never ahead of what the sinks have. Sinks that write while
    /// they are handed results are always drained.
    /// </summary>
    Task DrainedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
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

    public ValueTask SendManyAsync(IReadOnlyList<IReadOnlyList<ValueObject>> emissions, CancellationToken cancellationToken)
    {
        metrics.AddOut(emissions.Count);
        return ValueTask.CompletedTask;
    }
}

/// <summary>Counters of one logical operator, with eKuiper's metric names.</summary>
/// <param name="prefix">The metric names' prefix, e.g. <c>op_2_filter_0_</c>.</param>
/// <param name="hasLatency">Whether it reports <c>process_latency_us</c> (operators do; sources and sinks do not).</param>
/// <param name="dropName">The name of a count of rows the operator refused (the watermark's <c>late_total</c>), or null.</param>
internal sealed class OperatorMetrics(string prefix, bool hasLatency = false, string? dropName = null)
{
    public long In;
    public long Out;
    public long Exceptions;
    public long LatencyUs;
    public long Dropped;

    public string Prefix { get; } = prefix;

    /// <summary>
    /// Whether several tasks count at once (rule or sink concurrency above 1): then counts are atomic. A single
    /// writer counts with plain adds, which readers on other threads see whole (64-bit writes do not tear on the
    /// platforms .NET 10 runs on), at most a moment late.
    /// </summary>
    public bool Shared { get; set; }

    /// <summary>More counters of the operator's own (a sink runner's batches, retries and buffer length), added to the status.</summary>
    public Action<IDictionary<string, long>>? Extra { get; set; }

    private string? lastException;
    private long lastExceptionAt;

    public void Reset()
    {
        (In, Out, Exceptions, LatencyUs, Dropped) = (0, 0, 0, 0, 0);
        Volatile.Write(ref lastException, null);
    }

    /// <summary>Keeps <paramref name="message"/> as the operator's last exception (eKuiper's <c>last_exception</c>), timed by <paramref name="time"/>.</summary>
    public void SetLastException(string message, TimeProvider time)
    {
        Interlocked.Exchange(ref lastExceptionAt, time.GetUtcNow().ToUnixTimeMilliseconds());
        Volatile.Write(ref lastException, message);
    }

    /// <summary>Adds the last exception's message, if any, under <c>{prefix}last_exception</c>.</summary>
    public void AddLastExceptionTo(IDictionary<string, string> texts)
    {
        if (Volatile.Read(ref lastException) is { } message)
        {
            texts[Prefix + "last_exception"] = message;
        }
    }

    public void AddIn(long n = 1) => Add(ref In, n);

    public void AddOut(long n = 1) => Add(ref Out, n);

    public void AddException() => Add(ref Exceptions, 1);

    public void AddDropped() => Add(ref Dropped, 1);

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
        if (Volatile.Read(ref lastException) is not null)
        {
            metrics[Prefix + "last_exception_time"] = Interlocked.Read(ref lastExceptionAt);
        }
        if (hasLatency)
        {
            metrics[Prefix + "process_latency_us"] = Interlocked.Read(ref LatencyUs);
        }

        if (dropName is not null)
        {
            metrics[Prefix + dropName] = Interlocked.Read(ref Dropped);
        }

        Extra?.Invoke(metrics);
    }
}

/// <summary>
/// One running instance of a rule: a bounded channel from its memory topic (and its source, if any), and
/// <c>concurrency</c> tasks that each decode, filter and project events and hand results to the sinks. Decode,
/// filter and project are fused into one stage, but counted per logical operator with eKuiper's metric names. A bad
/// event is counted (and sent as an error row with <c>sendError</c>) and the loop goes on; stopping drains what the
/// channel already holds. A failure of the whole loop (a bug, a broken logger) stops the rule and is reported to
/// <c>onFailed</c>, which applies the restart strategy.
/// </summary>
internal sealed class RuleRunner : IRoutedSubscriber, IDisposable
{
    // Routing (a stateless rule on a SHARED stream whose WHERE starts with column = constant): the bus delivers only
    // the events that can pass, and these count the others, so the rule's counters still show every event.
    private readonly Route? route;
    private readonly Lock routeGate = new();
    private RouteCounts? routeEvents;
    private RouteCounts? routeMatching;
    private long routeEventsBase;
    private long routeMatchingBase;
    private long spared;

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
    private readonly OperatorMetrics[] joinedMetrics;
    private readonly JoinedInput[] joined;
    private readonly OperatorMetrics? joinMetrics;
    private readonly OperatorMetrics? alignerMetrics;
    private readonly TableState?[] tables;

    // GROUP BY without a window: each group's running aggregates, for as long as the rule runs.
    private readonly Dictionary<object, PaneGroup>? running;
    private readonly byte[]? restore;
    private readonly OperatorMetrics? filterMetrics;
    private readonly OperatorMetrics projectMetrics;
    private readonly OperatorMetrics? windowMetrics;
    private readonly OperatorMetrics? havingMetrics;
    private readonly OperatorMetrics? orderMetrics;
    private readonly OperatorMetrics? aggregateMetrics;
    private readonly OperatorMetrics? windowFilterMetrics;
    private readonly OperatorMetrics? watermarkMetrics;

    // The window's state and, under event time, the watermark's reorder buffer: both belong to the one processing task.
    private WindowOperator? window;
    private Watermark? watermark;
    private readonly List<WindowFiring> fired = [];
    private readonly long idleTimeout;
    private long idleBase;

    // One timer, re-armed to the window's next deadline (or the watermark's idle check); it only queues a tick.
    private readonly Lock timerGate = new();
    private ITimer? windowTimer;
    private long armedAt = long.MaxValue;
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
        IReadOnlyList<string> warnings, Microsoft.Extensions.Logging.ILogger logger, IRuleInput? source = null, Action<RuleRunner>? onFailed = null,
        byte[]? restore = null)
    {
        this.restore = restore;
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
        route = source is SharedInput ? plan.Route() : null;
        var stream = plan.Source;
        var memoryTopic = source is null && string.Equals(stream.Option("TYPE"), "memory", StringComparison.OrdinalIgnoreCase) ? stream.Option("DATASOURCE") : null;
        topics = memoryTopic is { Length: > 0 } ? [StreamTopic(stream.Name), memoryTopic] : [StreamTopic(stream.Name)];

        // Each joined stream is read through its own subscription, which tags its messages with the source's index.
        joined = plan.JoinedStreams.Select((s, i) => new JoinedInput(this, i + 1, JoinedTopics(s))).ToArray();
        // Blocking (the default) bounds the buffer by rows, so batches weigh what they carry; drop-oldest bounds it
        // by messages, each dropped message counted by the events it carried.
        if (options.DropOldestWhenFull)
        {
            input = Channel.CreateBounded<MemoryMessage>(
                new BoundedChannelOptions(Math.Max(1, options.BufferLength)) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = options.Concurrency <= 1 },
                message => Interlocked.Add(ref dropped, message.RowCount));
        }
        else
        {
            rowGate = new RowGate(Math.Max(1, options.BufferLength));
            input = Channel.CreateUnbounded<MemoryMessage>(new UnboundedChannelOptions { SingleReader = options.Concurrency <= 1 });
        }

        // eKuiper numbers operators from 2 (after the source); the fused stage keeps its logical operators' names.
        atomic = options.Concurrency > 1;
        sourceMetrics = new OperatorMetrics($"source_{stream.Name}_0_") { Shared = atomic };
        joinedMetrics = plan.JoinedStreams.Select(s => new OperatorMetrics($"source_{s.Name}_0_")).ToArray();
        var prefixes = plan.OperatorPrefixes();
        OperatorMetrics? Metrics(string key, bool shared = false) =>
            prefixes.TryGetValue(key, out var prefix) ? new OperatorMetrics(prefix, hasLatency: true) { Shared = shared } : null;
        filterMetrics = Metrics("filter", atomic);
        watermarkMetrics = prefixes.TryGetValue("watermark", out var watermarkPrefix) ? new OperatorMetrics(watermarkPrefix, hasLatency: true, dropName: "late_total") : null;
        idleTimeout = options.WatermarkIdleTimeout is { } idle ? Math.Max(1, (long)idle.TotalMilliseconds) : 0;
        windowFilterMetrics = Metrics("windowFilter");
        windowMetrics = Metrics("window");
        aggregateMetrics = Metrics("aggregate");
        havingMetrics = Metrics("having");
        joinMetrics = Metrics("join");
        alignerMetrics = Metrics("joinAligner");
        running = plan.Running ? [] : null;
        tables = Enumerable.Range(0, plan.SourceCount)
            .Select(i => plan.IsTable(i) ? new TableState(plan.TableRetention(i).Key, plan.TableRetention(i).RetainSize) : null)
            .ToArray();
        orderMetrics = Metrics("order");
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

    /// <summary>How long a start waits for its sinks' first open attempt; a sink still trying after that opens in the background.</summary>
    private static readonly TimeSpan FirstOpenWait = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Starts the rule: restores its snapshot if given, starts its sinks and waits (at most 10 s) for their first
    /// open attempt, then subscribes. A sink that refuses to open for good fails the start: the rule is then stopped
    /// by error with the sink's message as its last error, and nothing was subscribed.
    /// </summary>
    /// <exception cref="SinkException">A sink refused to open (bad credentials, a missing table).</exception>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // The window and the watermark first: a snapshot to restore goes into them before anything is subscribed.
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (plan.Window is { } shape)
        {
            window = WindowOperator.Create(shape, plan.SlidingTriggers, now, plan.EventTime, plan.Aggregating ? (plan.KeyOf, plan.AggregateCalls) : null, plan.StateWindow);
            window.Limits = plan.Limits;
        }

        if (plan.EventTime)
        {
            watermark = new Watermark((long)options.LateTolerance.TotalMilliseconds, tables.Select(t => t is null).ToArray(), idleTimeout, now);
            idleBase = now;
        }

        // Analytic state lives with the compiled calls: a rule that starts again starts afresh, or from its snapshot.
        foreach (var call in plan.Compiler.AnalyticCalls)
        {
            call.Reset();
        }

        if (restore is not null)
        {
            Restore(restore);
        }

        plan.Compiler.Environment.RuleStart = time.GetUtcNow().ToUnixTimeMilliseconds(); // rule_start()
        if (restore is null)
        {
            LoadFileTables(); // queued first, so no stream row is processed before its tables are loaded
        }

        foreach (var sink in sinks)
        {
            sink.Start();
        }

        await OpenSinksAsync(cancellationToken).ConfigureAwait(false);
        foreach (var topic in topics)
        {
            bus.Add(topic, this);
        }

        foreach (var input in joined)
        {
            foreach (var topic in input.Topics)
            {
                bus.Add(topic, input);
            }
        }

        if ((window is not null && !plan.EventTime) || (plan.EventTime && idleTimeout > 0))
        {
            // The timer only enqueues a tick: windows are cut by the processing task, in order with the events.
            windowTimer = time.CreateTimer(_ => OnTimer(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            Arm();
        }

        // State (a window, running totals, tables, analytic functions) belongs to one task, so such rules run one
        // whatever their concurrency.
        var count = plan.Stateful ? 1 : Math.Max(1, options.Concurrency);
        var workers = Enumerable.Range(0, count).Select(_ => EngineTasks.Run(RunAsync)).ToArray();
        loop = workers.Length == 1 ? workers[0] : Task.WhenAll(workers);
        source?.Attach(this);

        Diagnostics.Log.RuleStarted(logger, id);
    }

    /// <summary>Waits for the sinks' first open attempt; stops them all again when one refuses or the caller gives up.</summary>
    private async Task OpenSinksAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.WhenAll(sinks.Select(s => s.Opened)).WaitAsync(FirstOpenWait, time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Still connecting: an unreachable destination is not a misconfigured one. The rule runs; rows wait.
        }
        catch (Exception e)
        {
            if (e is SinkException)
            {
                failed = true;
                RecordError(e.Message);
                Diagnostics.Log.RuleFailed(logger, id, e);
            }

            foreach (var sink in sinks)
            {
                await sink.StopAsync(new CancellationToken(canceled: true)).ConfigureAwait(false); // nothing was taken
            }

            throw;
        }
    }

    /// <summary>
    /// Sets the timer to the next deadline: the window's next boundary under processing time, the watermark's idle
    /// check under event time. Rows fire due boundaries themselves (by their time), so the timer only matters when
    /// no row comes.
    /// </summary>
    private void Arm()
    {
        if (windowTimer is not { } timer)
        {
            return;
        }

        var deadline = plan.EventTime
            ? Math.Min(idleBase + idleTimeout, watermark!.NextIdleAt(time.GetUtcNow().ToUnixTimeMilliseconds()))
            : window!.NextDeadline;
        lock (timerGate)
        {
            if (deadline == armedAt || timerStopped)
            {
                return;
            }

            armedAt = deadline;
            var due = deadline == long.MaxValue
                ? Timeout.InfiniteTimeSpan
                : TimeSpan.FromMilliseconds(Math.Clamp(deadline - time.GetUtcNow().ToUnixTimeMilliseconds(), 0, MaxTimerMs));

            // A fresh timer rather than Change: a timer's Change can race with the same timer firing on the clock's
            // thread (the test clock, FakeTimeProvider, faults then). A timer that fires before a far deadline queues
            // a tick that moves nothing and re-arms.
            timer.Dispose();
            windowTimer = time.CreateTimer(_ => OnTimer(), null, due, Timeout.InfiniteTimeSpan);

            // The due time is relative: if the clock moved on while it was set, the deadline may already have
            // passed with the timer set later still. Queue the tick now then (a second tick for it is harmless).
            if (deadline != long.MaxValue && time.GetUtcNow().ToUnixTimeMilliseconds() >= deadline)
            {
                Interlocked.Increment(ref ticksQueued);
                input.Writer.TryWrite(new MemoryMessage(null, default, null) { TickAt = deadline });
            }
        }
    }

    /// <summary>Stops the window timer for good (the rule stops or failed): no tick is armed after this.</summary>
    private void StopTimer()
    {
        lock (timerGate)
        {
            timerStopped = true;
            windowTimer?.Dispose();
        }
    }

    private bool timerStopped;

    /// <summary>How many ticks were ever queued (for <see cref="SettleAsync"/>: a tick queued meanwhile needs another round).</summary>
    private long ticksQueued;

    /// <summary>The longest a timer is set for (a day): longer due times are refused by timers, and far deadlines re-arm.</summary>
    private const long MaxTimerMs = 86_400_000;

    /// <summary>The timer fired: queue a tick for its deadline (ticks skip the row gate; they carry no rows).</summary>
    private void OnTimer()
    {
        lock (timerGate)
        {
            var at = armedAt;
            armedAt = long.MaxValue; // the processing task re-arms once it has handled the tick
            if (at != long.MaxValue)
            {
                Interlocked.Increment(ref ticksQueued);
                input.Writer.TryWrite(new MemoryMessage(null, default, null) { TickAt = at });
            }
        }
    }

    /// <summary>
    /// Stops taking events, finishes those already taken, and returns when the loop has ended. If
    /// <paramref name="cancellationToken"/> fires first (a sink that no longer takes results), the rest is abandoned.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // Open windows are not flushed on stop, as in eKuiper.
        StopTimer();

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

    /// <summary>
    /// Joined tables of <c>TYPE="file"</c> are read once as the rule starts: a file holding a JSON array is one load
    /// of many rows, otherwise each line is one row. A table in FROM reads its file through its source instead.
    /// </summary>
    private void LoadFileTables()
    {
        var i = 0;
        foreach (var table in plan.JoinedStreams)
        {
            i++;
            if (!table.IsTable || FileSource(table) is not { } path)
            {
                continue;
            }

            var text = File.ReadAllBytes(path);
            var payloads = text.AsSpan().TrimStart(" \t\r\n"u8) is [(byte)'[', ..]
                ? [text]
                : System.Text.Encoding.UTF8.GetString(text).Split('\n').Where(l => l.Trim().Length > 0).Select(l => System.Text.Encoding.UTF8.GetBytes(l)).ToArray();
            foreach (var payload in payloads)
            {
                // Written past the row gate (no credits taken), so the loop must not give credits back for it.
                input.Writer.TryWrite(new MemoryMessage(null, payload, null) { Source = i, ArrivedAt = time.GetUtcNow().ToUnixTimeMilliseconds(), Ungated = true });
            }
        }
    }

    /// <summary>The topics a joined stream is read from: events pushed to it by name, and its memory topic.</summary>
    private static string[] JoinedTopics(Planning.StreamDefinition stream) =>
        string.Equals(stream.Option("TYPE"), "memory", StringComparison.OrdinalIgnoreCase) && stream.Option("DATASOURCE") is { Length: > 0 } topic
            ? [StreamTopic(stream.Name), topic]
            : [StreamTopic(stream.Name)];

    /// <summary>The subscription of a joined stream: its messages enter the rule's one buffer, tagged with the source.</summary>
    private sealed class JoinedInput(RuleRunner runner, int source, string[] topics) : IMemorySubscriber
    {
        public string[] Topics { get; } = topics;

        public ValueTask DeliverAsync(MemoryMessage message, CancellationToken cancellationToken) =>
            runner.DeliverAsync(message with { Source = source }, cancellationToken);
    }

    /// <summary>The bus topic of events pushed to a stream by name; the control character keeps it apart from user topics.</summary>
    internal static string StreamTopic(string stream) => "\u0001stream/" + stream.ToUpperInvariant();

    private void Unsubscribe()
    {
        foreach (var topic in topics)
        {
            bus.Remove(topic, this);
        }

        foreach (var input in joined)
        {
            foreach (var topic in input.Topics)
            {
                bus.Remove(topic, input);
            }
        }
    }

    public bool Failed => failed;

    public Route? Route => route;

    public void RoutedBy(RouteCounts events, RouteCounts matching)
    {
        lock (routeGate)
        {
            (routeEvents, routeMatching) = (events, matching);
            (routeEventsBase, routeMatchingBase) = (events.Value, matching.Value);
        }
    }

    public void Unrouted()
    {
        lock (routeGate)
        {
            spared = Spared();
            (routeEvents, routeMatching) = (null, null);
        }
    }

    /// <summary>Events of the shared stream the bus did not deliver because their column held another value.</summary>
    private long Spared()
    {
        lock (routeGate)
        {
            return routeEvents is { } events && routeMatching is { } matching
                ? spared + Math.Max(0, (events.Value - routeEventsBase) - (matching.Value - routeMatchingBase))
                : spared;
        }
    }

    public RuleStatus Status(bool running)
    {
        var metrics = new SortedDictionary<string, long>(StringComparer.Ordinal);
        sourceMetrics.AddTo(metrics);
        metrics[sourceMetrics.Prefix + "dropped_total"] = Interlocked.Read(ref dropped);
        source?.AddMetrics(sourceMetrics.Prefix, metrics);
        foreach (var counts in joinedMetrics)
        {
            counts.AddTo(metrics);
        }

        joinMetrics?.AddTo(metrics);
        alignerMetrics?.AddTo(metrics);
        filterMetrics?.AddTo(metrics);
        windowFilterMetrics?.AddTo(metrics);
        windowMetrics?.AddTo(metrics);
        aggregateMetrics?.AddTo(metrics);
        havingMetrics?.AddTo(metrics);
        orderMetrics?.AddTo(metrics);
        watermarkMetrics?.AddTo(metrics);
        projectMetrics.AddTo(metrics);
        var routedPast = route is null ? 0 : Spared();
        if (routedPast > 0)
        {
            // Taken and filtered out, as far as the counters go: the source passed them on and WHERE refused them.
            metrics[sourceMetrics.Prefix + "records_in_total"] += routedPast;
            metrics[sourceMetrics.Prefix + "records_out_total"] += routedPast;
            if (filterMetrics is { } filter)
            {
                metrics[filter.Prefix + "records_in_total"] += routedPast;
            }
        }

        var texts = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var sink in sinks)
        {
            sink.Metrics?.AddTo(metrics);
            sink.Metrics?.AddLastExceptionTo(texts);
        }

        return new(
            id,
            failed ? RuleState.StoppedByError : running ? RuleState.Running : RuleState.Stopped,
            Interlocked.Read(ref recordsIn) + routedPast,
            Interlocked.Read(ref recordsOut),
            Interlocked.Read(ref errors),
            Volatile.Read(ref lastError),
            warnings,
            metrics,
            texts);
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
        if (restoredHits is { } hits)
        {
            (context.LastHitTime, context.LastHitCount, context.LastAggHitTime, context.LastAggHitCount) = hits;
        }

        var decoded = new List<DecodeResult>();
        var pending = new List<IReadOnlyList<ValueObject>>();
        MemoryMessage? current = null;
        try
        {
            await foreach (var message in input.Reader.ReadAllAsync(stopping.Token).ConfigureAwait(false))
            {
                current = message;
                if (message.Flush)
                {
                    await FlushAsync(context).ConfigureAwait(false);
                    current = null;
                    continue;
                }

                if (message.SnapshotTo is { } snapshot)
                {
                    TakeSnapshot(context, snapshot);
                    current = null;
                    continue;
                }

                if (message.Barrier is { } barrier)
                {
                    barrier.TrySetResult();
                    current = null;
                    continue;
                }

                if (message.TickAt != 0)
                {
                    await OnTickAsync(message.TickAt, context).ConfigureAwait(false);
                    current = null;
                    continue;
                }

                await ProcessAsync(message, context, decoded, pending).ConfigureAwait(false);
                current = null;
                if (message.Position is { } position)
                {
                    lastPosition = position;
                }

                if (!message.Ungated)
                {
                    rowGate?.Release(message.RowCount);
                }
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
            if (current is { TickAt: 0, Flush: false, SnapshotTo: null, Barrier: null } interrupted)
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
                StopTimer();
                await DeadLetterWaitingAsync(e.Message).ConfigureAwait(false);

                // Rows held by an open window were taken and never emitted: they are kept where they can be replayed.
                foreach (var held in (window?.Held ?? []).Concat(watermark?.Held ?? []))
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
            message.Barrier?.TrySetResult();
            if (message is { TickAt: 0, Flush: false, SnapshotTo: null, Barrier: null })
            {
                await DeadLetterMessageAsync(message, $"not processed: the rule failed ({reason})").ConfigureAwait(false);
            }
        }
    }

    /// <summary>Dead-letters every event of a message (decoded if it can be, else as its payload).</summary>
    private async Task DeadLetterMessageAsync(MemoryMessage message, string reason)
    {
        var decoded = new List<DecodeResult>();
        plan.Decoders[message.Source].DecodeAll(message, time.GetUtcNow().ToUnixTimeMilliseconds(), decoded);
        foreach (var result in decoded)
        {
            var payload = result.Row is { } row ? Value.From(ToObject(row)) : result.Payload;
            await DeadLetterAsync(reason, payload).ConfigureAwait(false);
        }
    }

    /// <summary>An event over one of the engine's limits: reported and dead-lettered with its fields; the rule goes on.</summary>
    private async ValueTask RefuseAsync(Row row, string reason)
    {
        await ReportAsync(reason).ConfigureAwait(false);
        await DeadLetterAsync(reason, Value.From(ToObject(row))).ConfigureAwait(false);
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
    private async ValueTask ProcessAsync(MemoryMessage message, EvalContext context, List<DecodeResult> decoded, List<IReadOnlyList<ValueObject>> pending)
    {
        // Latency is sampled (every 16th message, and the first): reading the clock costs more than a simple filter.
        var started = (Count(ref messages, 1) & 15) == 1 ? time.GetTimestamp() : 0;
        if (window is { } due && watermark is null && message.ArrivedAt != 0)
        {
            // Processing time: what is due by this message's arrival fires first, even when it does not decode.
            fired.Clear();
            due.Advance(message.ArrivedAt, fired);
            await EmitFiredAsync(context).ConfigureAwait(false);
        }

        decoded.Clear();
        plan.Decoders[message.Source].DecodeAll(message, time.GetUtcNow().ToUnixTimeMilliseconds(), decoded);
        var sourceMetrics = message.Source == 0 ? this.sourceMetrics : joinedMetrics[message.Source - 1];
        if (tables[message.Source] is { } table)
        {
            await LoadTableAsync(table, message.Source, sourceMetrics, decoded).ConfigureAwait(false);
            return;
        }

        if (!plan.Stateful)
        {
            await ProcessStatelessAsync(message.Source, sourceMetrics, context, decoded, pending, started).ConfigureAwait(false);
            return;
        }

        foreach (var result in decoded)
        {
            Count(ref recordsIn, 1);
            sourceMetrics.AddIn();
            Diagnostics.EngineMetrics.RecordsIn.Add(1, ruleTag);
            if (result.Row is { } row)
            {
                sourceMetrics.AddOut();
                row.Source = message.Source;
                await ProcessRowAsync(row, context, started).ConfigureAwait(false);
            }
            else
            {
                await RejectAsync(result, sourceMetrics).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// A stateless rule (no window, aggregate, join, analytic function or event time) over the events of one message:
    /// WHERE and the projection run for each row in a plain loop, and the results go to the sinks together at the end
    /// (one hand-over per sink for the whole batch, not one per row). A failing row is reported in its place: the
    /// results before it are handed over first, so the order with <c>sendError</c> rows is kept.
    /// </summary>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ProcessStatelessAsync(
        int source, OperatorMetrics sourceMetrics, EvalContext context, List<DecodeResult> decoded, List<IReadOnlyList<ValueObject>> pending, long started)
    {
        Count(ref recordsIn, decoded.Count);
        Diagnostics.EngineMetrics.RecordsIn.Add(decoded.Count, ruleTag);
        var filter = filterMetrics;
        for (var i = 0; i < decoded.Count; i++)
        {
            var result = decoded[i];
            sourceMetrics.AddIn();
            if (result.Row is not { } row)
            {
                await EmitPendingAsync(pending).ConfigureAwait(false);
                await RejectAsync(result, sourceMetrics).ConfigureAwait(false);
                continue;
            }

            sourceMetrics.AddOut();
            row.Source = source;
            context.SetRow(row);
            if (filter is not null)
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
                    await EmitPendingAsync(pending).ConfigureAwait(false);
                    await ReportAsync("run Where error: " + e.Message).ConfigureAwait(false);
                    continue;
                }

                if (!pass)
                {
                    continue;
                }

                filter.AddOut();
            }

            projectMetrics.AddIn();
            try
            {
                if (plan.Unnests)
                {
                    // unnest(…) turns one row into several, each sent on its own, as eKuiper does.
                    foreach (var each in plan.ProjectAll(context, options.SendNilField, options.SendMetaToSink))
                    {
                        pending.Add([each]);
                    }
                }
                else
                {
                    pending.Add([plan.Project(context, options.SendNilField, options.SendMetaToSink)]);
                }
            }
            catch (EvaluationException e)
            {
                projectMetrics.AddException();
                await EmitPendingAsync(pending).ConfigureAwait(false);
                await ReportAsync("run Select error: " + e.Message).ConfigureAwait(false);
                continue;
            }

            // last_hit_time()/last_hit_count() read the hits before this row.
            context.LastHitTime = row.Timestamp;
            context.LastHitCount++;
            projectMetrics.AddOut();
        }

        if (filter is not null)
        {
            Latency(filter, started);
        }

        Latency(projectMetrics, started);
        await EmitPendingAsync(pending).ConfigureAwait(false);
    }

    /// <summary>An event that did not decode: counted as eKuiper counts it, reported and dead-lettered.</summary>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask RejectAsync(DecodeResult result, OperatorMetrics sourceMetrics)
    {
        // A payload that does not decode is the source's exception; a decoded event that fails schema validation
        // has left the source and fails in its preprocessor.
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

    /// <summary>Hands the results gathered so far to every sink in one call each, then forgets them.</summary>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask EmitPendingAsync(List<IReadOnlyList<ValueObject>> pending)
    {
        if (pending.Count == 0)
        {
            return;
        }

        for (var i = 0; i < sinks.Count; i++)
        {
            await sinks[i].SendManyAsync(pending, stopping.Token).ConfigureAwait(false);
        }

        var rows = 0;
        foreach (var emission in pending)
        {
            rows += emission.Count;
        }

        Count(ref recordsOut, rows);
        Diagnostics.EngineMetrics.RecordsOut.Add(rows, ruleTag);
        pending.Clear();
    }

    /// <summary>Rows for a table: kept for joins. As eKuiper, a table counts each message (a file load, a batch) as one record.</summary>
    private async ValueTask LoadTableAsync(TableState table, int source, OperatorMetrics counts, List<DecodeResult> decoded)
    {
        counts.AddIn();
        var loaded = false;
        foreach (var result in decoded)
        {
            if (result.Row is { } row)
            {
                row.Source = source;
                alignerMetrics?.AddIn(); // eKuiper's aligner counts table rows one by one
                table.Add(row);
                loaded = true;
            }
            else
            {
                await ReportAsync(result.Error!).ConfigureAwait(false);
                await DeadLetterAsync(result.Error!, result.Payload).ConfigureAwait(false);
            }
        }

        if (loaded)
        {
            counts.AddOut();
        }
        else
        {
            counts.AddException();
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
        if (plan.PrivateRows)
        {
            row = row.Copy(); // rows of a shared stream are shared with other rules: change only a copy
        }

        if (watermark is { } gate)
        {
            await OfferAsync(gate, row, context, started).ConfigureAwait(false);
            return;
        }

        await ProcessTimedRowAsync(row, row.Timestamp, context, started).ConfigureAwait(false);
    }

    /// <summary>
    /// Event time: the row waits in the watermark's buffer (or is refused as late: counted and dead-lettered); rows the
    /// watermark has passed go on in event-time order, and the window fires what the watermark closed.
    /// </summary>
    private async ValueTask OfferAsync(Watermark gate, Row row, EvalContext context, long started)
    {
        var metrics = watermarkMetrics!;
        metrics.AddIn();
        long at;
        try
        {
            at = plan.EventTimeOf(row);
        }
        catch (EvaluationException e)
        {
            metrics.AddException();
            await ReportAsync("run Watermark error: " + e.Message).ConfigureAwait(false);
            await DeadLetterAsync(e.Message, Value.From(ToObject(row))).ConfigureAwait(false);
            return;
        }

        // Quietness is measured by arrival (the time the row was published), not by when this task got to it.
        var arrival = row.Timestamp;
        row.Timestamp = at;
        if (!gate.Offer(row, at, arrival))
        {
            metrics.AddDropped();
            var reason = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"late event: event time {at} is before the watermark {gate.Current}");
            Diagnostics.Log.EventRejected(logger, id, reason);
            await DeadLetterAsync(reason, Value.From(ToObject(row))).ConfigureAwait(false);
            return;
        }

        if (window is { } open)
        {
            context.SetRow(row);
            try
            {
                // Only a row that will enter the window (its FILTER) may trigger it; the FILTER is counted on release.
                if (plan.WindowFilter(context))
                {
                    open.OnArrival(row, at, context);
                }
            }
            catch (EvaluationException e)
            {
                await ReportAsync("run Window Over error: " + e.Message).ConfigureAwait(false);
            }
        }

        idleBase = Math.Max(idleBase, arrival);
        await ReleaseAsync(gate, context, started).ConfigureAwait(false);
        Arm();
    }

    /// <summary>Passes on every row the watermark has reached, then lets the window fire up to the watermark.</summary>
    private async ValueTask ReleaseAsync(Watermark gate, EvalContext context, long started)
    {
        while (gate.TryRelease(out var released, out var at))
        {
            watermarkMetrics!.AddOut();
            await ProcessTimedRowAsync(released, at, context, started).ConfigureAwait(false);
        }

        if (window is { } open)
        {
            fired.Clear();
            open.Advance(gate.Current, fired);
            await EmitFiredAsync(context).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The rule's state once the events taken before this call are processed: its window (rows, aggregates, boundaries),
    /// the watermark's buffer, its tables, running totals and hit counters. For checkpoints (issue 9) and tests.
    /// </summary>
    public Task<byte[]> SnapshotAsync()
    {
        var done = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!input.Writer.TryWrite(new MemoryMessage(null, default, null) { SnapshotTo = done }))
        {
            done.SetException(new InvalidOperationException($"rule `{id}` is not running"));
        }

        return done.Task;
    }

    private void TakeSnapshot(EvalContext context, TaskCompletionSource<byte[]> done)
    {
        try
        {
            using var writer = new RuleStateWriter();
            writer.Write(Sql.Ast.SqlPrinter.Print(plan.Statement));
            writer.Write(window is not null);
            window?.Save(writer);
            writer.Write(watermark is not null);
            watermark?.Save(writer);
            writer.Write(tables.Length);
            foreach (var table in tables)
            {
                writer.Write(table is not null);
                table?.Save(writer);
            }

            writer.Write(running?.Count ?? 0);
            foreach (var (key, group) in running ?? [])
            {
                writer.WriteKey(key);
                writer.Write(group.First);
                foreach (var accumulator in group.Accumulators)
                {
                    accumulator.Save(writer);
                }
            }

            writer.Write(plan.Compiler.AnalyticCalls.Count);
            foreach (var call in plan.Compiler.AnalyticCalls)
            {
                call.Save(writer);
            }

            writer.Write(context.LastHitTime);
            writer.Write(context.LastHitCount);
            writer.Write(context.LastAggHitTime);
            writer.Write(context.LastAggHitCount);
            writer.Write(lastPosition);
            Volatile.Write(ref snapshotPosition, lastPosition);
            done.TrySetResult(writer.ToArray());
        }
#pragma warning disable CA1031 // A snapshot that fails is the caller's error, never the rule's.
        catch (Exception e)
#pragma warning restore CA1031
        {
            done.TrySetException(e);
        }
    }

    /// <summary>
    /// Puts a snapshot's state in place before the rule starts processing (the same statement's: its window, sources and
    /// aggregates must match, or this throws and the rule does not start).
    /// </summary>
    /// <exception cref="FormatException">The snapshot is not one of this rule's.</exception>
    private void Restore(byte[] state)
    {
        try
        {
            RestoreFrom(state);
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or ArgumentException or InvalidCastException or OverflowException or InvalidOperationException)
        {
            throw new FormatException($"the snapshot cannot be read: {e.Message}", e);
        }
    }

    private void RestoreFrom(byte[] state)
    {
        using var reader = new RuleStateReader(state, plan.Decoders.Select(d => d.Schema).ToArray());
        var statement = Sql.Ast.SqlPrinter.Print(plan.Statement);
        if (reader.ReadString() != statement)
        {
            throw new FormatException("the snapshot is of another statement than this rule's");
        }

        if (reader.ReadBool() != (window is not null))
        {
            throw new FormatException("the snapshot's rule has another window");
        }

        window?.Load(reader);
        if (reader.ReadBool() != (watermark is not null))
        {
            throw new FormatException("the snapshot's rule runs on another time");
        }

        watermark?.Load(reader);
        if (reader.ReadInt() != tables.Length)
        {
            throw new FormatException("the snapshot's rule reads other sources");
        }

        foreach (var table in tables)
        {
            if (reader.ReadBool() != (table is not null))
            {
                throw new FormatException("the snapshot's rule reads other tables");
            }

            table?.Load(reader);
        }

        for (var count = reader.ReadInt(); count > 0; count--)
        {
            var key = reader.ReadKey();
            var group = new PaneGroup(reader.ReadRow(), plan.AggregateCalls.Select(a => Accumulator.Create(a.Name)!).ToArray());
            foreach (var accumulator in group.Accumulators)
            {
                accumulator.Load(reader);
            }

            running![key] = group;
        }

        if (reader.ReadInt() != plan.Compiler.AnalyticCalls.Count)
        {
            throw new FormatException("the snapshot's rule calls other analytic functions");
        }

        foreach (var call in plan.Compiler.AnalyticCalls)
        {
            call.Load(reader);
        }

        restoredHits = (reader.ReadLong(), reader.ReadLong(), reader.ReadLong(), reader.ReadLong());
        RestoredPosition = lastPosition = reader.ReadString();
    }

    private string? lastPosition; // of the last event processed that came with one
    private string? snapshotPosition;

    /// <summary>The source position the rule resumed from (its checkpoint's); null when it started afresh or its source gives none.</summary>
    public string? RestoredPosition { get; private set; }

    /// <summary>The source position the last snapshot covers (every event up to it is in the snapshot's state); null for none.</summary>
    public string? SnapshotPosition => Volatile.Read(ref snapshotPosition);

    /// <summary>Whether the rule takes checkpoints: its source may then hold acknowledgements until <see cref="CommitSourceAsync"/>.</summary>
    public bool Checkpointed { get; init; }

    /// <summary>Asks for a checkpoint now (a source holds many acknowledgements); null when the rule takes none.</summary>
    public Action<RuleRunner>? CheckpointRequested { get; init; }

    /// <summary>Asks for a checkpoint before the interval is up (nothing when the rule takes none, or one is running).</summary>
    public void RequestCheckpoint() => CheckpointRequested?.Invoke(this);

    /// <summary>Tells the rule's own source that a checkpoint covering everything up to <paramref name="position"/> is saved.</summary>
    public Task CommitSourceAsync(string position, CancellationToken cancellationToken) =>
        source?.CommitAsync(position, cancellationToken) ?? Task.CompletedTask;

    private (long Time, long Count, long AggTime, long AggCount)? restoredHits;

    /// <summary>
    /// Completes once the rule has processed every message queued before the call and those that processing queued
    /// in turn (a window tick re-armed for a deadline the clock has passed), or at once when the rule no longer takes
    /// messages. For a fake clock in tests: after moving it, what is due has been handled.
    /// </summary>
    public async Task SettleAsync(CancellationToken cancellationToken)
    {
        for (var round = 0; round < 100_000; round++)
        {
            var ticks = Interlocked.Read(ref ticksQueued);
            var barrier = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (!input.Writer.TryWrite(new MemoryMessage(null, default, null) { Barrier = barrier }))
            {
                return;
            }

            await Task.WhenAny(barrier.Task, loop ?? Task.CompletedTask).WaitAsync(cancellationToken).ConfigureAwait(false);
            if (!barrier.Task.IsCompleted || Interlocked.Read(ref ticksQueued) == ticks)
            {
                return; // the rule ended, or no tick came in behind the barrier
            }
        }
    }

    /// <summary>Asks the rule to fire what its windows hold once the events already taken are processed (bounded input ended).</summary>
    public void RequestFlush() => input.Writer.TryWrite(new MemoryMessage(null, default, null) { Flush = true });

    /// <summary>The input has ended: event time releases every waiting row, then each window fires what it holds.</summary>
    private async ValueTask FlushAsync(EvalContext context)
    {
        if (watermark is { } gate)
        {
            gate.Finish();
            while (gate.TryRelease(out var released, out var at))
            {
                watermarkMetrics!.AddOut();
                await ProcessTimedRowAsync(released, at, context, 0).ConfigureAwait(false);
            }
        }

        if (window is { } open)
        {
            fired.Clear();
            open.Flush(fired);
            await EmitFiredAsync(context).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A timer tick: under processing time the window fires what is due; under event time, a source quiet for the
    /// idle timeout moves the watermark on by the time that passed.
    /// </summary>
    private async ValueTask OnTickAsync(long at, EvalContext context)
    {
        if (watermark is { } gate)
        {
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            // A quiet stream stops holding the watermark back; when all are quiet, it moves on with the clock.
            if (gate.Refresh(now))
            {
                await ReleaseAsync(gate, context, 0).ConfigureAwait(false);
            }
            else if (gate.Current != long.MinValue && now - idleBase >= idleTimeout && gate.AdvanceIdle(gate.Current + (now - idleBase)))
            {
                idleBase = now;
                await ReleaseAsync(gate, context, 0).ConfigureAwait(false);
            }
            else if (gate.Current == long.MinValue)
            {
                idleBase = now; // nothing to move yet: check again after another quiet period
            }
        }
        else if (window is { } open)
        {
            // A tick may be stale (its timer fired as a row re-armed it to a later deadline): never past the clock.
            fired.Clear();
            open.Advance(Math.Min(at, time.GetUtcNow().ToUnixTimeMilliseconds()), fired);
            await EmitFiredAsync(context).ConfigureAwait(false);
        }

        Arm();
    }

    /// <summary>A row at its time (arrival, or event time once the watermark released it): WHERE, the window, or the projection.</summary>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ProcessTimedRowAsync(Row row, long at, EvalContext context, long started)
    {
        if (window is { } due && watermark is null)
        {
            // Processing time: what is due by this row's arrival fires first, whether or not the row enters the window.
            fired.Clear();
            due.Advance(at, fired);
            await EmitFiredAsync(context).ConfigureAwait(false);
        }

        if (window is null && plan.HasJoins)
        {
            await JoinRowAsync(row, context, started).ConfigureAwait(false);
            return;
        }

        context.SetRow(row);
        if (plan.HasAnalytics)
        {
            // As eKuiper: analytic functions see every row, before WHERE and before any window.
            try
            {
                plan.RunAnalytics(context);
            }
            catch (EvaluationException e)
            {
                await ReportAsync("run Analytic error: " + e.Message).ConfigureAwait(false);
                return;
            }
        }

        if (filterMetrics is { } filter && !plan.FiltersAfterWindow)
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

        if (running is not null)
        {
            await AggregateRowAsync(row, context, started).ConfigureAwait(false);
            return;
        }

        if (window is { } open)
        {
            if (await EntersWindowAsync(context).ConfigureAwait(false))
            {
                windowMetrics!.AddIn();
                fired.Clear();
                try
                {
                    open.Add(row, at, context, fired);
                }
                catch (EvaluationException e)
                {
                    await ReportAsync((plan.Window!.Kind == Sql.Ast.WindowKind.State ? "run State Window error: " : "run Window Over error: ") + e.Message).ConfigureAwait(false);
                }
                catch (InputLimitException e)
                {
                    windowMetrics.AddException();
                    await EmitFiredAsync(context).ConfigureAwait(false);
                    await RefuseAsync(row, e.Message).ConfigureAwait(false);
                    Arm();
                    return;
                }

                await EmitFiredAsync(context).ConfigureAwait(false);
            }

            Arm();
            return;
        }

        projectMetrics.AddIn();
        ValueObject? single = null;
        List<ValueObject>? results = null;
        try
        {
            // The hot path: one result, no list (unnest, the only way to get several, is rare).
            if (plan.Unnests)
            {
                results = plan.ProjectAll(context, options.SendNilField, options.SendMetaToSink);
            }
            else
            {
                single = plan.Project(context, options.SendNilField, options.SendMetaToSink);
            }
        }
        catch (EvaluationException e)
        {
            projectMetrics.AddException();
            await ReportAsync("run Select error: " + e.Message).ConfigureAwait(false);
            return;
        }

        // last_hit_time()/last_hit_count() read the hits before this row.
        context.LastHitTime = at;
        context.LastHitCount++;
        projectMetrics.AddOut();
        Latency(projectMetrics, started);
        if (single is not null)
        {
            await EmitAsync([single]).ConfigureAwait(false);
            return;
        }

        foreach (var result in results!)
        {
            // unnest(…) turns one row into several, each sent on its own, as eKuiper does.
            await EmitAsync([result]).ConfigureAwait(false);
        }
    }

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

    /// <summary>
    /// GROUP BY without a window: the row updates its group's aggregates (all or none: a value an aggregate cannot take
    /// rejects the row, reported, and leaves the totals as they were), then the group's new result is sent if it passes
    /// HAVING. Plain columns read the current row.
    /// </summary>
    private async ValueTask AggregateRowAsync(Row row, EvalContext context, long started)
    {
        aggregateMetrics?.AddIn();
        object key;
        try
        {
            key = plan.KeyOf(context);
        }
        catch (EvaluationException e)
        {
            aggregateMetrics?.AddException();
            await ReportAsync("run Group By error: " + e.Message).ConfigureAwait(false);
            return;
        }

        var specs = plan.AggregateCalls;
        if (!running!.TryGetValue(key, out var group))
        {
            if (running.Count >= plan.Limits.MaxGroupsPerRule)
            {
                aggregateMetrics?.AddException();
                await RefuseAsync(row, InputLimitMessages.Groups(plan.Limits)).ConfigureAwait(false);
                return;
            }

            group = new PaneGroup(row, specs.Select(s => Accumulator.Create(s.Name)!).ToArray());
        }

        var values = new Value?[specs.Count];
        context.InAggregate = true;
        try
        {
            for (var i = 0; i < specs.Count; i++)
            {
                if (specs[i].Takes(context))
                {
                    var value = specs[i].ValueOf(context);
                    group.Accumulators[i].Check(value);
                    values[i] = value;
                }
            }
        }
        catch (EvaluationException e)
        {
            aggregateMetrics?.AddException();
            await ReportAsync("run Select error: " + e.Message).ConfigureAwait(false);
            return;
        }
        finally
        {
            context.InAggregate = false;
        }

        for (var i = 0; i < values.Length; i++)
        {
            if (values[i] is { } value)
            {
                group.Accumulators[i].Add(value);
            }
        }

        running[key] = group;
        aggregateMetrics?.AddOut();
        try
        {
            var results = await ProjectGroupsAsync([(row, (IReadOnlyList<Row>)[row], group)], context).ConfigureAwait(false);
            if (results is { Count: > 0 })
            {
                Latency(projectMetrics, started);
                await EmitAsync(results).ConfigureAwait(false);
            }
        }
        finally
        {
            context.Group = null;
            context.RowNumber = 0;
            (context.AggregateValues, context.AggregateErrors) = (null, null);
        }
    }

    /// <summary>What each table source holds now (null for streams).</summary>
    private IReadOnlyList<Row>?[] TableRows() => Array.ConvertAll(tables, t => t?.Rows);

    /// <summary>
    /// A stream row of a rule that joins tables without a window: joined with what the tables hold now, then WHERE on
    /// each combination; the combinations that pass are one emission. A row that joins with nothing sends nothing.
    /// </summary>
    private async ValueTask JoinRowAsync(Row row, EvalContext context, long started)
    {
        alignerMetrics?.AddIn();
        alignerMetrics?.AddOut();
        var joins = joinMetrics!;
        joins.AddIn();
        List<Row> combinations;
        try
        {
            combinations = plan.Join([row], context, TableRows());
        }
        catch (EvaluationException e)
        {
            joins.AddException();
            await ReportAsync("run Join error: " + e.Message).ConfigureAwait(false);
            return;
        }

        if (combinations.Count == 0)
        {
            return;
        }

        joins.AddOut();
        if ((filterMetrics is null ? combinations : await FilterAsync(combinations, context).ConfigureAwait(false)) is not { } passed)
        {
            return;
        }

        projectMetrics.AddIn();
        var results = new List<ValueObject>(passed.Count);
        try
        {
            foreach (var combination in passed)
            {
                context.SetRow(combination);
                results.AddRange(plan.ProjectAll(context, options.SendNilField, options.SendMetaToSink));
            }
        }
        catch (EvaluationException e)
        {
            projectMetrics.AddException();
            await ReportAsync("run Select error: " + e.Message).ConfigureAwait(false);
            return;
        }

        context.LastHitTime = row.Timestamp;
        context.LastHitCount++;
        projectMetrics.AddOut();
        Latency(projectMetrics, started);
        await EmitAsync(results).ConfigureAwait(false);
    }

    /// <summary>Emits the windows that fired, in order (WHERE first where it runs after the window).</summary>
    private async ValueTask EmitFiredAsync(EvalContext context)
    {
        if (fired.Count == 0)
        {
            return;
        }

        var firings = fired.ToArray();
        fired.Clear();
        foreach (var firing in firings)
        {
            var (windowRows, start, end) = firing;
            windowMetrics!.AddOut();
            if (firing.Groups is { } aggregated)
            {
                await EmitAggregatedAsync(aggregated, firing.Error, start, end, context).ConfigureAwait(false);
                continue;
            }

            var rows = windowRows;
            if (joinMetrics is { } joins)
            {
                alignerMetrics?.AddIn();
                alignerMetrics?.AddOut();
                joins.AddIn();
                var joinable = windowRows;
                if (plan.HasPreJoinFilter)
                {
                    try
                    {
                        joinable = windowRows.Where(r => plan.PassesBeforeJoin(r, context)).ToList();
                    }
                    catch (EvaluationException e)
                    {
                        await ReportAsync("run Where error: " + e.Message).ConfigureAwait(false);
                        continue;
                    }
                }

                try
                {
                    rows = plan.Join(joinable, context, TableRows());
                }
                catch (EvaluationException e)
                {
                    joins.AddException();
                    await ReportAsync("run Join error: " + e.Message).ConfigureAwait(false);
                    continue;
                }

                if (rows.Count == 0)
                {
                    continue; // as eKuiper: a join that leaves nothing sends nothing
                }

                joins.AddOut();
            }

            if (plan.FiltersAfterWindow && filterMetrics is not null)
            {
                await EmitFilteredWindowAsync(rows, start, end, context).ConfigureAwait(false);
            }
            else
            {
                await EmitRowsAsync(rows, start, end, context).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// A window whose WHERE runs after it: the rows that pass go on. As eKuiper, the filter counts windows, and a
    /// window it leaves empty (or that was empty) sends nothing, not <c>[]</c>; a failure fails the window.
    /// </summary>
    private async ValueTask EmitFilteredWindowAsync(List<Row> rows, long start, long end, EvalContext context)
    {
        if (await FilterAsync(rows, context).ConfigureAwait(false) is { } passed)
        {
            await EmitRowsAsync(passed, start, end, context).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// WHERE over a set of rows (a window's, a row's join combinations), counted once for the set: the rows that pass, or
    /// null when none does or it failed (reported once).
    /// </summary>
    private ValueTask<List<Row>?> FilterAsync(List<Row> rows, EvalContext context) =>
        KeepAsync(rows, row => context.SetRow(row), () => plan.Filter(context), filterMetrics!, "run Where error: ");

    /// <summary>
    /// The items that pass a condition (WHERE over rows, HAVING over groups), counted once for the set by
    /// <paramref name="counts"/>: null when none passes or the condition failed (reported once, with <paramref name="error"/>).
    /// </summary>
    private async ValueTask<List<T>?> KeepAsync<T>(List<T> items, Action<T> enter, Func<bool> test, OperatorMetrics counts, string error)
    {
        counts.AddIn();
        var passed = new List<T>(items.Count);
        try
        {
            foreach (var item in items)
            {
                enter(item);
                if (test())
                {
                    passed.Add(item);
                }
            }
        }
        catch (EvaluationException e)
        {
            counts.AddException();
            await ReportAsync(error + e.Message).ConfigureAwait(false);
            return null;
        }

        if (passed.Count == 0)
        {
            return null;
        }

        counts.AddOut();
        return passed;
    }

    /// <summary>An aggregating window that fired: its groups, already aggregated, projected and emitted.</summary>
    private async ValueTask EmitAggregatedAsync(List<PaneGroup> groups, string? keyError, long start, long end, EvalContext context)
    {
        if (keyError is not null)
        {
            aggregateMetrics?.AddIn();
            aggregateMetrics?.AddException();
            await ReportAsync("run Group By error: " + keyError).ConfigureAwait(false);
            return;
        }

        context.WindowStart = start;
        context.WindowEnd = end;
        try
        {
            aggregateMetrics?.AddIn();
            aggregateMetrics?.AddOut();
            var results = await ProjectGroupsAsync(groups.Select(g => (g.First, (IReadOnlyList<Row>)[g.First], (PaneGroup?)g)).ToList(), context).ConfigureAwait(false);
            await EmitResultsAsync(results, end, context).ConfigureAwait(false);
        }
        finally
        {
            context.Group = null;
            context.RowNumber = 0;
            (context.AggregateValues, context.AggregateErrors) = (null, null);
            (context.WindowStart, context.WindowEnd) = (0, 0);
        }
    }

    /// <summary>Sends a window's results, if any; a non-empty emission counts as a hit for <c>last_agg_hit_*</c>.</summary>
    private async ValueTask EmitResultsAsync(List<ValueObject>? results, long end, EvalContext context)
    {
        if (results is null)
        {
            return;
        }

        if (results.Count > 0)
        {
            // last_agg_hit_time()/last_agg_hit_count() read the hits before this window.
            context.LastAggHitTime = end;
            context.LastAggHitCount++;
        }

        await EmitAsync(results).ConfigureAwait(false);
    }

    /// <summary>Sets the context to one group: its first row, its rows, and (for an aggregating window) its aggregates' results.</summary>
    private void Enter(EvalContext context, (Row First, IReadOnlyList<Row> Rows, PaneGroup? Aggregated) group)
    {
        context.SetRow(group.First);
        context.Group = group.Rows;
        if (group.Aggregated is { } aggregated)
        {
            var count = aggregated.Accumulators.Length;
            var values = new Value[count];
            var errors = default(string?[]);
            for (var i = 0; i < count; i++)
            {
                try
                {
                    // Further arguments (a percentile's fraction) are read on the group's first row, as over its rows.
                    context.AggregateValues = null;
                    var options = Array.ConvertAll(plan.AggregateCalls[i].Options, o => o(context));
                    values[i] = aggregated.Accumulators[i].Result(options);
                }
                catch (EvaluationException e)
                {
                    errors ??= new string?[count];
                    errors[i] = e.Message;
                }
            }

            context.AggregateValues = values;
            context.AggregateErrors = errors;
        }
    }

    /// <summary>Projects a window's rows (per row, or per group) and emits them.</summary>
    private async ValueTask EmitRowsAsync(List<Row> rows, long start, long end, EvalContext context)
    {
        context.WindowStart = start;
        context.WindowEnd = end;
        try
        {
            var results = plan.Groups ? await GroupAndProjectAsync(rows, context).ConfigureAwait(false) : await ProjectRowsAsync(rows, context).ConfigureAwait(false);
            await EmitResultsAsync(results, end, context).ConfigureAwait(false);
        }
        finally
        {
            context.Group = null;
            context.RowNumber = 0;
            (context.WindowStart, context.WindowEnd) = (0, 0);
        }
    }

    /// <summary>A window without aggregates: each row projected, in arrival order or ORDER BY; null when it failed (reported).</summary>
    private async ValueTask<List<ValueObject>?> ProjectRowsAsync(List<Row> rows, EvalContext context)
    {
        if (plan.HasOrder)
        {
            orderMetrics?.AddIn();
            try
            {
                rows = plan.Sort(rows, context);
                orderMetrics?.AddOut();
            }
            catch (EvaluationException e)
            {
                orderMetrics?.AddException();
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

                context.RowNumber = results.Count + 1;
                results.AddRange(plan.ProjectAll(context, options.SendNilField, options.SendMetaToSink));
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

        // HAVING that rejects every row of a window sends nothing, as eKuiper.
        return results.Count == 0 && rows.Count > 0 && plan.HasHaving ? null : results;
    }

    /// <summary>
    /// A window with aggregates or GROUP BY keys: one result row per group (its plain columns read from the group's
    /// first row), filtered by HAVING, ordered by ORDER BY over the groups, cut by LIMIT; null when it failed.
    /// </summary>
    private async ValueTask<List<ValueObject>?> GroupAndProjectAsync(List<Row> rows, EvalContext context)
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

        return await ProjectGroupsAsync(groups.Select(g => (g[0], (IReadOnlyList<Row>)g, (PaneGroup?)null)).ToList(), context).ConfigureAwait(false);
    }

    /// <summary>HAVING, the projection, ORDER BY and LIMIT over a window's groups; null when it failed (reported).</summary>
    private async ValueTask<List<ValueObject>?> ProjectGroupsAsync(List<(Row First, IReadOnlyList<Row> Rows, PaneGroup? Aggregated)> groups, EvalContext context)
    {
        // HAVING keeps the groups that pass; a window left with none goes no further (it emits nothing, not []).
        if (havingMetrics is { } havingCounts)
        {
            if (await KeepAsync(groups, group => Enter(context, group), () => plan.Having(context), havingCounts, "run Having error: ").ConfigureAwait(false) is not { } passed)
            {
                return null;
            }

            groups = passed;
        }

        // ORDER BY sorts the groups first (its keys read each group's aggregates and columns); then the groups are
        // projected in that order, numbered for row_number(), up to LIMIT.
        if (plan.HasOrder)
        {
            var keyed = new List<((Row First, IReadOnlyList<Row> Rows, PaneGroup? Aggregated) Group, Value[] Keys)>(groups.Count);
            orderMetrics?.AddIn();
            try
            {
                foreach (var group in groups)
                {
                    Enter(context, group);
                    keyed.Add((group, plan.SortKeys(context)));
                }

                groups = plan.SortBy(keyed, k => k.Keys).Select(k => k.Group).ToList();
                orderMetrics?.AddOut();
            }
            catch (EvaluationException e)
            {
                orderMetrics?.AddException();
                await ReportAsync("run Order By error: " + e.Message).ConfigureAwait(false);
                return null;
            }
        }

        var limit = plan.Limit is { } most ? (int)Math.Min(most, int.MaxValue) : int.MaxValue;
        projectMetrics.AddIn();
        var results = new List<ValueObject>();
        foreach (var group in groups)
        {
            if (results.Count >= limit)
            {
                break;
            }

            Enter(context, group);
            context.RowNumber = results.Count + 1;
            try
            {
                results.AddRange(plan.ProjectAll(context, options.SendNilField, options.SendMetaToSink));
            }
            catch (EvaluationException e)
            {
                projectMetrics.AddException();
                await ReportAsync("run Select error: " + e.Message).ConfigureAwait(false);
                return null;
            }
        }

        projectMetrics.AddOut();
        return results.Count > limit ? results.GetRange(0, limit) : results;
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
        for (var i = 0; i < sinks.Count; i++) // by index: a foreach over the interface boxes an enumerator per emission
        {
            await sinks[i].SendAsync(emission, stopping.Token).ConfigureAwait(false);
        }

        Count(ref recordsOut, emission.Count);
        Diagnostics.EngineMetrics.RecordsOut.Add(emission.Count, ruleTag);
    }
}
