namespace EdgeStream.Sql.Ast;

/// <summary>An expression.</summary>
internal abstract record Expr : SqlNode;

internal sealed record IntegerLiteral(long Value) : Expr;

internal sealed record FloatLiteral(double Value) : Expr;

internal sealed record StringLiteral(string Value) : Expr;

internal sealed record BooleanLiteral(bool Value) : Expr;

/// <summary><c>NULL</c> (an EdgeStream extension; eKuiper has no null literal).</summary>
internal sealed record NullLiteral : Expr;

/// <summary><c>[a, b, …]</c></summary>
internal sealed record ArrayLiteral(NodeList<Expr> Items) : Expr;

/// <summary><c>{"key": value, …}</c></summary>
internal sealed record ObjectLiteral(NodeList<ObjectEntry> Entries) : Expr;

internal sealed record ObjectEntry(string Key, Expr Value) : SqlNode;

/// <summary>A bare name: a column, a select alias, or (before a <c>.</c>) a stream name. The binder decides.</summary>
internal sealed record FieldRef(string Name) : Expr;

/// <summary><c>*</c> or <c>stream.*</c>: in a select list or as a function argument.</summary>
internal sealed record Wildcard(string? Qualifier) : Expr;

/// <summary><c>target.name</c> (<see cref="Arrow"/> false) or <c>target->name</c> (true).</summary>
internal sealed record MemberAccess(Expr Target, string Name, bool Arrow) : Expr;

/// <summary><c>target[index]</c>; a negative index counts from the end.</summary>
internal sealed record IndexAccess(Expr Target, Expr Index) : Expr;

/// <summary><c>target[start:end]</c>, end exclusive, either bound optional.</summary>
internal sealed record SliceAccess(Expr Target, Expr? Start, Expr? End) : Expr;

internal enum UnaryOperator
{
    Negate,
    Not,
}

internal sealed record UnaryExpr(UnaryOperator Operator, Expr Operand) : Expr;

internal enum BinaryOperator
{
    Or,
    And,
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Add,
    Subtract,
    BitOr,
    BitXor,
    Multiply,
    Divide,
    Modulo,
    BitAnd,
}

internal sealed record BinaryExpr(BinaryOperator Operator, Expr Left, Expr Right) : Expr;

/// <summary><c>value [NOT] BETWEEN low AND high</c></summary>
internal sealed record BetweenExpr(Expr Value, Expr Low, Expr High, bool Negated) : Expr;

/// <summary>
/// <c>value [NOT] IN (a, b, …)</c>, or with <see cref="Array"/> set, <c>value [NOT] IN arrayExpr</c> (membership in an
/// array value; <see cref="Items"/> is then empty).
/// </summary>
internal sealed record InExpr(Expr Value, NodeList<Expr> Items, bool Negated, Expr? Array = null) : Expr;

/// <summary><c>value [NOT] LIKE pattern [ESCAPE 'c']</c>; without ESCAPE, <c>\</c> escapes.</summary>
internal sealed record LikeExpr(Expr Value, Expr Pattern, string? Escape, bool Negated) : Expr;

/// <summary><c>value IS [NOT] NULL</c> (an EdgeStream extension beside eKuiper's <c>isnull()</c>).</summary>
internal sealed record IsNullExpr(Expr Value, bool Negated) : Expr;

/// <summary><c>CASE [operand] WHEN … THEN … [ELSE …] END</c></summary>
internal sealed record CaseExpr(Expr? Operand, NodeList<WhenClause> Whens, Expr? Else) : Expr;

internal sealed record WhenClause(Expr Condition, Expr Result) : SqlNode;

/// <summary>
/// A function call. <see cref="Name"/> is lower case (function names are case-insensitive).
/// <see cref="Over"/> is the analytic <c>OVER (PARTITION BY … WHEN …)</c>; <see cref="Filter"/> an aggregate's
/// <c>FILTER (WHERE …)</c> (an EdgeStream extension).
/// </summary>
internal sealed record CallExpr(string Name, NodeList<Expr> Arguments, OverClause? Over = null, Expr? Filter = null) : Expr;

/// <summary><c>OVER ([PARTITION BY e, …] [WHEN cond])</c> on an analytic function or a window.</summary>
internal sealed record OverClause(NodeList<Expr> PartitionBy, Expr? When) : SqlNode;
