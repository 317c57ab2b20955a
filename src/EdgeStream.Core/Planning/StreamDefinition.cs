using System.Collections.Frozen;
using System.Globalization;
using EdgeStream.Sql;
using EdgeStream.Sql.Ast;

namespace EdgeStream.Planning;

/// <summary>
/// A declared stream or table: its columns (none for a schemaless stream) and its validated <c>WITH</c> options.
/// </summary>
internal sealed class StreamDefinition
{
    /// <summary>The <c>WITH</c> options eKuiper documents, and whether each applies to tables only.</summary>
    internal static readonly FrozenDictionary<string, bool> KnownOptions = new Dictionary<string, bool>
    {
        ["DATASOURCE"] = false, ["FORMAT"] = false, ["KEY"] = false, ["TYPE"] = false, ["SHARED"] = false,
        ["TIMESTAMP"] = false, ["TIMESTAMP_FORMAT"] = false, ["CONF_KEY"] = false, ["STRICT_VALIDATION"] = false,
        ["SCHEMAID"] = false, ["DELIMITER"] = false, ["EXTRA"] = false, ["VERSION"] = false, ["TEMP"] = false,
        ["RETAIN_SIZE"] = true, ["KIND"] = true,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private readonly Dictionary<string, ColumnDefinition> columnsByName;

    private StreamDefinition(CreateStreamStatement statement, FrozenDictionary<string, string> options)
    {
        Statement = statement;
        Options = options;
        columnsByName = new Dictionary<string, ColumnDefinition>(StringComparer.Ordinal);
        foreach (var column in statement.Columns)
        {
            columnsByName[column.Name] = column;
        }
    }

    public CreateStreamStatement Statement { get; }

    public string Name => Statement.Name;

    public bool IsTable => Statement.IsTable;

    /// <summary>A stream declared with <c>()</c>: any field is accepted and typed at run time.</summary>
    public bool IsSchemaless => Statement.Columns.IsEmpty;

    public NodeList<ColumnDefinition> Columns => Statement.Columns;

    /// <summary>Options by upper-case name.</summary>
    public FrozenDictionary<string, string> Options { get; }

    public string? Option(string name) => Options.TryGetValue(name, out var value) ? value : null;

    public bool Shared => IsTrue(Option("SHARED"));

    public bool StrictValidation => IsTrue(Option("STRICT_VALIDATION"));

    public string? TimestampField => Option("TIMESTAMP");

    /// <summary>Finds a column: exact name first, then a unique case-insensitive match.</summary>
    public ColumnDefinition? FindColumn(string name)
    {
        if (columnsByName.TryGetValue(name, out var column))
        {
            return column;
        }

        ColumnDefinition? found = null;
        foreach (var c in Statement.Columns)
        {
            if (string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                if (found is not null)
                {
                    return null;
                }

                found = c;
            }
        }

        return found;
    }

    private static bool IsTrue(string? value) => string.Equals(value, "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Checks the options of a <c>CREATE</c> statement and builds the definition.</summary>
    public static StreamDefinition Create(CreateStreamStatement statement)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var option in statement.Options)
        {
            if (!KnownOptions.TryGetValue(option.Name, out var tableOnly))
            {
                throw BindError.At(option.Span, SqlErrorCode.InvalidValue,
                    $"unknown option `{option.Name}`{BindError.DidYouMean(SqlNames.Closest(option.Name, KnownOptions.Keys))}");
            }

            if (tableOnly && !statement.IsTable)
            {
                throw BindError.At(option.Span, SqlErrorCode.InvalidValue, $"option `{option.Name}` applies to tables only");
            }

            if (!options.TryAdd(option.Name, option.Value))
            {
                throw BindError.At(option.Span, SqlErrorCode.Duplicate, $"option `{option.Name}` is given twice");
            }

            CheckValue(option);
        }

        var definition = new StreamDefinition(statement, options.ToFrozenDictionary(StringComparer.Ordinal));
        if (definition.TimestampField is { } ts && !definition.IsSchemaless)
        {
            var span = statement.Options.First(o => o.Name == "TIMESTAMP").Span;
            var column = definition.FindColumn(ts) ?? throw BindError.At(span, SqlErrorCode.UnknownField,
                $"TIMESTAMP names `{ts}`, which is not a column of `{statement.Name}`{BindError.DidYouMean(SqlNames.Closest(ts, statement.Columns.Select(c => c.Name)))}");
            if (column.Type.Kind is not (SqlTypeKind.Bigint or SqlTypeKind.Datetime or SqlTypeKind.Float or SqlTypeKind.String or SqlTypeKind.Any))
            {
                throw BindError.At(span, SqlErrorCode.TypeMismatch,
                    $"TIMESTAMP column `{column.Name}` must be bigint, float, datetime or string (read with TIMESTAMP_FORMAT), not {column.Type}");
            }
        }

        return definition;
    }

    private static void CheckValue(StreamOption option)
    {
        switch (option.Name)
        {
            case "SHARED" or "STRICT_VALIDATION" or "TEMP":
                if (!bool.TryParse(option.Value, out _))
                {
                    throw BindError.At(option.Span, SqlErrorCode.InvalidValue, $"option `{option.Name}` must be \"true\" or \"false\", not \"{option.Value}\"");
                }

                break;
            case "RETAIN_SIZE":
                if (!int.TryParse(option.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var size) || size <= 0)
                {
                    throw BindError.At(option.Span, SqlErrorCode.InvalidValue, $"option `RETAIN_SIZE` must be a positive integer, not \"{option.Value}\"");
                }

                break;
            case "KIND":
                if (!option.Value.Equals("scan", StringComparison.OrdinalIgnoreCase) && !option.Value.Equals("lookup", StringComparison.OrdinalIgnoreCase))
                {
                    throw BindError.At(option.Span, SqlErrorCode.InvalidValue, $"option `KIND` must be \"scan\" or \"lookup\", not \"{option.Value}\"");
                }

                break;
            case "DATASOURCE" or "FORMAT" or "TYPE" or "DELIMITER":
                if (option.Value.Length == 0)
                {
                    throw BindError.At(option.Span, SqlErrorCode.InvalidValue, $"option `{option.Name}` must not be empty");
                }

                break;
        }
    }
}
