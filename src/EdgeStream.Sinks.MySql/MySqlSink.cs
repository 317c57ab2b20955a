using System.Text;
using Microsoft.Extensions.Logging;
using MySqlConnector;

namespace EdgeStream.Sinks.MySql;

/// <summary>
/// Writes result rows into a MySQL or MariaDB table: each batch the engine hands over becomes multi-row
/// <c>INSERT … VALUES (…),(…)</c> statements inside one transaction, every value a parameter and every name a quoted
/// identifier, on pooled connections. Failures the server calls transient (and lost connections) are retried by the
/// engine's sink runner with the batch kept; a batch the table refuses goes to the dead-letter topic.
/// </summary>
internal sealed partial class MySqlSink : ISink
{
    /// <summary>MySQL's limit of placeholders in one statement.</summary>
    private const int MaxParameters = 65_535;

    /// <summary>The most rows one statement carries, whatever the column count, to keep statements of a sane size.</summary>
    private const int MaxRowsPerStatement = 1_000;

    private readonly MySqlDataSource dataSource;
    private readonly string table;
    private readonly string? schema;
    private readonly string tableName;
    private readonly string? tableDataField;
    private readonly string? rowkindField;
    private readonly string? keyField;
    private readonly ILogger logger;
    private readonly Dictionary<(string Shape, int Rows), string> statements = [];

    public MySqlSink(SinkContext context, MySqlSinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        var settings = MySqlUrl.Parse(options.Url);
        table = MySqlIdentifier.QuoteTable(options.Table);
        var dot = options.Table.IndexOf('.', StringComparison.Ordinal);
        (schema, tableName) = dot < 0 ? (null, options.Table) : (options.Table[..dot], options.Table[(dot + 1)..]);
        tableDataField = string.IsNullOrEmpty(options.TableDataField) ? null : options.TableDataField;
        rowkindField = string.IsNullOrEmpty(options.RowkindField) ? null : options.RowkindField;
        keyField = string.IsNullOrEmpty(options.KeyField) ? null : options.KeyField;
        if (rowkindField is not null && keyField is null)
        {
            throw new ArgumentException("keyField: rowkindField needs the key column that update, delete and upsert rows are matched on");
        }

        if (keyField is not null)
        {
            MySqlIdentifier.Quote(keyField, "keyField");
        }
        logger = context.Logger;
        dataSource = new MySqlDataSource(settings.ConnectionString);
    }

    /// <summary>A batch commits or rolls back as a whole.</summary>
    public SinkWriteSemantics WriteSemantics => SinkWriteSemantics.Transactional;

    /// <summary>
    /// Opens one connection (returned to the pool) and checks that the table exists. Bad credentials, an unknown
    /// database or a missing table are permanent: the rule does not start. An unreachable server is transient: the
    /// runner retries with backoff while the rule runs and its rows wait.
    /// </summary>
    public async ValueTask OpenAsync(CancellationToken cancellationToken)
    {
        try
        {
            var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var scope = connection.ConfigureAwait(false);
            var command = connection.CreateCommand();
            await using var commandScope = command.ConfigureAwait(false);
            command.CommandText = "SELECT DATABASE(), (SELECT COUNT(*) FROM information_schema.TABLES "
                + "WHERE TABLE_SCHEMA = COALESCE(@schema, DATABASE()) AND TABLE_NAME = @name)";
            command.Parameters.AddWithValue("@schema", schema);
            command.Parameters.AddWithValue("@name", tableName);
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using var readerScope = reader.ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var database = reader.IsDBNull(0) ? null : reader.GetString(0);
            if (schema is null && database is null)
            {
                throw new SinkException($"mysql: table `{tableName}` names no database and the url selects none: write `database.{tableName}` or add the database to the url", isTransient: false);
            }

            if (reader.GetInt64(1) == 0)
            {
                throw new SinkException($"mysql: table `{tableName}` does not exist in database `{schema ?? database}` (or this user may not use it)", isTransient: false);
            }
        }
        catch (MySqlException e)
        {
            throw Classify(e, "connect");
        }
    }

