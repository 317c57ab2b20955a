using EdgeStream.Sql;
using EdgeStream.Sql.Ast;

namespace EdgeStream.Planning;

/// <summary>A stream or table of the FROM clause with its declaration.</summary>
internal sealed record BoundSource(TableRef Ref, StreamDefinition Definition);

/// <summary>
/// What a name in an expression refers to: a column of one source, a select alias, or (for schemaless streams)
/// a field looked up at run time in <see cref="Source"/> — or in any source when that is null.
/// </summary>
internal sealed record NameBinding(BoundSource? Source, ColumnDefinition? Column, SelectField? Alias)
{
    public bool IsDynamic => Column is null && Alias is null;
}

/// <summary>An output column: its name in the result row and its static type.</summary>
internal sealed record BoundField(string Name, SqlType Type, bool Invisible, SelectField Field);

/// <summary>The result of binding a SELECT: sources, output columns, and what every name refers to.</summary>
internal sealed class BoundSelect(
    SelectStatement statement,
    IReadOnlyList<BoundSource> sources,
    IReadOnlyList<BoundField> fields,
    bool isAggregate,
    IReadOnlyDictionary<Expr, NameBinding> names,
    IReadOnlyDictionary<Expr, SqlType> types)
{
    public SelectStatement Statement { get; } = statement;

    public IReadOnlyList<BoundSource> Sources { get; } = sources;

    public IReadOnlyList<BoundField> Fields { get; } = fields;

    public WindowSpec? Window => Statement.GroupBy?.Window;

    /// <summary>Whether the query aggregates (an aggregate function appears in SELECT, HAVING or ORDER BY).</summary>
    public bool IsAggregate { get; } = isAggregate;

    /// <summary>Binding of each <see cref="FieldRef"/> and qualified <see cref="MemberAccess"/> (by reference).</summary>
    public IReadOnlyDictionary<Expr, NameBinding> Names { get; } = names;

    /// <summary>The static type of each bound expression (by reference); <see cref="SqlType.Any"/> when known only at run time.</summary>
    public IReadOnlyDictionary<Expr, SqlType> Types { get; } = types;

    /// <summary>The functions the statement was bound against (built-ins and the engine's user functions).</summary>
    public Functions.FunctionRegistry Functions { get; init; } = EdgeStream.Functions.FunctionRegistry.Builtins;
}
