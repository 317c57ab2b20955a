using MySqlConnector;

namespace EdgeStream.Sinks.MySql;

/// <summary>
/// Reads the three ways rules give a MySQL server: a MySqlConnector connection string, a <c>mysql://</c> URL and Go's
/// DSN (<c>user:pass@tcp(host:port)/db?params</c>). Errors never repeat the text, which holds a password.
/// </summary>
internal static class MySqlUrl
{
    private const string Expected = "expected a connection string (Server=…;User ID=…;Password=…;Database=…), a URL (mysql://user:pass@host:3306/db) or a DSN (user:pass@tcp(host:3306)/db)";

    /// <summary>The connection settings <paramref name="url"/> gives, with pooling on.</summary>
    /// <exception cref="ArgumentException">The text is none of the three forms (the message does not contain it).</exception>
    public static MySqlConnectionStringBuilder Parse(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var text = url.Trim();
        MySqlConnectionStringBuilder builder;
        if (text.StartsWith("mysql://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("mariadb://", StringComparison.OrdinalIgnoreCase))
        {
            builder = FromUri(text);
        }
        else if (FindDsnAddress(text) is { } at)
        {
            builder = FromDsn(text, at);
        }
        else if (text.Contains('=', StringComparison.Ordinal))
        {
            try
            {
                builder = new MySqlConnectionStringBuilder(text);
            }
            catch (ArgumentException)
            {
                throw new ArgumentException($"url: the connection string does not parse; {Expected}");
            }
        }
        else
        {
            throw new ArgumentException($"url: {Expected}");
        }

        if (string.IsNullOrEmpty(builder.Server))
        {
            throw new ArgumentException("url: no server (host) is given");
        }

        builder.Pooling = true;
        return builder;
    }

    private static MySqlConnectionStringBuilder FromUri(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw new ArgumentException($"url: the URL does not parse; {Expected}");
        }

        var builder = new MySqlConnectionStringBuilder { Server = uri.Host, Port = uri.IsDefaultPort || uri.Port < 0 ? 3306u : (uint)uri.Port };
        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            builder.UserID = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            if (colon >= 0)
            {
                builder.Password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
            }
        }

        var database = uri.AbsolutePath.Trim('/');
        if (database.Length > 0)
        {
            builder.Database = Uri.UnescapeDataString(database);
        }

        return builder;
    }

    /// <summary>Where a Go DSN's address (<c>@tcp(</c> or <c>@unix(</c>) starts, or null when the text is not one.</summary>
    private static int? FindDsnAddress(string text)
    {
        foreach (var protocol in (string[])["@tcp(", "@unix("])
        {
            var at = text.LastIndexOf(protocol, StringComparison.Ordinal);
            if (at >= 0)
            {
                return at;
            }
        }

        return text.StartsWith("tcp(", StringComparison.Ordinal) || text.StartsWith("unix(", StringComparison.Ordinal) ? -1 : null;
    }

    private static MySqlConnectionStringBuilder FromDsn(string text, int at)
    {
        var builder = new MySqlConnectionStringBuilder();
        if (at > 0)
        {
            // The credentials end at the last '@' before the address, so a password may hold '@' and ':' (after the first).
            var credentials = text[..at];
            var colon = credentials.IndexOf(':', StringComparison.Ordinal);
            builder.UserID = colon < 0 ? credentials : credentials[..colon];
            if (colon >= 0)
            {
                builder.Password = credentials[(colon + 1)..];
            }
        }

        var rest = text[(at + 1)..];
        var open = rest.IndexOf('(', StringComparison.Ordinal);
        var close = rest.IndexOf(')', StringComparison.Ordinal);
        if (open < 0 || close < open)
        {
            throw new ArgumentException($"url: the DSN's address is not closed; {Expected}");
        }

        var protocol = rest[..open];
        var address = rest[(open + 1)..close];
        if (protocol == "unix")
        {
            builder.Server = address;
            builder.ConnectionProtocol = MySqlConnectionProtocol.UnixSocket;
        }
        else
        {
            // host, host:port, [v6], [v6]:port
            var bracket = address.StartsWith('[') ? address.IndexOf(']', StringComparison.Ordinal) : -1;
            var colon = address.LastIndexOf(':');
            colon = bracket >= 0 ? (colon > bracket ? colon : -1) : colon;
            builder.Server = bracket >= 0 ? address[1..bracket] : colon < 0 ? address : address[..colon];
            builder.Port = colon < 0 ? 3306u : uint.TryParse(address.AsSpan(colon + 1), out var port) && port is > 0 and < 65536
                ? port
                : throw new ArgumentException("url: the DSN's port is not a number from 1 to 65535");
        }

        var path = rest[(close + 1)..];
        if (!path.StartsWith('/'))
        {
            throw new ArgumentException($"url: a DSN's address is followed by /database; {Expected}");
        }

        var query = path.IndexOf('?', StringComparison.Ordinal);
        var database = query < 0 ? path[1..] : path[1..query];
        if (database.Length > 0)
        {
            builder.Database = Uri.UnescapeDataString(database);
        }

        return builder;
    }
}
