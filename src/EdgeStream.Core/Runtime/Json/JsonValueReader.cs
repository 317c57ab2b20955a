using System.Text.Json;
using EdgeStream.Abstractions;

namespace EdgeStream.Runtime.Json;

/// <summary>
/// Decodes JSON into <see cref="Value"/>s with one forward pass of <see cref="Utf8JsonReader"/>: integers stay
/// 64-bit integers, numbers with a fraction or exponent become floats, objects keep their key order.
/// </summary>
internal static class JsonValueReader
{
    /// <summary>Parses one JSON value. Throws <see cref="JsonException"/> on malformed input.</summary>
    public static Value Parse(ReadOnlySpan<byte> utf8)
    {
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = 256 });
        if (!reader.Read())
        {
            throw new JsonException("empty JSON document");
        }

        var value = ReadValue(ref reader);
        if (reader.Read())
        {
            throw new JsonException($"unexpected data after the JSON value at byte {reader.TokenStartIndex}");
        }

        return value;
    }

    public static Value Parse(string json) => Parse(System.Text.Encoding.UTF8.GetBytes(json));

    /// <summary>
    /// Decodes a JSON object straight into a row of <paramref name="schema"/>: each key to its slot (added to a growing
    /// schema; ignored by a fixed one), known keys looked up without allocating.
    /// </summary>
    public static Row ReadRow(ReadOnlySpan<byte> utf8, RowSchema schema, long timestamp)
    {
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = 256 });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException(reader.TokenType == JsonTokenType.None
                ? "empty JSON document"
                : $"expected a JSON object, got {reader.TokenType}");
        }

        var values = new Value[Math.Max(schema.Count, 4)];
        var size = 0;
        Span<char> buffer = stackalloc char[128];
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var slot = SlotOf(ref reader, schema, buffer);
            reader.Read();
            Put(ref values, ref size, slot, ReadValue(ref reader));
        }

        if (reader.Read())
        {
            throw new JsonException($"unexpected data after the JSON object at byte {reader.TokenStartIndex}");
        }

        if (values.Length != size)
        {
            Array.Resize(ref values, size);
        }

        return new Row(schema, values, timestamp);
    }

    /// <summary>Stores a value at its slot (a negative slot, a name the schema does not take, is skipped), growing the array.</summary>
    private static void Put(ref Value[] values, ref int size, int slot, Value value)
    {
        if (slot < 0)
        {
            return;
        }

        if (slot >= values.Length)
        {
            Array.Resize(ref values, Math.Max(slot + 1, values.Length * 2));
        }

        values[slot] = value;
        size = Math.Max(size, slot + 1);
    }

    private static int SlotOf(ref Utf8JsonReader reader, RowSchema schema, scoped Span<char> buffer)
    {
        var length = reader.HasValueSequence ? (int)reader.ValueSequence.Length : reader.ValueSpan.Length;
        if (length <= buffer.Length && !reader.ValueIsEscaped)
        {
            var written = reader.CopyString(buffer);
            if (schema.TryGetSlot(buffer[..written], out var known))
            {
                return known;
            }
        }

        return schema.GetOrAdd(reader.GetString()!);
    }

    public static Row ToRow(ValueObject fields, RowSchema schema, long timestamp)
    {
        var values = new Value[Math.Max(schema.Count, fields.Count)];
        var size = 0;
        for (var i = 0; i < fields.Count; i++)
        {
            Put(ref values, ref size, schema.SlotFor(i, fields.KeyAt(i)), fields.ValueAt(i));
        }

        if (values.Length != size)
        {
            Array.Resize(ref values, size);
        }

        return new Row(schema, values, timestamp);
    }

    private static Value ReadValue(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return Value.Null;
            case JsonTokenType.True:
                return Value.True;
            case JsonTokenType.False:
                return Value.False;
            case JsonTokenType.String:
                return Value.From(reader.GetString());
            case JsonTokenType.Number:
                ReadOnlySpan<byte> raw = reader.HasValueSequence ? System.Buffers.BuffersExtensions.ToArray(reader.ValueSequence) : reader.ValueSpan;
                return raw.IndexOfAny(".eE"u8) < 0 && reader.TryGetInt64(out var integer)
                    ? Value.From(integer)
                    : Value.From(reader.GetDouble());
            case JsonTokenType.StartArray:
                var items = new List<Value>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    items.Add(ReadValue(ref reader));
                }

                return Value.From(items.ToArray());
            case JsonTokenType.StartObject:
                var obj = new ValueObject();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                {
                    var name = reader.GetString()!;
                    reader.Read();
                    obj[name] = ReadValue(ref reader);
                }

                return Value.From(obj);
            default:
                throw new JsonException($"unexpected JSON token {reader.TokenType}");
        }
    }
}
