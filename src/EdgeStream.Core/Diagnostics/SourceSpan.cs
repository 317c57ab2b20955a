namespace EdgeStream.Diagnostics;

/// <summary>
/// A range of the SQL text: <see cref="Start"/> and <see cref="End"/> are character offsets (end exclusive),
/// <see cref="Line"/> and <see cref="Column"/> are the 1-based position of <see cref="Start"/>.
/// </summary>
internal readonly record struct SourceSpan(int Start, int End, int Line, int Column)
{
    /// <summary>No position: a node made in code rather than parsed.</summary>
    public static readonly SourceSpan None = new(0, 0, 0, 0);

    public int Length => End - Start;

    public bool IsNone => Line == 0;

    /// <summary>The span from the start of <paramref name="first"/> to the end of <paramref name="last"/>.</summary>
    public static SourceSpan Cover(SourceSpan first, SourceSpan last) =>
        first.IsNone ? last : last.IsNone ? first : new(first.Start, Math.Max(first.End, last.End), first.Line, first.Column);
}
