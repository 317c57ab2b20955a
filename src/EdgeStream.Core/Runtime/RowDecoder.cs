using System.Globalization;
using System.Text.Json;
using EdgeStream.Abstractions;
using EdgeStream.Compilation;
using EdgeStream.Planning;
using EdgeStream.Runtime.Json;
using EdgeStream.Runtime.Memory;
using EdgeStream.Sql;

namespace EdgeStream.Runtime;

/// <summary>One decoded event: its row, or the error and the payload it came from.</summary>
internal readonly record struct DecodeResult(Row? Row, string? Error, Value Payload);

/// <summary>
/// Turns what a stream receives into rows of its schema. A typed stream converts each declared column to its type,
/// best effort by default and strictly with <c>STRICT_VALIDATION="true"</c> (a mismatch is then an error, as in
/// eKuiper's preprocessor); a schemaless stream takes every field as it comes.
/// </summary>
internal sealed class RowDecoder
{
    private readonly StreamDefinition stream;
    private readonly SqlType[] columnTypes;
    private readonly bool[] strict;
    private readonly InputLimits limits;

    /// <param name="stream">The stream's declaration.</param>
    /// <param name="used">The columns the rule reads; null for all (a <c>*</c>). As in eKuiper, strict validation
    /// checks only these: a mistyped field the rule never reads does not make the event an error.</param>
    /// <param name="format">Decodes payloads; null for the built-in JSON.</param>
    /// <param name="limits">Bounds on payloads; the defaults when null.</param>
    public RowDecoder(StreamDefinition stream, IReadOnlySet<string>? used = null, IFormat? format = null, InputLimits? limits = null)
    {
        this.stream = stream;
        this.limits = limits ?? InputLimits.Default;
        Format = format;
        Schema = stream.IsSchemaless ? RowSchema.Growing() : RowSchema.Fixed(stream.Columns.Select(c => c.Name));
        columnTypes = stream.Columns.Select(c => c.Type).ToArray();
        strict = stream.Columns.Select(c => stream.StrictValidation && (used is null || used.Contains(c.Name))).ToArray();
    }

    public RowSchema Schema { get; }

    /// <summary>How a schema validation error (<c>STRICT_VALIDATION</c>) starts, as eKuiper words it.</summary>
    public const string ValidationErrorPrefix = "error in preprocessor: ";

    /// <summary>The stream's payload format; null for the built-in JSON.</summary>
    public IFormat? Format { get; }

    /// <summary>
    /// Decodes every event a message carries (a payload may hold several: a JSON array, a format's batch) into
    /// <paramref name="results"/>, each a row or an error with the event's payload. Never throws for bad input.
    /// </summary>
    public void DecodeAll(MemoryMessage message, long timestamp, List<DecodeResult> results)
    {
        if (message.ArrivedAt != 0)
        {
            timestamp = message.ArrivedAt;
        }

        if (message.Decoded is { } decoded)
        {
            results.Add(new(decoded, null, default));
        }
        else if (message.Error is { } error)
        {
            results.Add(new(null, error, message.Row is { } fields ? Value.From(fields) : PayloadText(message)));
        }
        else if (message.Rows is { } rows)
        {
            foreach (var fields in rows)
            {
                Add(fields, Value.From(fields));
            }
        }
        else if (message.Row is { } one)
        {
            Add(one, Value.From(one));
        }
        else if (message.Payloads is { } payloads)
        {
            for (var i = 0; i < payloads.Count; i++)
            {
                DecodePayload(message with { Payloads = null, Json = payloads[i] }, timestamp, results);
            }
        }
        else
        {
            DecodePayload(message, timestamp, results);
        }

        void Add(ValueObject fields, Value payload)
        {
            var ok = TryDecodeRow(fields, timestamp, out var row, out var failure);
            results.Add(ok ? new(WithMeta(row, message), null, default) : new(null, failure, payload));
        }
    }

