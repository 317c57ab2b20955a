namespace EdgeStream;

/// <summary>
/// A payload format: how a stream's payloads become rows (<c>CREATE STREAM … WITH (FORMAT="name")</c>) and how a
/// sink's rows become payloads (the sink property <c>format</c>). <c>json</c> is built in; register others with
/// <see cref="EdgeStreamEngine.RegisterFormat"/> or <c>AddFormat</c> on the DI builder.
/// </summary>
/// <remarks>
/// Threading: one instance serves every stream and sink of the engine; its methods may run concurrently.
/// A payload that cannot be decoded should make <see cref="Decode"/> throw (any exception): the event is counted,
/// reported and sent to <see cref="EdgeStreamEngine.DeadLetterTopic"/>, and the rule goes on.
/// </remarks>
public interface IFormat
{
    /// <summary>Decodes one payload into the events it holds (usually one).</summary>
    /// <param name="payload">The payload.</param>
    /// <returns>Each event's fields as plain values (numbers, strings, booleans, byte arrays, arrays, dictionaries).</returns>
    IReadOnlyList<IReadOnlyDictionary<string, object?>> Decode(ReadOnlyMemory<byte> payload);

    /// <summary>
    /// Encodes the rows of one outgoing message. With the sink property <c>sendSingle</c> a message is one row and
    /// <paramref name="asSingleRow"/> is true (JSON writes an object); otherwise it is the rows of one emission or batch
    /// (JSON writes an array).
    /// </summary>
    /// <param name="rows">The rows: column name to plain value.</param>
    /// <param name="asSingleRow">Whether the message is one row rather than a list of rows.</param>
    /// <returns>The payload.</returns>
    ReadOnlyMemory<byte> Encode(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows, bool asSingleRow);
}
