namespace EdgeStream.Sinks.MySql;

/// <summary>
/// The properties of a <c>mysql</c> (or <c>sql</c>) rule action, with eKuiper's names: <c>url</c>, <c>table</c>,
/// <c>tableDataField</c>. The common sink properties (<c>fields</c>, <c>batchSize</c>, <c>lingerInterval</c>…) are
/// applied by the engine before rows reach the sink.
/// </summary>
public sealed class MySqlSinkOptions
{
    /// <summary>
    /// The server: a MySqlConnector connection string (<c>Server=…;User ID=…;Password=…;Database=…</c>), a URL
    /// (<c>mysql://user:pass@host:3306/db</c>), or Go's DSN as eKuiper rules write it
    /// (<c>user:pass@tcp(host:3306)/db</c>). Its password never appears in errors, logs or status.
    /// </summary>
    public required string Url { get; set; }

    /// <summary>The table rows are inserted into: a name, or <c>database.name</c>.</summary>
    public required string Table { get; set; }

    /// <summary>
    /// When set, the rows written are those held in this field of each result row (an object, or an array of
    /// objects), as eKuiper's <c>tableDataField</c>; the rest of the result row is not written.
    /// </summary>
    public string? TableDataField { get; set; }
}
