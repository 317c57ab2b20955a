using System.Threading.Channels;
using EdgeStream.Abstractions;
using EdgeStream.Compilation;
using EdgeStream.Runtime.Memory;

namespace EdgeStream.Runtime;

/// <summary>A result destination of a running rule.</summary>
internal interface IRuleSink
{
    ValueTask SendAsync(IReadOnlyList<ValueObject> emission, CancellationToken cancellationToken);

    /// <summary>Called when the rule starts, before the first <see cref="SendAsync"/>.</summary>
    void Start()
    {
    }

    /// <summary>Called when the rule stops, after the last <see cref="SendAsync"/>; finishes what the sink holds.</summary>
    Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>eKuiper's <c>memory</c> sink: publishes each emission to a memory topic (through <c>dataTemplate</c> if set).</summary>
internal sealed class MemorySink(MemoryBus bus, string topic, SinkEncoding encoding, Func<Action<string>> onError) : IRuleSink
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
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // A host callback subscribed to the topic failed: the rule counts it and goes on.
            onError()($"sink `memory`: a subscriber of `{topic}` failed: {e.Message}");
        }
    }
}

/// <summary>eKuiper's <c>log</c> sink: writes each emission to the log (Information), as JSON or through <c>dataTemplate</c>.</summary>
internal sealed class LogSink(Microsoft.Extensions.Logging.ILogger logger, string ruleId, SinkEncoding encoding, Func<Action<string>> onError) : IRuleSink
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
                onError()($"sink `log`: {e.Message}");
                return ValueTask.CompletedTask;
            }

#pragma warning disable CA1873 // The text is built only after the IsEnabled check above.
            Diagnostics.Log.LogSinkEmission(logger, ruleId, text);
#pragma warning restore CA1873
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>eKuiper's <c>nop</c> sink: discards results (benchmarks, dry runs).</summary>
internal sealed class NopSink : IRuleSink
{
    public ValueTask SendAsync(IReadOnlyList<ValueObject> emission, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

/// <summary>
/// One running instance of a stateless rule: a bounded channel from its memory topic, one loop that decodes,
/// filters and projects each event and hands the result to the sinks. A bad event is counted (and sent as an error
/// row with <c>sendError</c>) and the loop goes on; stopping drains what the channel already holds.
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
    private readonly EvalContext context;
    private readonly CancellationTokenSource stopping = new();
    private readonly IRuleInput? source;
    private readonly List<DecodeResult> decoded = [];
    private Task? loop;
    private long recordsIn;
    private long recordsOut;
    private long errors;
    private string? lastError;
    private volatile bool failed;

    private readonly IReadOnlyList<string> warnings;
    private readonly Microsoft.Extensions.Logging.ILogger logger;
    private readonly KeyValuePair<string, object?> ruleTag;

    public RuleRunner(
        string id, RulePlan plan, IReadOnlyList<IRuleSink> sinks, RuleOptions options, MemoryBus bus, TimeProvider time,
        IReadOnlyList<string> warnings, Microsoft.Extensions.Logging.ILogger logger, IRuleInput? source = null)
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
        var stream = plan.Source;
        var memoryTopic = source is null && string.Equals(stream.Option("TYPE"), "memory", StringComparison.OrdinalIgnoreCase) ? stream.Option("DATASOURCE") : null;
        topics = memoryTopic is { Length: > 0 } ? [StreamTopic(stream.Name), memoryTopic] : [StreamTopic(stream.Name)];
        input = Channel.CreateBounded<MemoryMessage>(new BoundedChannelOptions(Math.Max(1, options.BufferLength))
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
        context = plan.Compiler.CreateContext();
    }

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

        loop = Task.Run(RunAsync);
        source?.Attach(this);

        Diagnostics.Log.RuleStarted(logger, id);
    }

    /// <summary>
    /// Stops taking events, finishes those already taken, and returns when the loop has ended. If
    /// <paramref name="cancellationToken"/> fires first (a sink that no longer takes results), the rest is abandoned.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (source is not null)
        {
            await source.DetachAsync(this).ConfigureAwait(false);
        }

        Unsubscribe();
        input.Writer.TryComplete();
        if (loop is null)
        {
            return;
        }

        using (cancellationToken.Register(stopping.Cancel))
        {
            await loop.ConfigureAwait(false);
        }

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

