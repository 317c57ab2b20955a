namespace EdgeStream.Sql.Ast;

/// <summary>A whole SQL statement.</summary>
internal abstract record Statement : SqlNode;

/// <summary>
/// <c>SELECT fields FROM source [joins] [WHERE] [GROUP BY] [HAVING] [ORDER BY] [LIMIT]</c>.
/// </summary>
internal sealed record SelectStatement(
    NodeList<SelectField> Fields,
    TableRef From,
    NodeList<JoinClause> Joins,
    Expr? Where,
    GroupByClause? GroupBy,
    Expr? Having,
    NodeList<SortItem> OrderBy,
    long? Limit) : Statement;

/// <summary>A select item: an expression (a <see cref="Wildcard"/> for <c>*</c>) with an optional alias.</summary>
internal sealed record SelectField(Expr Expr, string? Alias, bool Invisible) : SqlNode;

/// <summary>A stream or table in FROM or JOIN, with an optional <c>AS alias</c>.</summary>
internal sealed record TableRef(string Name, string? Alias) : SqlNode
{
    /// <summary>The name the rest of the statement uses for it: the alias if given.</summary>
    public string RefName => Alias ?? Name;
}

internal enum JoinKind
{
    Inner,
    Left,
    Right,
    Full,
    Cross,
}

internal sealed record JoinClause(JoinKind Kind, TableRef Table, Expr? On) : SqlNode;

/// <summary>
/// <c>GROUP BY</c> keys and at most one window. <see cref="WindowIndex"/> is where the window stood among the items,
/// so the statement prints back as written.
/// </summary>
internal sealed record GroupByClause(NodeList<Expr> Keys, WindowSpec? Window, int WindowIndex) : SqlNode;

internal enum WindowKind
{
    Tumbling,
    Hopping,
    Sliding,
    Session,
    Count,
    State,
}

internal enum TimeUnit
{
    None,
    Days,
    Hours,
    Minutes,
    Seconds,
    Milliseconds,
}

/// <summary>
/// A window in GROUP BY.
/// <list type="bullet">
/// <item><c>TUMBLINGWINDOW(unit, length)</c></item>
/// <item><c>HOPPINGWINDOW(unit, length, hop)</c>: <see cref="Interval"/> is the hop.</item>
/// <item><c>SLIDINGWINDOW(unit, length [, delay])</c>: <see cref="Interval"/> is the delay.</item>
/// <item><c>SESSIONWINDOW(unit, maxLength, timeout)</c>: <see cref="Interval"/> is the timeout.</item>
/// <item><c>COUNTWINDOW(count [, interval])</c>: <see cref="Unit"/> is <see cref="TimeUnit.None"/>.</item>
/// <item><c>STATEWINDOW(begin [, emit])</c>: <see cref="Begin"/>, <see cref="Emit"/>.</item>
/// </list>
/// <see cref="Filter"/> is <c>FILTER (WHERE …)</c>; <see cref="Over"/> is <c>OVER (WHEN …)</c> (sliding trigger)
/// or <c>OVER (PARTITION BY …)</c> (state window).
/// </summary>
internal sealed record WindowSpec(
    WindowKind Kind,
    TimeUnit Unit,
    long Length,
    long? Interval,
    Expr? Begin,
    Expr? Emit,
    Expr? Filter,
    OverClause? Over) : SqlNode;

internal sealed record SortItem(Expr Expr, bool Descending) : SqlNode;

/// <summary><c>CREATE STREAM|TABLE name (columns) [WITH (options)]</c>; no columns means schemaless.</summary>
internal sealed record CreateStreamStatement(
    bool IsTable,
    string Name,
    NodeList<ColumnDefinition> Columns,
    NodeList<StreamOption> Options) : Statement;

internal sealed record ColumnDefinition(string Name, SqlType Type) : SqlNode;

/// <summary>A <c>WITH</c> option; <see cref="Name"/> is upper case, the value is kept as text.</summary>
internal sealed record StreamOption(string Name, string Value) : SqlNode;

internal sealed record DropStatement(bool IsTable, string Name) : Statement;

internal sealed record DescribeStatement(bool IsTable, string Name) : Statement;

/// <summary><c>SHOW STREAMS</c> or <c>SHOW TABLES</c>.</summary>
internal sealed record ShowStatement(bool Tables) : Statement;

/// <summary><c>EXPLAIN select</c>.</summary>
internal sealed record ExplainStatement(SelectStatement Select) : Statement;