    /// <summary>One payload: a JSON object, a JSON array of them, or whatever the stream's format decodes.</summary>
    private void DecodePayload(MemoryMessage message, long timestamp, List<DecodeResult> results)
    {
        if (message.Json.Length > limits.MaxPayloadBytes)
        {
            results.Add(new(null, $"decode error: the payload of {message.Json.Length} bytes is larger than the limit of {limits.MaxPayloadBytes} (EdgeStreamLimits.MaxPayloadBytes)", PayloadText(message)));
            return;
        }

        if (Format is not null || StartsWith(message.Json.Span, (byte)'['))
        {
            DecodeBatch(message, timestamp, results);
            return;
        }

        var ok = TryDecodeOne(message, timestamp, out var row, out var failure);
        results.Add(ok ? new(WithMeta(row, message), null, default) : new(null, failure, PayloadText(message)));
    }

    /// <summary>A payload that holds a list of events: a JSON array, or anything a user format decodes.</summary>
    private void DecodeBatch(MemoryMessage message, long timestamp, List<DecodeResult> results)
    {
        IEnumerable<ValueObject> events;
        try
        {
            events = Format is { } format
                ? format.Decode(message.Json).Select(d => ClrValues.FromClr(d).AsObject).ToArray()
                : JsonValueReader.Parse(message.Json.Span, limits) is { Kind: ValueKind.Array } array && array.AsArray.All(v => v.Kind == ValueKind.Object)
                    ? array.AsArray.Select(v => v.AsObject).ToArray()
                    : throw new JsonException("expected an object or an array of objects");
        }
#pragma warning disable CA1031 // A user format's failure is a bad event, never the rule's end.
        catch (Exception e)
#pragma warning restore CA1031
        {
            results.Add(new(null, $"decode error: {(Format is null ? "invalid JSON: " : string.Empty)}{e.Message}", PayloadText(message)));
            return;
        }

        foreach (var fields in events)
        {
            var ok = TryDecodeRow(fields, timestamp, out var row, out var failure);
            results.Add(ok ? new(WithMeta(row, message), null, default) : new(null, failure, Value.From(fields)));
        }
    }

    private static Row WithMeta(Row row, MemoryMessage message)
    {
        if (message.Meta is { } meta)
        {
            row.Meta = meta;
        }

        return row;
    }

    /// <summary>The payload for a dead letter: its text, or its bytes when it is not UTF-8 (kept exactly, never replaced).</summary>
    private static Value PayloadText(MemoryMessage message) => System.Text.Unicode.Utf8.IsValid(message.Json.Span)
        ? Value.From(System.Text.Encoding.UTF8.GetString(message.Json.Span))
        : Value.From(message.Json.ToArray());

    private static bool StartsWith(ReadOnlySpan<byte> utf8, byte first)
    {
        var trimmed = utf8.TrimStart(" \t\r\n"u8);
        return trimmed.Length > 0 && trimmed[0] == first;
    }

    /// <summary>Decodes a message that carries one event; false with the error's text when it cannot be.</summary>
    public bool TryDecodeOne(MemoryMessage message, long timestamp, out Row row, out string error)
    {
        // Written out rather than through a shared helper taking a delegate: this runs per event, allocation-free.
        try
        {
            (row, error) = (DecodeOne(message, timestamp), string.Empty);
            return true;
        }
        catch (EvaluationException e)
        {
            (row, error) = (null!, e.Message);
            return false;
        }
    }

    /// <summary>Decodes one row of another rule's emission; false with the error's text when it does not fit.</summary>
    public bool TryDecodeRow(ValueObject fields, long timestamp, out Row row, out string error)
    {
        try
        {
            (row, error) = (Convert(fields, timestamp), string.Empty);
            return true;
        }
        catch (EvaluationException e)
        {
            (row, error) = (null!, e.Message);
            return false;
        }
    }

