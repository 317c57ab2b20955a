using EdgeStream.Abstractions;

namespace EdgeStream.Runtime.Memory;

/// <summary>
/// What travels on a memory topic: one row from host code (<see cref="Row"/>), one JSON payload to decode
/// (<see cref="Json"/>) or a batch of them (<see cref="Payloads"/>), or one emission of a rule's memory sink (<see cref="Rows"/>, a rule pipeline).
/// </summary>
/// <remarks>
/// A shared source decodes once and sends each event as <see cref="Decoded"/> (or <see cref="Error"/> when it could
/// not be decoded, with the payload in <see cref="Json"/>); <see cref="Meta"/> is the source's message metadata.
/// </remarks>
internal readonly record struct MemoryMessage(ValueObject? Row, ReadOnlyMemory<byte> Json, IReadOnlyList<ValueObject>? Rows)
{
    public Row? Decoded { get; init; }

    public string? Error { get; init; }

    public ValueObject? Meta { get; init; }

    /// <summary>When it was published (Unix ms on the engine's clock), stamped by the bus; 0 until then. Rows take this as their arrival time.</summary>
    public long ArrivedAt { get; init; }

    /// <summary>Not an event: a window's timer fired for the window ending at this time (Unix ms).</summary>
    public long TickAt { get; init; }

    /// <summary>Not an event: the input has ended, fire what the windows hold (see <c>EdgeStreamEngine.FlushWindowsAsync</c>).</summary>
    public bool Flush { get; init; }

    /// <summary>Not an event: write the rule's state (after the events taken before) and complete this with it.</summary>
    public TaskCompletionSource<byte[]>? SnapshotTo { get; init; }

    /// <summary>Not an event: complete this once every message queued before it is processed (the testing package's settle).</summary>
    public TaskCompletionSource? Barrier { get; init; }

    /// <summary>Queued by the rule itself past its row gate (a table file's rows): it gives no credits back.</summary>
    public bool Ungated { get; init; }

    /// <summary>Which source of a join rule it is for (0: the FROM stream); set by the rule's subscription.</summary>
    public int Source { get; init; }

    /// <summary>A batch of JSON payloads, one event each (or an array of events each), decoded one after another; null otherwise.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>>? Payloads { get; init; }

    /// <summary>
    /// Where the source stands once this event is taken (<see cref="ISourceWriter.WritePayloadAsync(ReadOnlyMemory{byte}, IReadOnlyDictionary{string, object?}?, string, CancellationToken)"/>):
    /// kept in the rule's checkpoints; null when the source gives none.
    /// </summary>
    public string? Position { get; init; }

    /// <summary>How many rows it weighs in a row-bounded buffer: a batch its size, anything else one.</summary>
    public int RowCount => Rows?.Count ?? Payloads?.Count ?? 1;
}

/// <summary>A receiver of a memory topic.</summary>
internal interface IMemorySubscriber
{
    /// <summary>Takes one message; waits while the receiver's buffer is full (backpressure).</summary>
    ValueTask DeliverAsync(MemoryMessage message, CancellationToken cancellationToken);
}
