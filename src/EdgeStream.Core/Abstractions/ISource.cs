namespace EdgeStream;

/// <summary>
/// Where a stream's events come from, for streams declared <c>WITH (TYPE="name")</c> with a type registered through
/// <see cref="EdgeStreamEngine.RegisterSource"/> or <c>AddSource</c> on the DI builder.
/// </summary>
/// <remarks>
/// <para>Lifecycle: the factory makes an instance when a rule that reads the stream starts (for a
/// <c>SHARED="true"</c> stream, when the first of its rules starts: one instance and one decode serve them all).
/// <see cref="RunAsync"/> runs once per instance; it reads until its token fires (the rule or the last sharing rule
/// stops) or the input ends (then it returns). <see cref="IAsyncDisposable.DisposeAsync"/> follows.</para>
/// <para>Faults: an exception from <see cref="RunAsync"/> is counted and logged in every reading rule's status, and
/// the engine starts a new instance after a backoff (100 ms doubling to 30 s; back to 100 ms after an instance ran
/// 30 s or more) while the rules run.</para>
/// <para>Delivery: <see cref="ISourceWriter.WritePayloadAsync"/> completes only when every reading rule has taken
/// the event into its bounded buffer (a slow rule slows the source: backpressure). A source whose protocol
/// acknowledges messages (an MQTT QoS 1 message, a queue) acknowledges after the write completes, so an event is
/// never acknowledged before a rule holds it.</para>
/// <para>Threading: the engine never calls one instance concurrently. The writer's methods must not be called
/// concurrently either: write from one task at a time.</para>
/// </remarks>
public interface ISource : IAsyncDisposable
{
    /// <summary>Reads events and hands each to <paramref name="writer"/> until cancelled or the input ends.</summary>
    /// <param name="writer">Takes the events.</param>
    /// <param name="cancellationToken">Fires when the reading rules stop.</param>
    /// <returns>Completes when the source stops reading.</returns>
    Task RunAsync(ISourceWriter writer, CancellationToken cancellationToken);
}

/// <summary>Takes a source's events into the rules that read its stream.</summary>
public interface ISourceWriter
{
    /// <summary>
    /// Hands over one payload, decoded with the stream's <c>FORMAT</c> (JSON unless declared otherwise). A payload
    /// that cannot be decoded is counted, reported and dead-lettered; the source should go on.
    /// </summary>
    /// <param name="payload">The payload; the engine may keep it after the call returns, so do not reuse its buffer.</param>
    /// <param name="metadata">Message metadata readable with <c>meta(key)</c> (a topic, a partition…), or null.</param>
    /// <param name="cancellationToken">Stops waiting for a full rule buffer.</param>
    /// <returns>Completes when every reading rule has taken the event.</returns>
    ValueTask WritePayloadAsync(ReadOnlyMemory<byte> payload, IReadOnlyDictionary<string, object?>? metadata, CancellationToken cancellationToken);

    /// <summary>Hands over one event already split into fields (no format involved).</summary>
    /// <param name="row">The event's fields as plain values.</param>
    /// <param name="metadata">Message metadata readable with <c>meta(key)</c>, or null.</param>
    /// <param name="cancellationToken">Stops waiting for a full rule buffer.</param>
    /// <returns>Completes when every reading rule has taken the event.</returns>
    ValueTask WriteRowAsync(IReadOnlyDictionary<string, object?> row, IReadOnlyDictionary<string, object?>? metadata, CancellationToken cancellationToken);

    /// <summary>
    /// Hands over several events already split into fields, as one batch: cheaper per event than one call each, and
    /// still counted event by event against each rule's <c>bufferLength</c>.
    /// </summary>
    /// <param name="rows">The events' fields as plain values, in order.</param>
    /// <param name="metadata">Metadata shared by the batch, or null.</param>
    /// <param name="cancellationToken">Stops waiting for a full rule buffer.</param>
    /// <returns>Completes when every reading rule has taken the batch.</returns>
    ValueTask WriteRowsAsync(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows, IReadOnlyDictionary<string, object?>? metadata, CancellationToken cancellationToken);

    /// <summary>
    /// Reports a problem that does not end the source (a lost connection it is restoring, a skipped record): counted
    /// and shown as the last error of every reading rule, and logged. Must not contain secrets.
    /// </summary>
    /// <param name="message">What happened.</param>
    void ReportError(string message);
}

/// <summary>What a source factory gets: the stream it feeds, its options, a logger and the engine's clock.</summary>
public sealed class SourceContext
{
    internal SourceContext(string streamName, string sourceType, IReadOnlyDictionary<string, string> options, Microsoft.Extensions.Logging.ILogger logger, TimeProvider timeProvider, string? ruleId = null)
    {
        RuleId = ruleId;
        StreamName = streamName;
        SourceType = sourceType;
        Options = options;
        Logger = logger;
        TimeProvider = timeProvider;
    }

    /// <summary>The stream's name.</summary>
    public string StreamName { get; }

    /// <summary>
    /// The rule this instance reads for; null for a <c>SHARED</c> stream, whose one instance serves every rule. A source
    /// with per-reader state at the far end (a durable subscription, a consumer group) should key it on this and the stream.
    /// </summary>
    public string? RuleId { get; }

    /// <summary>The registered type name (the stream's <c>TYPE</c>).</summary>
    public string SourceType { get; }

    /// <summary>The stream's <c>WITH</c> options by upper-case name: <c>DATASOURCE</c> (a topic, a path…), <c>CONF_KEY</c>…</summary>
    public IReadOnlyDictionary<string, string> Options { get; }

    /// <summary>The stream's <c>DATASOURCE</c> option, or an empty string.</summary>
    public string DataSource => Options.TryGetValue("DATASOURCE", out var value) ? value : string.Empty;

    /// <summary>A logger for the source (category <c>EdgeStream.Sources.{type}</c>).</summary>
    public Microsoft.Extensions.Logging.ILogger Logger { get; }

    /// <summary>The engine's clock.</summary>
    public TimeProvider TimeProvider { get; }
}