    public RuleStatus Status(bool running) => new(
        id,
        failed ? RuleState.StoppedByError : running ? RuleState.Running : RuleState.Stopped,
        Interlocked.Read(ref recordsIn),
        Interlocked.Read(ref recordsOut),
        Interlocked.Read(ref errors),
        Volatile.Read(ref lastError),
        warnings);

    public async ValueTask DeliverAsync(MemoryMessage message, CancellationToken cancellationToken)
    {
        try
        {
            await input.Writer.WriteAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            // The rule stopped between the publisher's lookup and this write; it no longer subscribes.
        }
    }

    private async Task RunAsync()
    {
        try
        {
            await foreach (var message in input.Reader.ReadAllAsync(stopping.Token).ConfigureAwait(false))
            {
                await ProcessAsync(message).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
#pragma warning disable CA1031 // A rule's failure must never reach the host: it is recorded in the rule status.
        catch (Exception e)
#pragma warning restore CA1031
        {
            failed = true;
            Volatile.Write(ref lastError, e.Message);
            Diagnostics.Log.RuleFailed(logger, id, e);
            Unsubscribe();
            input.Writer.TryComplete();
        }
    }

    private async ValueTask ProcessAsync(MemoryMessage message)
    {
        decoded.Clear();
        plan.Decoder.DecodeAll(message, time.GetUtcNow().ToUnixTimeMilliseconds(), decoded);
        foreach (var result in decoded)
        {
            await ProcessDecodedAsync(result.Row is not null, result.Row!, result.Error ?? string.Empty).ConfigureAwait(false);
            if (result.Row is null)
            {
                await DeadLetterAsync(result.Error!, result.Payload).ConfigureAwait(false);
            }
        }
    }

    private ValueTask ProcessDecodedAsync(bool decoded, Row row, string error)
    {
        Interlocked.Increment(ref recordsIn);
        Diagnostics.EngineMetrics.RecordsIn.Add(1, ruleTag);
        return decoded ? ProcessRowAsync(row) : ReportAsync(error);
    }

    /// <summary>Publishes an event no rule could decode to <see cref="EdgeStreamEngine.DeadLetterTopic"/>.</summary>
    private ValueTask DeadLetterAsync(string error, Value payload)
    {
        var letter = new ValueObject(4)
        {
            ["rule"] = Value.From(id),
            ["stream"] = Value.From(plan.Source.Name),
            ["error"] = Value.From(error),
            ["payload"] = payload,
        };
        return bus.PublishAsync(EdgeStreamEngine.DeadLetterTopic, new MemoryMessage(letter, default, null), stopping.Token);
    }

    private async ValueTask ProcessRowAsync(Row row)
    {
        context.SetRow(row);
        bool pass;
        try
        {
            pass = plan.Filter(context);
        }
        catch (EvaluationException e)
        {
            await ReportAsync("run Where error: " + e.Message).ConfigureAwait(false);
            return;
        }

        if (!pass)
        {
            return;
        }

        ValueObject result;
        try
        {
            result = plan.Project(context, options.SendNilField);
        }
        catch (EvaluationException e)
        {
            await ReportAsync("run Select error: " + e.Message).ConfigureAwait(false);
            return;
        }

        await EmitAsync([result]).ConfigureAwait(false);
    }

    /// <summary>Records a failure outside the event path (a sink's): counted and kept as the last error.</summary>
    internal void RecordError(string message)
    {
        Interlocked.Increment(ref errors);
        Volatile.Write(ref lastError, message);
        Diagnostics.EngineMetrics.Errors.Add(1, ruleTag);
    }

    private async ValueTask ReportAsync(string message)
    {
        Interlocked.Increment(ref errors);
        Volatile.Write(ref lastError, message);
        Diagnostics.EngineMetrics.Errors.Add(1, ruleTag);
        Diagnostics.Log.EventRejected(logger, id, message);
        if (options.SendError)
        {
            var error = new ValueObject(1) { ["error"] = Value.From(message) };
            await EmitAsync([error]).ConfigureAwait(false);
        }
    }

    private async ValueTask EmitAsync(IReadOnlyList<ValueObject> emission)
    {
        foreach (var sink in sinks)
        {
            await sink.SendAsync(emission, stopping.Token).ConfigureAwait(false);
        }

        Interlocked.Add(ref recordsOut, emission.Count);
        Diagnostics.EngineMetrics.RecordsOut.Add(emission.Count, ruleTag);
    }
}