    /// <summary>Decodes a message that carries one event (a row or a JSON payload).</summary>
    /// <exception cref="EvaluationException">The payload cannot be decoded or does not fit the schema.</exception>
    public Row DecodeOne(MemoryMessage message, long timestamp)
    {
        if (message.Row is { } row)
        {
            return Convert(row, timestamp);
        }

        Row decoded;
        try
        {
            decoded = JsonValueReader.ReadRow(message.Json.Span, Schema, timestamp, limits);
        }
        catch (JsonException e)
        {
            throw new EvaluationException($"decode error: invalid JSON: {e.Message}");
        }

        return stream.IsSchemaless ? decoded : ConvertColumns(decoded);
    }

    private Row Convert(ValueObject fields, long timestamp)
    {
        var row = JsonValueReader.ToRow(fields, Schema, timestamp);
        return stream.IsSchemaless ? row : ConvertColumns(row);
    }

    private Row ConvertColumns(Row row)
    {
        var values = row.Values.Length == columnTypes.Length ? row.Values : Resize(row.Values);
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = ConvertColumn(i, values[i]);
        }

        return ReferenceEquals(values, row.Values) ? row : new Row(Schema, values, row.Timestamp);
    }

    private Value[] Resize(Value[] values)
    {
        var resized = new Value[columnTypes.Length];
        values.CopyTo(resized, 0);
        return resized;
    }

    private Value ConvertColumn(int slot, Value value)
    {
        if (value.IsNull)
        {
            return value;
        }

        var type = columnTypes[slot];
        var converted = type.Kind switch
        {
            SqlTypeKind.Bigint => value.Kind switch
            {
                ValueKind.Integer => value,
                ValueKind.Float when Math.Floor(value.AsFloat) == value.AsFloat && Math.Abs(value.AsFloat) < 9.2e18 => Value.From((long)value.AsFloat),
                _ => (Value?)null,
            },
            SqlTypeKind.Float => value.Kind switch
            {
                ValueKind.Float => value,
                ValueKind.Integer => Value.From((double)value.AsInteger),
                _ => null,
            },
            SqlTypeKind.String => value.Kind == ValueKind.String ? value : null,
            SqlTypeKind.Boolean => value.Kind == ValueKind.Boolean ? value : null,
            SqlTypeKind.Datetime => value.Kind switch
            {
                ValueKind.Datetime => value,
                ValueKind.Integer => Value.FromDatetime(value.AsInteger),
                ValueKind.Float => Value.FromDatetime((long)value.AsFloat),
                ValueKind.String when DateTimeOffset.TryParse(value.AsString, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var dt)
                    => Value.FromDatetime(dt.ToUnixTimeMilliseconds()),
                _ => null,
            },
            SqlTypeKind.Bytea => value.Kind switch
            {
                ValueKind.Bytes => value,
                ValueKind.String when TryBase64(value.AsString, out var bytes) => Value.From(bytes),
                _ => null,
            },
            SqlTypeKind.Array => value.Kind == ValueKind.Array ? value : null,
            SqlTypeKind.Struct => value.Kind == ValueKind.Object ? value : null,
            _ => value,
        };

        if (converted is { } ok)
        {
            return ok;
        }

        if (strict[slot])
        {
            throw new EvaluationException(
                $"{ValidationErrorPrefix}field {stream.Columns[slot].Name} type mismatch: cannot convert {value.Describe()} to {GoTypeName(type)}");
        }

        return value;
    }

    private static bool TryBase64(string text, out byte[] bytes)
    {
        bytes = new byte[text.Length];
        if (System.Convert.TryFromBase64String(text, bytes, out var written))
        {
            Array.Resize(ref bytes, written);
            return true;
        }

        return false;
    }

    private static string GoTypeName(SqlType type) => type.Kind switch
    {
        SqlTypeKind.Bigint => "int64",
        SqlTypeKind.Float => "float64",
        SqlTypeKind.String => "string",
        SqlTypeKind.Boolean => "bool",
        SqlTypeKind.Datetime => "datetime",
        SqlTypeKind.Bytea => "bytea",
        _ => type.ToString(),
    };
}
