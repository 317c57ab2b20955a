namespace EdgeStream;

/// <summary>
/// A destination for rule results, implemented by connector packages and host code and registered by type name
/// with <see cref="EdgeStreamEngine.RegisterSink"/>. The engine's sink runner does the rest: shaping (fields,
/// sendSingle…), buffering with backpressure, batching, and retrying with backoff.
/// </summary>
/// <remarks>
/// <para>Lifecycle: the factory makes an instance when a rule is created (only to check its properties; it is
/// disposed unopened) and again each time the rule starts. <see cref="OpenAsync"/> runs once per start,
/// <see cref="WriteAsync"/> follows, and <see cref="IAsyncDisposable.DisposeAsync"/> runs when the rule stops.</para>
/// <para>Threading: the engine never calls one instance concurrently; calls come from one task at a time. With the
/// action property <c>concurrency</c> above 1 the runner makes that many instances, each written by its own task
/// (rows may then arrive out of order).</para>
/// </remarks>
public interface ISink : IAsyncDisposable
{
    /// <summary>
    /// Connects to the destination. The rule's start waits for the first attempt (at most 10 s). If that attempt
    /// throws a <see cref="SinkException"/> that is not <see cref="SinkException.IsTransient"/>, the destination is
    /// misconfigured (bad credentials, a missing table) and the rule does not start: the caller's start throws it,
    /// the rule is stopped by error. Any other failure (the destination is unreachable) lets the rule start; the runner
    /// retries with backoff while the rule runs, holding its rows, and so it does for every later failure.
    /// </summary>
    /// <param name="cancellationToken">Fires when the rule stops.</param>
    /// <returns>Completes when the sink can take writes.</returns>
    ValueTask OpenAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Writes one batch of result rows, in order; returning means they are delivered. Throw a
    /// <see cref="SinkException"/> with <see cref="SinkException.IsTransient"/> (or a <see cref="TimeoutException"/> or
    /// <see cref="IOException"/>) and the runner keeps the batch and retries it with backoff until it succeeds or the
    /// rule stops; any other exception means the batch can never succeed, and it goes to
    /// <see cref="EdgeStreamEngine.DeadLetterTopic"/> (counted and logged) so the rule can go on.
    /// </summary>
    /// <param name="rows">The rows: column name to value (long, double, string, bool, byte[], DateTimeOffset, arrays, dictionaries; null for null).</param>
    /// <param name="cancellationToken">Fires when the rule stops without waiting for delivery.</param>
    /// <returns>Completes when the rows are delivered.</returns>
    ValueTask WriteAsync(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows, CancellationToken cancellationToken);

    /// <summary>
    /// What writing the same rows twice does at the destination. A retried batch may be written again after a
    /// timeout, so exactly-once rules (<c>qos</c> 2, with checkpoints) need an idempotent or transactional sink.
    /// Shown by <see cref="EdgeStreamEngine.ExplainRule"/>. Defaults to <see cref="SinkWriteSemantics.AtLeastOnce"/>.
    /// </summary>
    SinkWriteSemantics WriteSemantics => SinkWriteSemantics.AtLeastOnce;
}

/// <summary>What a sink's repeated write does at its destination.</summary>
public enum SinkWriteSemantics
{
    /// <summary>A repeated write may duplicate rows.</summary>
    AtLeastOnce = 0,

    /// <summary>Writing the same rows again leaves the destination as one write would (an upsert by key).</summary>
    Idempotent,

    /// <summary>Each batch commits or rolls back as a whole, so a retried batch is never half-applied.</summary>
    Transactional,
}

/// <summary>What a sink factory gets: the rule, the action's properties, a logger and the engine's clock.</summary>
public sealed class SinkContext
{
    internal SinkContext(string ruleId, string sinkType, IReadOnlyDictionary<string, string> properties, Microsoft.Extensions.Logging.ILogger logger, TimeProvider timeProvider)
    {
        RuleId = ruleId;
        SinkType = sinkType;
        Properties = properties;
        Logger = logger;
        TimeProvider = timeProvider;
    }

    /// <summary>The rule the sink writes for.</summary>
    public string RuleId { get; }

    /// <summary>The registered type name of the action.</summary>
    public string SinkType { get; }

    /// <summary>The action's properties (common ones such as <c>fields</c> are applied by the engine).</summary>
    public IReadOnlyDictionary<string, string> Properties { get; }

    /// <summary>A logger for the sink (category <c>EdgeStream.Sinks.{type}</c>).</summary>
    public Microsoft.Extensions.Logging.ILogger Logger { get; }

