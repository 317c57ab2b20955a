using EdgeStream.Abstractions;

namespace EdgeStream.Runtime;

/// <summary>
/// Writes a rule's state (window rows and aggregates, the watermark's buffer, tables, running totals) to a compact
/// binary snapshot that <see cref="RuleStateReader"/> reads back exactly: every value keeps its kind (an integer stays
/// an integer, a datetime a datetime, bytes bytes). Rows are written with their field names, so a snapshot is read into
/// the restoring rule's own schemas.
/// </summary>
internal sealed class RuleStateWriter : IDisposable
{
    /// <summary>The format's first bytes and version; a reader refuses anything else.</summary>
    public const int Magic = 0x45535331; // "ESS1"

    private readonly MemoryStream stream = new();

    public RuleStateWriter()
    {
        Writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        Writer.Write(Magic);
    }

    public BinaryWriter Writer { get; }

    public byte[] ToArray()
    {
        Writer.Flush();
        return stream.ToArray();
    }

    public void Dispose()
    {
        Writer.Dispose();
        stream.Dispose();
    }

    public void Write(long value) => Writer.Write(value);

    public void Write(int value) => Writer.Write(value);

    public void Write(bool value) => Writer.Write(value);

    public void Write(string? value)
    {
        Writer.Write(value is not null);
        if (value is not null)
        {
            Writer.Write(value);
        }
    }

    public void Write(Value value)
    {
        Writer.Write((byte)value.Kind);
        switch (value.Kind)
        {
            case ValueKind.Null:
                break;
            case ValueKind.Boolean:
                Writer.Write(value.AsBoolean);
                break;
            case ValueKind.Integer:
            case ValueKind.Datetime:
                Writer.Write(value.AsInteger);
                break;
            case ValueKind.Float:
                Writer.Write(value.AsFloat);
                break;
            case ValueKind.String:
                Writer.Write(value.AsString);
                break;
            case ValueKind.Bytes:
                Writer.Write(value.AsBytes.Length);
                Writer.Write(value.AsBytes);
                break;
            case ValueKind.Array:
                Write(value.AsArray);
                break;
            case ValueKind.Object:
                Write(value.AsObject);
                break;
        }
    }

    public void Write(Value[] values)
    {
        Writer.Write(values.Length);
        foreach (var value in values)
        {
            Write(value);
        }
    }

    public void Write(ValueObject fields)
    {
        Writer.Write(fields.Count);
        foreach (var (key, value) in fields.Fields)
        {
            Writer.Write(key);
            Write(value);
        }
    }

    /// <summary>A row: its time, source and fields by name (nulls left out), and its metadata.</summary>
    public void Write(Row row)
    {
        Writer.Write(row.Timestamp);
        Writer.Write(row.Source);
        var present = 0;
        for (var slot = 0; slot < row.Values.Length; slot++)
        {
            present += row.Values[slot].IsNull ? 0 : 1;
        }

        Writer.Write(present);
        for (var slot = 0; slot < row.Values.Length; slot++)
        {
            if (!row.Values[slot].IsNull)
            {
                Writer.Write(row.Schema.NameAt(slot));
                Write(row.Values[slot]);
            }
        }

        Writer.Write(row.Meta is not null);
        if (row.Meta is { } meta)
        {
            Write(meta);
        }
    }

    /// <summary>A row and the time it counts at in its window.</summary>
    public void Write(List<(Row Row, long At)> rows)
    {
        Writer.Write(rows.Count);
        foreach (var (row, at) in rows)
        {
            Write(row);
            Writer.Write(at);
        }
    }

    /// <summary>A GROUP BY or PARTITION BY key (see <see cref="RulePlan.KeyValues"/>).</summary>
    public void WriteKey(object key)
    {
        var values = RulePlan.KeyValues(key);
        Writer.Write(values is not null);
        if (values is not null)
        {
            Write(values);
        }
    }
}

