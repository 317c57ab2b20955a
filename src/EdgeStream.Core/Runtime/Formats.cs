using EdgeStream.Abstractions;

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

/// <summary>
/// eKuiper's <c>delimited</c> format: text whose fields are separated by a delimiter (<c>,</c> by default; the stream
/// option <c>DELIMITER</c> or the sink property <c>delimiter</c>), one event per line.
/// </summary>
/// <remarks>
/// Decoding, as eKuiper does: the n-th field goes to the stream's n-th column (fields beyond the schema are ignored,
/// missing ones are null), or to <c>col0</c>, <c>col1</c>, … on a schemaless stream, where every value is a string.
/// Unlike eKuiper, each line of a payload is its own event (a trailing newline or <c>\r\n</c> is not part of the last
/// field), and a typed column's text is parsed to its type (<c>BIGINT</c>, <c>FLOAT</c>, <c>BOOLEAN</c>); an empty
/// field of a non-string column is null. Text that does not parse stays a string, so <c>STRICT_VALIDATION</c> reports it.
/// There is no quoting: a delimiter inside a value cannot be written or read, as in eKuiper.
/// Encoding writes each row's values in column order (the row's, or the sink's <c>fields</c>; eKuiper sorts the names),
/// one line per row, after a header line of the names when <c>hasHeader</c> is true: null as an empty field, floats as
/// Go writes them, bytes in base64, arrays and objects as JSON.
/// </remarks>
internal sealed class DelimitedFormat : IFormat
{
    private readonly string delimiter;
    private readonly (string Name, Sql.SqlTypeKind Kind)[]? columns;
    private readonly bool hasHeader;

    /// <param name="delimiter">The separator; the text <c>\t</c> stands for a tab.</param>
    /// <param name="columns">The stream's columns; null for a schemaless stream.</param>
    /// <param name="hasHeader">Whether encoded payloads start with a line of the column names.</param>
    public DelimitedFormat(string? delimiter, IEnumerable<Sql.Ast.ColumnDefinition>? columns = null, bool hasHeader = false)
    {
        this.delimiter = delimiter switch
        {
            null or "" => ",",
            "\\t" => "\t",
            _ => delimiter,
        };
        this.columns = columns?.Select(c => (c.Name, c.Type.Kind)).ToArray();
        this.hasHeader = hasHeader;
    }

    /// <summary>The format as a sink's properties <c>delimiter</c> and <c>hasHeader</c> configure it.</summary>
    /// <exception cref="ArgumentException"><c>hasHeader</c> is not a boolean.</exception>
    public static DelimitedFormat ForSink(IReadOnlyDictionary<string, string> properties)
    {
        var header = false;
        if (properties.TryGetValue("hasHeader", out var text) && !bool.TryParse(text, out header))
        {
            throw new ArgumentException($"sink property `hasHeader` must be true or false, not `{text}`", nameof(properties));
        }

        return new DelimitedFormat(properties.GetValueOrDefault("delimiter"), null, header);
    }

    public IReadOnlyList<IReadOnlyDictionary<string, object?>> Decode(ReadOnlyMemory<byte> payload)
    {
        var text = System.Text.Encoding.UTF8.GetString(payload.Span);
        var events = new List<IReadOnlyDictionary<string, object?>>(1);
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            if (!line.IsEmpty)
            {
                events.Add(DecodeLine(line.ToString()));
            }
        }

        return events.Count > 0 ? events : throw new FormatException("the payload holds no line of delimited text");
    }

    private Dictionary<string, object?> DecodeLine(string line)
    {
        var tokens = line.Split(delimiter);
        var map = new Dictionary<string, object?>(tokens.Length, StringComparer.Ordinal);
        if (columns is null)
        {
            for (var i = 0; i < tokens.Length; i++)
            {
                map["col" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)] = tokens[i];
            }

            return map;
        }

        for (var i = 0; i < columns.Length && i < tokens.Length; i++)
        {
            map[columns[i].Name] = Parse(tokens[i], columns[i].Kind);
        }

        return map;
    }

    private static object? Parse(string token, Sql.SqlTypeKind kind)
    {
        if (kind is Sql.SqlTypeKind.String)
        {
            return token;
        }

        var text = token.Trim();
        if (text.Length == 0)
        {
            return null;
        }

        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        switch (kind)
        {
            case Sql.SqlTypeKind.Bigint when long.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, invariant, out var integer):
                return integer;
            case Sql.SqlTypeKind.Bigint or Sql.SqlTypeKind.Float or Sql.SqlTypeKind.Datetime
                when Functions.Builtins.ConversionFunctions.TryParseGoFloat(text, out var number):
                return number;
            case Sql.SqlTypeKind.Boolean:
                return text switch
                {
                    "1" or "t" or "T" or "true" or "TRUE" or "True" => true,
                    "0" or "f" or "F" or "false" or "FALSE" or "False" => false,
                    _ => token,
                };
            default:
                return token;
        }
    }

    public ReadOnlyMemory<byte> Encode(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows, bool asSingleRow)
    {
        var text = new System.Text.StringBuilder();
        if (hasHeader && rows.Count > 0)
        {
            text.AppendJoin(delimiter, rows[0].Keys).Append('\n');
        }

        for (var r = 0; r < rows.Count; r++)
        {
            if (r > 0)
            {
                text.Append('\n');
            }

            var first = true;
            foreach (var value in rows[r].Values)
            {
                if (!first)
                {
                    text.Append(delimiter);
                }

                first = false;
                text.Append(Text(value));
            }
        }

        return System.Text.Encoding.UTF8.GetBytes(text.ToString());
    }

    private static string Text(object? clr)
    {
        var value = ClrValues.FromClr(clr);
        return value.Kind switch
        {
            ValueKind.Null => string.Empty,
            ValueKind.String => value.AsString,
            ValueKind.Boolean => value.AsBoolean ? "true" : "false",
            ValueKind.Integer => value.AsInteger.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ValueKind.Float => Functions.Builtins.GoText.FixedFloat(value.AsFloat),
            ValueKind.Bytes => System.Convert.ToBase64String(value.AsBytes),
            ValueKind.Datetime => value.AsDateTimeOffset.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            _ => Json.JsonValueWriter.ToJson(value),
        };
    }
}
