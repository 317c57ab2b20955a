using System.Collections.ObjectModel;

namespace EdgeStream;

/// <summary>
/// Thrown when SQL text cannot be parsed or does not bind against the declared streams.
/// It says where (<see cref="Line"/>, <see cref="Column"/>), what kind of problem (<see cref="Code"/>) and,
/// for syntax errors, what was expected at that point (<see cref="Expected"/>).
/// </summary>
/// <remarks>
/// The <see cref="Exception.Message"/> reads like
/// <c>Syntax error (line 1, column 24): unexpected identifier `FORM`, expected `FROM`.</c>;
/// <see cref="Reason"/> is the same text without the position prefix.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1032:Implement standard exception constructors", Justification = "Raised only by the SQL front end, with a position.")]
public sealed class SqlException : Exception
{
    // Only the SQL front end raises this exception; users catch it, they never construct it (hence no CA1032 constructors).
    internal SqlException(SqlErrorCode code, string reason, int line, int column, int position, IEnumerable<string>? expected = null)
        : base(Format(code, reason, line, column))
    {
        Code = code;
        Reason = reason;
        Line = line;
        Column = column;
        Position = position;
        Expected = new ReadOnlyCollection<string>(expected?.ToArray() ?? []);
    }

    /// <summary>The kind of problem.</summary>
    public SqlErrorCode Code { get; }

    /// <summary>What is wrong, without the position: <c>unexpected identifier `FORM`, expected `FROM`</c>.</summary>
    public string Reason { get; }

    /// <summary>The 1-based line of the problem, or 0 when it has no position.</summary>
    public int Line { get; }

    /// <summary>The 1-based column of the problem, or 0 when it has no position.</summary>
    public int Column { get; }

    /// <summary>The 0-based character offset of the problem in the SQL text.</summary>
    public int Position { get; }

    /// <summary>For syntax errors, what could have come at the error position, e.g. <c>`FROM`</c>; otherwise empty.</summary>
    public IReadOnlyList<string> Expected { get; }

    private static string Format(SqlErrorCode code, string reason, int line, int column)
    {
        var kind = code == SqlErrorCode.Syntax ? "Syntax error" : "Error";
        var end = reason.EndsWith('?') || reason.EndsWith('.') ? string.Empty : ".";
        return line > 0
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{kind} (line {line}, column {column}): {reason}{end}")
            : $"{kind}: {reason}{end}";
    }
}