    public async ValueTask WriteAsync(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows, CancellationToken cancellationToken)
    {
        var records = tableDataField is null ? rows : Expand(rows, tableDataField);
        if (records.Count == 0)
        {
            return;
        }

        // The statements first: consecutive rows of the same kind with the same columns share statements (a row without
        // a column leaves it to its default).
        var plan = new List<(RowKind Kind, string[] Columns, int First, int Count)>();
        var start = 0;
        while (start < records.Count)
        {
            var kind = KindOf(records[start]);
            var columns = ColumnsOf(records[start]);
            var end = start + 1;
            while (end < records.Count && KindOf(records[end]) == kind && SameColumns(records[end], columns))
            {
                end++;
            }

            var perStatement = kind is RowKind.Update ? 1 : Math.Max(1, Math.Min(MaxRowsPerStatement, MaxParameters / Math.Max(1, columns.Length)));
            for (var chunk = start; chunk < end; chunk += perStatement)
            {
                plan.Add((kind, columns, chunk, Math.Min(perStatement, end - chunk)));
            }

            start = end;
        }

        try
        {
            var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var connectionScope = connection.ConfigureAwait(false);
            if (plan.Count == 1)
            {
                // One statement is atomic by itself: no transaction round trips.
                var (kind, columns, first, count) = plan[0];
                await ExecuteAsync(connection, null, kind, columns, records, first, count, cancellationToken).ConfigureAwait(false);
                return;
            }

            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using var transactionScope = transaction.ConfigureAwait(false);
            foreach (var (kind, columns, first, count) in plan)
            {
                await ExecuteAsync(connection, transaction, kind, columns, records, first, count, cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (MySqlException e)
        {
            throw Classify(e, "write");
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or EndOfStreamException or ObjectDisposedException
            && !cancellationToken.IsCancellationRequested)
        {
            // The connection broke under the batch (the server crashed or restarted): the transaction did not commit.
            Log.WillRetry(logger, "write", e.Message);
            throw new SinkException($"mysql: the connection was lost: {e.Message}", isTransient: true, e);
        }
    }

    public ValueTask DisposeAsync() => dataSource.DisposeAsync();

    /// <summary>What a row asks for: <c>insert</c> unless its <c>rowkindField</c> says otherwise.</summary>
    private RowKind KindOf(IReadOnlyDictionary<string, object?> record)
    {
        if (rowkindField is null || !record.TryGetValue(rowkindField, out var kind) || kind is null)
        {
            return RowKind.Insert;
        }

        return (kind as string)?.ToLowerInvariant() switch
        {
            "insert" => RowKind.Insert,
            "upsert" => RowKind.Upsert,
            "update" => RowKind.Update,
            "delete" => RowKind.Delete,
            _ => throw new SinkException($"rowkindField `{rowkindField}` is `{kind}`: expected insert, upsert, update or delete", isTransient: false),
        };
    }

    /// <summary>The row's columns to write: its keys, without the rowkind field.</summary>
    private string[] ColumnsOf(IReadOnlyDictionary<string, object?> record) =>
        rowkindField is null ? record.Keys.ToArray() : record.Keys.Where(k => !string.Equals(k, rowkindField, StringComparison.Ordinal)).ToArray();

    private async Task ExecuteAsync(MySqlConnection connection, MySqlTransaction? transaction, RowKind kind, string[] columns,
        IReadOnlyList<IReadOnlyDictionary<string, object?>> records, int first, int count, CancellationToken cancellationToken)
    {
        // An update is one statement per row (each sets its own values): the plan gives it one row at a time.
        await RunAsync(connection, transaction, Statement(kind, columns, count), kind is RowKind.Delete ? [keyField!] : columns, records, first, count, cancellationToken).ConfigureAwait(false);
    }

    private static async Task RunAsync(MySqlConnection connection, MySqlTransaction? transaction, string sql, string[] columns,
        IReadOnlyList<IReadOnlyDictionary<string, object?>> records, int first, int count, CancellationToken cancellationToken)
    {
        var command = connection.CreateCommand();
        await using var commandScope = command.ConfigureAwait(false);
        command.Transaction = transaction;
        command.CommandText = sql;
        var parameters = command.Parameters;
        var index = 0;
        for (var r = first; r < first + count; r++)
        {
            var record = records[r];
            foreach (var column in columns)
            {
                parameters.Add(new MySqlParameter("@p" + index.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    MySqlValues.ToParameter(record.TryGetValue(column, out var value) ? value : null)));
                index++;
            }
        }

        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The statement for <paramref name="rows"/> rows of a kind, built once per kind, column set and row count:
    /// <c>INSERT INTO `t` (`a`, `b`) VALUES (@p0, @p1), (@p2, @p3)</c>, the same with
    /// <c>ON DUPLICATE KEY UPDATE `b` = VALUES(`b`)</c> for upserts, <c>UPDATE `t` SET `b` = @p1 WHERE `a` = @p0</c>,
    /// <c>DELETE FROM `t` WHERE `a` IN (@p0, @p1)</c>. Parameters follow the columns, row by row (the key alone for a delete).
    /// </summary>
    private string Statement(RowKind kind, string[] columns, int rows)
    {
        var key = (string.Join('\0', columns) + "\0" + kind.ToString(), rows);
        if (statements.TryGetValue(key, out var cached))
        {
            return cached;
        }

        var sql = new StringBuilder();
        switch (kind)
        {
            case RowKind.Delete:
                sql.Append("DELETE FROM ").Append(table).Append(" WHERE ").AppendQuoted(keyField!).Append(" IN (");
                for (var r = 0; r < rows; r++)
                {
                    sql.Append(r == 0 ? "@p" : ", @p").Append(r);
                }

                sql.Append(')');
                break;
            case RowKind.Update:
                {
                    sql.Append("UPDATE ").Append(table).Append(" SET ");
                    var first = true;
                    for (var c = 0; c < columns.Length; c++)
                    {
                        if (!string.Equals(columns[c], keyField, StringComparison.Ordinal))
                        {
                            sql.Append(first ? string.Empty : ", ").AppendQuoted(columns[c]).Append(" = @p").Append(c);
                            first = false;
                        }
                    }

                    var keyIndex = Array.IndexOf(columns, keyField);
                    if (first || keyIndex < 0)
                    {
                        throw new SinkException($"an update row needs its key column `{keyField}` and a column to set", isTransient: false);
                    }

                    sql.Append(" WHERE ").AppendQuoted(keyField!).Append(" = @p").Append(keyIndex);
                    break;
                }

            default:
                AppendInsert(sql, columns, rows);
                if (kind is RowKind.Upsert)
                {
                    sql.Append(" ON DUPLICATE KEY UPDATE ");
                    var first = true;
                    foreach (var column in columns.Where(c => !string.Equals(c, keyField, StringComparison.Ordinal)))
                    {
                        sql.Append(first ? string.Empty : ", ").AppendQuoted(column).Append(" = VALUES(").AppendQuoted(column).Append(')');
                        first = false;
                    }

                    if (first)
                    {
                        sql.AppendQuoted(keyField!).Append(" = ").AppendQuoted(keyField!);
                    }
                }

                break;
        }

        var text = sql.ToString();
        if (statements.Count < 256)
        {
            statements[key] = text;
        }

        return text;
    }

    private void AppendInsert(StringBuilder sql, string[] columns, int rows)
    {
        sql.Append("INSERT INTO ").Append(table).Append(" (");
        for (var c = 0; c < columns.Length; c++)
        {
            sql.Append(c == 0 ? string.Empty : ", ").AppendQuoted(columns[c]);
        }

        sql.Append(") VALUES ");
        var index = 0;
        for (var r = 0; r < rows; r++)
        {
            sql.Append(r == 0 ? "(" : ", (");
            for (var c = 0; c < columns.Length; c++)
            {
                sql.Append(c == 0 ? "@p" : ", @p").Append(index++);
            }

            sql.Append(')');
        }
    }

    private bool SameColumns(IReadOnlyDictionary<string, object?> record, string[] columns)
    {
        var i = 0;
        foreach (var key in record.Keys)
        {
            if (string.Equals(key, rowkindField, StringComparison.Ordinal))
            {
                continue;
            }

            if (i == columns.Length || !string.Equals(key, columns[i++], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return i == columns.Length;
    }

    /// <summary>What a row asks for (eKuiper's row kinds).</summary>
    private enum RowKind
    {
        Insert,
        Upsert,
        Update,
        Delete,
    }

    /// <summary>The rows held in <paramref name="field"/> of each result row: an object is one, an array of objects several.</summary>
    private static List<IReadOnlyDictionary<string, object?>> Expand(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows, string field)
    {
        var records = new List<IReadOnlyDictionary<string, object?>>(rows.Count);
        foreach (var row in rows)
        {
            switch (row.TryGetValue(field, out var data) ? data : null)
            {
                case IReadOnlyDictionary<string, object?> one:
                    records.Add(one);
                    break;
                case IEnumerable<object?> many:
                    foreach (var item in many)
                    {
                        records.Add(item as IReadOnlyDictionary<string, object?>
                            ?? throw new SinkException($"tableDataField `{field}` holds an array with a non-object item", isTransient: false));
                    }

                    break;
                case null:
                    break;
                default:
                    throw new SinkException($"tableDataField `{field}` holds neither an object nor an array of objects", isTransient: false);
            }
        }

        return records;
    }

    /// <summary>
    /// A server error as the runner needs it: transient (retry, keep the batch) when the server says so or the
    /// connection is lost; otherwise permanent. MySQL's messages name tables, columns and values, never the password.
    /// </summary>
    private SinkException Classify(MySqlException e, string what)
    {
        // Only what the server says about the rows themselves (bad column, bad value, constraint: an SQLSTATE outside
        // class 08) is permanent; a lost or refused connection, a timeout, a server going down are worth retrying.
        var transient = e.IsTransient || e.ErrorCode is MySqlErrorCode.UnableToConnectToHost or MySqlErrorCode.CommandTimeoutExpired
                or MySqlErrorCode.ServerShutdown or MySqlErrorCode.None or MySqlErrorCode.QueryInterrupted
            || string.IsNullOrEmpty(e.SqlState) || e.SqlState.StartsWith("08", StringComparison.Ordinal)
            || e.InnerException is System.Net.Sockets.SocketException or IOException or EndOfStreamException;
        if (transient)
        {
            Log.WillRetry(logger, what, e.Message);
        }

        return new SinkException($"mysql: {what} failed ({e.ErrorCode}): {e.Message}", transient, e);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6001, Level = LogLevel.Warning, Message = "mysql sink: {What} failed, will retry: {Reason}")]
        public static partial void WillRetry(ILogger logger, string what, string reason);
    }
}
