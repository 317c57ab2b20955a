using EdgeStream.Diagnostics;

namespace EdgeStream.Planning;

/// <summary>Builds the <see cref="SqlException"/> for a binding error at a node's position.</summary>
internal static class BindError
{
    public static SqlException At(SourceSpan span, SqlErrorCode code, string reason) =>
        new(code, reason, span.Line, span.Column, span.Start);

    /// <summary><c> (did you mean `x`?)</c> when there is a close candidate, else empty.</summary>
    public static string DidYouMean(string? candidate) => candidate is null ? string.Empty : $"; did you mean `{candidate}`?";
}
