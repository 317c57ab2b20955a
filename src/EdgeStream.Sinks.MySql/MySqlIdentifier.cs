using System.Text;

namespace EdgeStream.Sinks.MySql;

/// <summary>
/// Table and column names as MySQL identifiers: checked against MySQL's rules (1 to 64 characters, no NUL, not
/// ending in a space, no characters outside the Basic Multilingual Plane) and written between backticks with any
/// backtick doubled, so a name is always one identifier and never SQL.
/// </summary>
internal static class MySqlIdentifier
{
    /// <summary>The quoted identifier.</summary>
    /// <exception cref="ArgumentException">The name cannot be a MySQL identifier.</exception>
    public static string Quote(string name, string what)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 64)
        {
            throw new ArgumentException($"{what} `{name}`: a MySQL name has 1 to 64 characters");
        }

        foreach (var c in name)
        {
            if (c == '\0' || char.IsSurrogate(c))
            {
                throw new ArgumentException($"{what}: a MySQL name cannot hold NUL or characters beyond U+FFFF");
            }
        }

        if (name[^1] == ' ')
        {
            throw new ArgumentException($"{what} `{name}`: a MySQL name cannot end with a space");
        }

        return "`" + name.Replace("`", "``", StringComparison.Ordinal) + "`";
    }

    /// <summary>A table, <c>name</c> or <c>database.name</c>, quoted.</summary>
    public static string QuoteTable(string table)
    {
        var dot = table.IndexOf('.', StringComparison.Ordinal);
        return dot < 0 ? Quote(table, "table") : Quote(table[..dot], "database") + "." + Quote(table[(dot + 1)..], "table");
    }

    /// <summary>Appends the quoted <paramref name="name"/> to <paramref name="sql"/>.</summary>
    public static StringBuilder AppendQuoted(this StringBuilder sql, string name) => sql.Append(Quote(name, "column"));
}
