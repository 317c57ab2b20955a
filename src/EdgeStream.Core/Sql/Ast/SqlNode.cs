using EdgeStream.Diagnostics;

namespace EdgeStream.Sql.Ast;

/// <summary>
/// Base of every AST node. Nodes are immutable records compared by content; the <see cref="Span"/> is where the
/// node was written and takes no part in equality, so <c>parse(print(ast)) == ast</c> holds.
/// </summary>
internal abstract record SqlNode
{
    public SourceSpan Span { get; init; }

    public virtual bool Equals(SqlNode? other) => other is not null && EqualityContract == other.EqualityContract;

    public override int GetHashCode() => EqualityContract.GetHashCode();

    public sealed override string ToString() => SqlPrinter.Print(this);
}