    /// <summary>The engine's clock.</summary>
    public TimeProvider TimeProvider { get; }

    /// <summary>Where <see cref="ReportError"/> goes; set by the runner of the sink.</summary>
    internal Action<string>? Reporter { get; set; }

    /// <summary>
    /// Reports a problem that fails no write by itself (a lost connection the sink is restoring): logged, counted, and
    /// shown as the rule's last error and the sink's <c>last_exception</c>. Must not contain secrets.
    /// </summary>
    /// <param name="message">What happened.</param>
    public void ReportError(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (Reporter is { } reporter)
        {
            reporter(message);
        }
        else
        {
            Diagnostics.Log.SinkProblem(Logger, RuleId, message);
        }
    }

    /// <summary>
    /// Compiles a property value that may hold dynamic-property templates (<c>{{.field}}</c>), to render per message
    /// with <see cref="SinkTemplate.Render"/>. Call it from the factory, so a bad template fails rule creation.
    /// </summary>
    /// <param name="value">The property's value.</param>
    /// <returns>The compiled value.</returns>
    /// <exception cref="ArgumentException">The template does not parse (the message says where).</exception>
    public static SinkTemplate CompileTemplate(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        try
        {
            return new SinkTemplate(value);
        }
        catch (Runtime.Templates.TemplateException e)
        {
            throw new ArgumentException($"template `{value}`: {e.Message}", nameof(value), e);
        }
    }
}

/// <summary>Thrown by a sink to say whether a failed write may succeed if retried.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1032:Implement standard exception constructors", Justification = "Transience is always stated.")]
public sealed class SinkException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed. Must not contain secrets: it is logged and shown in rule status.</param>
    /// <param name="isTransient">True when retrying may succeed (the destination is down, a timeout).</param>
    /// <param name="innerException">The cause, if any.</param>
    public SinkException(string message, bool isTransient, Exception? innerException = null)
        : base(message, innerException) => IsTransient = isTransient;

    /// <summary>True when retrying may succeed.</summary>
    public bool IsTransient { get; }
}

/// <summary>
/// A sink that sends encoded payloads (an MQTT publish, an HTTP body, a file line) rather than rows. The engine
/// encodes each outgoing message for it with the action's <c>dataTemplate</c> (its text) or <c>format</c> (JSON
/// unless set): one payload per row with <c>sendSingle</c>, else one per emission, or per batch with <c>batchSize</c>.
/// Everything else (buffering, batching, retry, dead letters, lifecycle, threading) is as for <see cref="ISink"/>.
/// </summary>
public interface IPayloadSink : ISink
{
    /// <summary>Sends payloads in order; returning means they are delivered. Failures work as for <see cref="ISink.WriteAsync"/>.</summary>
    /// <param name="payloads">The payloads.</param>
    /// <param name="cancellationToken">Fires when the rule stops without waiting for delivery.</param>
    /// <returns>Completes when the payloads are delivered.</returns>
    ValueTask WritePayloadsAsync(IReadOnlyList<ReadOnlyMemory<byte>> payloads, CancellationToken cancellationToken);

    /// <summary>
    /// Sends messages in order, each with the rows it was encoded from (for per-message destinations: see
    /// <see cref="SinkTemplate"/>); the engine calls this one. By default it sends the payloads with
    /// <see cref="WritePayloadsAsync"/>. Failures work as for <see cref="ISink.WriteAsync"/>.
    /// </summary>
    /// <param name="messages">The messages.</param>
    /// <param name="cancellationToken">Fires when the rule stops without waiting for delivery.</param>
    /// <returns>Completes when the messages are delivered.</returns>
    ValueTask WriteMessagesAsync(IReadOnlyList<SinkMessage> messages, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var payloads = new ReadOnlyMemory<byte>[messages.Count];
        for (var i = 0; i < payloads.Length; i++)
        {
            payloads[i] = messages[i].Payload;
        }

        return WritePayloadsAsync(payloads, cancellationToken);
    }

    /// <summary>Not used: the engine gives a payload sink payloads.</summary>
    /// <param name="rows">Unused.</param>
    /// <param name="cancellationToken">Unused.</param>
    /// <returns>Never returns.</returns>
    /// <exception cref="NotSupportedException">Always.</exception>
    ValueTask ISink.WriteAsync(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows, CancellationToken cancellationToken) =>
        throw new NotSupportedException("a payload sink takes payloads");
}