/// <summary>Reads what <see cref="RuleStateWriter"/> wrote, into the restoring rule's schemas.</summary>
internal sealed class RuleStateReader : IDisposable
{
    private readonly IReadOnlyList<RowSchema> schemas;

    /// <exception cref="FormatException">The bytes are not a rule snapshot of this format.</exception>
    public RuleStateReader(byte[] state, IReadOnlyList<RowSchema> schemas)
    {
        this.schemas = schemas;
        Reader = new BinaryReader(new MemoryStream(state, writable: false), System.Text.Encoding.UTF8);
        if (state.Length < 4 || Reader.ReadInt32() != RuleStateWriter.Magic)
        {
            throw new FormatException("not an EdgeStream rule snapshot (or one of another version)");
        }
    }

    public BinaryReader Reader { get; }

    public void Dispose() => Reader.Dispose();

    public long ReadLong() => Reader.ReadInt64();

    public int ReadInt() => Reader.ReadInt32();

    public bool ReadBool() => Reader.ReadBoolean();

    public string? ReadString() => Reader.ReadBoolean() ? Reader.ReadString() : null;

    public Value ReadValue()
    {
        var kind = (ValueKind)Reader.ReadByte();
        return kind switch
        {
            ValueKind.Null => Value.Null,
            ValueKind.Boolean => Value.From(Reader.ReadBoolean()),
            ValueKind.Integer => Value.From(Reader.ReadInt64()),
            ValueKind.Datetime => Value.FromDatetime(Reader.ReadInt64()),
            ValueKind.Float => Value.From(Reader.ReadDouble()),
            ValueKind.String => Value.From(Reader.ReadString()),
            ValueKind.Bytes => Value.From(Reader.ReadBytes(Reader.ReadInt32())),
            ValueKind.Array => Value.From(ReadValues()),
            ValueKind.Object => Value.From(ReadObject()),
            _ => throw new FormatException($"unknown value kind {(byte)kind} in a rule snapshot"),
        };
    }

    public Value[] ReadValues()
    {
        var values = new Value[Reader.ReadInt32()];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = ReadValue();
        }

        return values;
    }

    public ValueObject ReadObject()
    {
        var count = Reader.ReadInt32();
        var fields = new ValueObject(count);
        for (var i = 0; i < count; i++)
        {
            var key = Reader.ReadString();
            fields[key] = ReadValue();
        }

        return fields;
    }

    /// <summary>A row, into its source's schema; a field the schema has no slot for (a fixed schema that changed) is dropped.</summary>
    public Row ReadRow()
    {
        var timestamp = Reader.ReadInt64();
        var source = Reader.ReadInt32();
        var schema = schemas[source];
        var count = Reader.ReadInt32();
        var fields = new List<(int Slot, Value Value)>(count);
        for (var i = 0; i < count; i++)
        {
            var name = Reader.ReadString();
            var value = ReadValue();
            var slot = schema.IsFixed ? (schema.TryGetSlot(name, out var s) ? s : -1) : schema.GetOrAdd(name);
            if (slot >= 0)
            {
                fields.Add((slot, value));
            }
        }

        var values = new Value[schema.Count];
        foreach (var (slot, value) in fields)
        {
            if (slot < values.Length)
            {
                values[slot] = value;
            }
        }

        var row = new Row(schema, values, timestamp) { Source = source };
        if (Reader.ReadBoolean())
        {
            row.Meta = ReadObject();
        }

        return row;
    }

    public List<(Row Row, long At)> ReadRows()
    {
        var count = Reader.ReadInt32();
        var rows = new List<(Row Row, long At)>(count);
        for (var i = 0; i < count; i++)
        {
            var row = ReadRow();
            rows.Add((row, Reader.ReadInt64()));
        }

        return rows;
    }

    public object ReadKey() => RulePlan.KeyFrom(Reader.ReadBoolean() ? ReadValues() : null);
}
