namespace EdgeStream.Runtime;

/// <summary>
/// eKuiper's <c>binary</c> format: the whole payload is one event with one field, <c>self</c>, holding the bytes
/// (images, opaque device frames). Encoding takes a row's one bytes field back to a payload.
/// </summary>
internal sealed class BinaryFormat : IFormat
{
    public const string Field = "self";

    public IReadOnlyList<IReadOnlyDictionary<string, object?>> Decode(ReadOnlyMemory<byte> payload) =>
        [new Dictionary<string, object?>(1, StringComparer.Ordinal) { [Field] = payload.ToArray() }];

    public ReadOnlyMemory<byte> Encode(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows, bool asSingleRow) =>
        rows is [{ Count: 1 } row] && row.Values.First() is byte[] bytes
            ? bytes
            : throw new FormatException("the binary format encodes one row with one bytes field (use sendSingle and fields or dataField to pick it)");
}
