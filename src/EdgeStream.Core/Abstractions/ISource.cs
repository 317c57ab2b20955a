namespace EdgeStream;

/// <summary>
/// Where a stream's events come from, for streams declared <c>WITH (TYPE="name")</c> with a type registered through
/// <see cref="EdgeStreamEngine.RegisterSource(string, Func{SourceContext, ISource})"/> or <c>AddSource</c> on the DI builder.
/// </summary>
/// <remarks>
/// <para>Lifecycle: the factory makes an instance when a rule that reads the stream starts (for a
/// <c>SHARED="true"</c> stream, when the first of its rules starts: one instance and one decode serve them all).
/// <see cref="RunAsync"/> runs once per instance; it reads until its token fires (the rule or the last sharing rule
/// stops) or the input ends (then it returns). <see cref="IAsyncDisposable.DisposeAsync"/> follows.</para>
/// <para>Faults: an exception from <see cref="RunAsync"/> is counted and logged in every reading rule's status, and
/// the engine starts a new instance after a backoff (100 ms doubling to 30 s; back to 100 ms after an instance ran
/// 30 s or more) while the rules run.</para>
/// <para>Delivery: <see cref="ISourceWriter.WritePayloadAsync(ReadOnlyMemory{byte}, IReadOnlyDictionary{string, object}, CancellationToken)"/> completes only when every reading rule has taken
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

    /// <summary>
    /// Hands over one payload together with where the source stands once it is taken (a line number, an offset, a
    /// message sequence). A rule that takes checkpoints keeps the position of the last event each checkpoint covers
    /// and, started again from that checkpoint, gives it back in <see cref="SourceContext.ResumePosition"/>: a source
    /// that can replay (a file, a log) resumes right after it, so no event is lost or counted twice.
    /// </summary>
    /// <param name="payload">The payload; the engine may keep it after the call returns, so do not reuse its buffer.</param>
    /// <param name="metadata">Message metadata readable with <c>meta(key)</c>, or null.</param>
    /// <param name="position">The source's position after this event, in the source's own terms.</param>
    /// <param name="cancellationToken">Stops waiting for a full rule buffer.</param>
    /// <returns>Completes when every reading rule has taken the event.</returns>
    ValueTask WritePayloadAsync(ReadOnlyMemory<byte> payload, IReadOnlyDictionary<string, object?>? metadata, string position, CancellationToken cancellationToken) =>
        WritePayloadAsync(payload, metadata, cancellationToken);

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

    /// <summary>
    /// Asks the reading rule for a checkpoint before its interval is up: a source that holds acknowledgements until a
    /// checkpoint (<see cref="ICheckpointedSource"/>) and sees them pile up. Nothing happens when the rule takes no
    /// checkpoints or one is already running.
    /// </summary>
    void RequestCheckpoint()
    {
    }
}

/// <summary>
/// A source that takes part in its rule's checkpoints: it writes events with positions
/// (<see cref="ISourceWriter.WritePayloadAsync(ReadOnlyMemory{byte}, IReadOnlyDictionary{string, object?}?, string, CancellationToken)"/>)
/// and hears when a checkpoint covering them is saved, so that it can let go of what it holds for a replay (an MQTT
/// QoS 1 message is acknowledged only then: after a crash the broker delivers again what no checkpoint covers).
/// </summary>
/// <remarks>
/// Called only for a stream that is not <c>SHARED</c> (one instance per rule) whose rule takes checkpoints
/// (<see cref="SourceContext.Checkpointed"/>), never concurrently with itself; an exception is logged and the next
/// checkpoint commits again.
/// </remarks>
public interface ICheckpointedSource : ISource
{
    /// <summary>A checkpoint covering every event up to <paramref name="position"/> is durably saved.</summary>
    /// <param name="position">The position of the last event the checkpoint covers, as the source wrote it.</param>
    /// <param name="cancellationToken">Fires when the rule stops.</param>
    /// <returns>Completes when the source has let go of what the checkpoint covers.</returns>
    Task CommitAsync(string position, CancellationToken cancellationToken);
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

    /// <summary>
    /// Where to resume: the position of the last event the rule's checkpoint covers (or, for a new instance after a
    /// failure, of the last event handed over); null to start from the beginning. Set only for a stream that is not
    /// <c>SHARED</c>, for positions written with <see cref="ISourceWriter.WritePayloadAsync(ReadOnlyMemory{byte}, IReadOnlyDictionary{string, object?}?, string, CancellationToken)"/>.
    /// </summary>
    public string? ResumePosition { get; internal set; }

    /// <summary>
    /// Whether the reading rule takes checkpoints (<c>qos</c> 1 or 2 with a state store) and this instance is its own:
    /// a source that can have events delivered again should then hold its acknowledgements until
    /// <see cref="ICheckpointedSource.CommitAsync"/>.
    /// </summary>
    public bool Checkpointed { get; internal set; }
}
