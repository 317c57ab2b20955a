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

    /// <summary>
    /// When set, the field of each row that says what to do with it, as eKuiper's <c>rowkindField</c>: <c>insert</c>
    /// (also when the field is absent), <c>upsert</c> (insert, or update the row with the same unique key),
    /// <c>update</c> or <c>delete</c> (the row whose <see cref="KeyField"/> column has the row's key). The field itself
    /// is not written.
    /// </summary>
    public string? RowkindField { get; set; }

    /// <summary>The key column that <c>update</c>, <c>delete</c> and <c>upsert</c> rows are matched on (needed with <see cref="RowkindField"/>).</summary>
    public string? KeyField { get; set; }
}
