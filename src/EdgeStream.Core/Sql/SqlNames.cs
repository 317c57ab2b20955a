using System.Collections.Frozen;
using System.Text;

namespace EdgeStream.Sql;

/// <summary>Reserved words, identifier rules and quoting.</summary>
internal static class SqlNames
{
    /// <summary>
    /// Words that are never identifiers unless backquoted. Everything else that reads as a keyword in some place
    /// (JOIN kinds, OVER, FILTER, PARTITION, ASC, DESC, STREAM, TABLE, WITH, type names, time units, window names)
    /// is recognised by context only, so columns may use those names freely.
    /// </summary>
    public static readonly FrozenSet<string> Reserved = new[]
    {
        "SELECT", "FROM", "WHERE", "GROUP", "BY", "HAVING", "ORDER", "LIMIT", "AS", "AND", "OR", "NOT", "IN",
        "BETWEEN", "LIKE", "IS", "NULL", "TRUE", "FALSE", "CASE", "WHEN", "THEN", "ELSE", "END", "JOIN", "INNER",
        "LEFT", "RIGHT", "FULL", "CROSS", "ON",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    public static bool IsIdentifierStart(char c) => char.IsLetter(c) || c == '_';

    public static bool IsIdentifierPart(char c) => char.IsLetterOrDigit(c) || c == '_';

    /// <summary>Whether <paramref name="name"/> can be written without backquotes.</summary>
    public static bool IsPlainIdentifier(string name)
    {
        if (name.Length == 0 || !IsIdentifierStart(name[0]))
        {
            return false;
        }

        for (var i = 1; i < name.Length; i++)
        {
            if (!IsIdentifierPart(name[i]))
            {
                return false;
            }
        }

        return !Reserved.Contains(name);
    }

    /// <summary>The name as it must be written: bare when possible, else in backquotes (a backquote doubled).</summary>
    public static string Quote(string name) =>
        IsPlainIdentifier(name) ? name : "`" + name.Replace("`", "``", StringComparison.Ordinal) + "`";

    /// <summary>A string literal in double quotes with <c>\</c> escapes, which parses back to <paramref name="value"/>.</summary>
    public static string QuoteString(string value)
    {
        var sb = new StringBuilder(value.Length + 2);
        sb.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default: sb.Append(c); break;
            }
        }

        sb.Append('"');
        return sb.ToString();
    }

    /// <summary>
    /// Edit distance counting an insertion, a deletion, a substitution or a swap of neighbours as one edit
    /// (optimal string alignment), case-insensitive, for "did you mean" suggestions: <c>tabel</c> is one edit from
    /// <c>table</c>.
    /// </summary>
    public static int EditDistance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = char.ToLowerInvariant(a[i - 1]) == char.ToLowerInvariant(b[j - 1]) ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && char.ToLowerInvariant(a[i - 1]) == char.ToLowerInvariant(b[j - 2])
                    && char.ToLowerInvariant(a[i - 2]) == char.ToLowerInvariant(b[j - 1]))
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }

    /// <summary>
    /// The candidate closest to <paramref name="name"/>, if it is close enough to be a likely typo. Ties go to the
    /// candidate sharing the longest prefix (<c>cout</c> suggests <c>count</c>, not <c>cot</c>), then to the first in order.
    /// </summary>
    public static string? Closest(string name, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        var bestPrefix = -1;
        foreach (var candidate in candidates)
        {
            var d = EditDistance(name, candidate);
            var prefix = CommonPrefix(name, candidate);
            if (d < bestDistance || (d == bestDistance && (prefix > bestPrefix || (prefix == bestPrefix && string.CompareOrdinal(candidate, best) < 0))))
            {
                best = candidate;
                bestDistance = d;
                bestPrefix = prefix;
            }
        }

        return best is not null && bestDistance <= Math.Max(1, name.Length / 3) && bestDistance < name.Length ? best : null;
    }

    private static int CommonPrefix(string a, string b)
    {
        var i = 0;
        while (i < a.Length && i < b.Length && char.ToLowerInvariant(a[i]) == char.ToLowerInvariant(b[i]))
        {
            i++;
        }

        return i;
    }
}
