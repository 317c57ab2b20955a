using System.Text.Json;
using EdgeStream.Abstractions;

namespace EdgeStream.Runtime.Json;

/// <summary>
/// Decodes JSON into <see cref="Value"/>s with one forward pass of <see cref="Utf8JsonReader"/>: integers stay
/// 64-bit integers, numbers with a fraction or exponent become floats, objects keep their key order.
/// </summary>
/// <remarks>
/// Hostile input is refused with a <see cref="JsonException"/> naming what is wrong: nesting deeper than
/// <see cref="InputLimits.MaxNestingDepth"/>, a string or key longer than <see cref="InputLimits.MaxStringLength"/>,
/// a number beyond a 64-bit float (<c>1e400</c>), invalid UTF-8. A key given twice keeps its last value (at its first
/// place), as Go's <c>encoding/json</c> does. An integer beyond 64 bits becomes a float.
/// </remarks>
internal static class JsonValueReader
{
    /// <summary>Parses one JSON value. Throws <see cref="JsonException"/> on malformed input.</summary>
    public static Value Parse(ReadOnlySpan<byte> utf8, InputLimits? limits = null)
    {
        var bounds = limits ?? InputLimits.Default;
        var reader = new Utf8JsonReader(utf8, Options(bounds));
        try
        {
            if (!reader.Read())
            {
                throw new JsonException("empty JSON document");
            }

            var value = ReadValue(ref reader, bounds);
            if (reader.Read())
            {
                throw new JsonException($"unexpected data after the JSON value at byte {reader.TokenStartIndex}");
            }

            return value;
        }
        catch (InvalidOperationException e)
        {
            throw InvalidText(e);
        }
    }

    public static Value Parse(string json) => Parse(System.Text.Encoding.UTF8.GetBytes(json));

    private static JsonReaderOptions Options(InputLimits limits) => new() { MaxDepth = limits.MaxNestingDepth + 1 };

    /// <summary><see cref="Utf8JsonReader"/> refuses to transcode a string that is not UTF-8 with an InvalidOperationException.</summary>
    private static JsonException InvalidText(InvalidOperationException e) => new($"invalid UTF-8 in a string ({e.Message})", e);

    /// <summary>
    /// Decodes a JSON object straight into a row of <paramref name="schema"/>: each key to its slot (added to a growing
    /// schema; ignored by a fixed one), known keys looked up without allocating.
    /// </summary>
    public static Row ReadRow(ReadOnlySpan<byte> utf8, RowSchema schema, long timestamp, InputLimits? limits = null)
    {
        try
        {
            return ReadObjectRow(utf8, schema, timestamp, limits ?? InputLimits.Default);
        }
        catch (InvalidOperationException e)
        {
            throw InvalidText(e);
        }
    }

    private static Row ReadObjectRow(ReadOnlySpan<byte> utf8, RowSchema schema, long timestamp, InputLimits limits)
    {
        var reader = new Utf8JsonReader(utf8, Options(limits));
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
            var slot = SlotOf(ref reader, schema, buffer, limits);
            reader.Read();
            Put(ref values, ref size, slot, ReadValue(ref reader, limits));
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

    private static int SlotOf(ref Utf8JsonReader reader, RowSchema schema, scoped Span<char> buffer, InputLimits limits)
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

        return schema.GetOrAdd(Text(ref reader, limits));
    }

    /// <summary>The current string or key, refused when longer than the limit.</summary>
    private static string Text(ref Utf8JsonReader reader, InputLimits limits)
    {
        var text = reader.GetString()!;
        return text.Length <= limits.MaxStringLength
            ? text
            : throw new JsonException($"a string of {text.Length} characters is longer than the limit of {limits.MaxStringLength} (EdgeStreamLimits.MaxStringLength)");
    }

    /// <summary>Refuses an object or array nested deeper than the limit (the reader is on its start).</summary>
    private static void CheckDepth(ref Utf8JsonReader reader, InputLimits limits)
    {
        if (reader.CurrentDepth >= limits.MaxNestingDepth)
        {
            throw new JsonException($"values nest deeper than the limit of {limits.MaxNestingDepth} levels (EdgeStreamLimits.MaxNestingDepth)");
        }
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

    private static Value ReadValue(ref Utf8JsonReader reader, InputLimits limits)
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
                return Value.From(Text(ref reader, limits));
            case JsonTokenType.Number:
                ReadOnlySpan<byte> raw = reader.HasValueSequence ? System.Buffers.BuffersExtensions.ToArray(reader.ValueSequence) : reader.ValueSpan;
                if (raw.IndexOfAny(".eE"u8) < 0 && reader.TryGetInt64(out var integer))
                {
                    return Value.From(integer);
                }

                return reader.TryGetDouble(out var number) && double.IsFinite(number)
                    ? Value.From(number)
                    : throw new JsonException($"the number {System.Text.Encoding.UTF8.GetString(raw[..Math.Min(raw.Length, 40)])} is beyond the range of a 64-bit float");
            case JsonTokenType.StartArray:
                CheckDepth(ref reader, limits);
                var items = new List<Value>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    items.Add(ReadValue(ref reader, limits));
                }

                return Value.From(items.ToArray());
            case JsonTokenType.StartObject:
                CheckDepth(ref reader, limits);
                var obj = new ValueObject();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                {
                    var name = Text(ref reader, limits);
                    reader.Read();
                    obj[name] = ReadValue(ref reader, limits);
                }

                return Value.From(obj);
            default:
                throw new JsonException($"unexpected JSON token {reader.TokenType}");
        }
    }
}
