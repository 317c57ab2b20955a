using EdgeStream.Sql.Ast;

namespace EdgeStream.Sql;

/// <summary>The value types of EdgeStream SQL (eKuiper's column types, plus <see cref="Any"/> for values of unknown type).</summary>
internal enum SqlTypeKind
{
    /// <summary>Unknown until run time: a field of a schemaless stream, a function result of varying type, null.</summary>
    Any,
    Bigint,
    Float,
    String,
    Datetime,
    Boolean,
    Bytea,
    Array,
    Struct,
}

/// <summary>A column or expression type. Compared structurally.</summary>
internal abstract record SqlType(SqlTypeKind Kind)
{
    public static readonly SqlType Any = new ScalarType(SqlTypeKind.Any);
    public static readonly SqlType Bigint = new ScalarType(SqlTypeKind.Bigint);
    public static readonly SqlType Float = new ScalarType(SqlTypeKind.Float);
    public static readonly SqlType String = new ScalarType(SqlTypeKind.String);
    public static readonly SqlType Datetime = new ScalarType(SqlTypeKind.Datetime);
    public static readonly SqlType Boolean = new ScalarType(SqlTypeKind.Boolean);
    public static readonly SqlType Bytea = new ScalarType(SqlTypeKind.Bytea);

    public bool IsNumeric => Kind is SqlTypeKind.Bigint or SqlTypeKind.Float;

    /// <summary>The type's name as written in a column definition: <c>bigint</c>, <c>array(string)</c>, <c>struct(a bigint)</c>.</summary>
    public abstract override string ToString();
}

internal sealed record ScalarType(SqlTypeKind ScalarKind) : SqlType(ScalarKind)
{
    public override string ToString() => Kind.ToString().ToLowerInvariant();
}

internal sealed record ArrayType(SqlType Element) : SqlType(SqlTypeKind.Array)
{
    public override string ToString() => $"array({Element})";
}

internal sealed record StructField(string Name, SqlType Type);

internal sealed record StructType(NodeList<StructField> Fields) : SqlType(SqlTypeKind.Struct)
{
    public StructField? Find(string name)
    {
        foreach (var f in Fields)
        {
            if (string.Equals(f.Name, name, StringComparison.Ordinal))
            {
                return f;
            }
        }

        foreach (var f in Fields)
        {
            if (string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return f;
            }
        }

        return null;
    }

    public override string ToString() => $"struct({string.Join(", ", Fields.Select(f => $"{SqlNames.Quote(f.Name)} {f.Type}"))})";
}
