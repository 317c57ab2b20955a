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
    private readonly string? tableDataField;
    private readonly ILogger logger;
    private readonly Dictionary<(string Columns, int Rows), string> statements = [];

    public MySqlSink(SinkContext context, MySqlSinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        var settings = MySqlUrl.Parse(options.Url);
        table = MySqlIdentifier.QuoteTable(options.Table);
        tableDataField = string.IsNullOrEmpty(options.TableDataField) ? null : options.TableDataField;
        logger = context.Logger;
        dataSource = new MySqlDataSource(settings.ConnectionString);
    }

    /// <summary>A batch commits or rolls back as a whole.</summary>
    public SinkWriteSemantics WriteSemantics => SinkWriteSemantics.Transactional;

    /// <summary>Opens (and returns to the pool) one connection: the runner retries with backoff while the server is unreachable.</summary>
    public async ValueTask OpenAsync(CancellationToken cancellationToken)
    {
        try
        {
            var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await connection.DisposeAsync().ConfigureAwait(false);
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

        try
        {
            var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var connectionScope = connection.ConfigureAwait(false);
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using var transactionScope = transaction.ConfigureAwait(false);
            var start = 0;
            while (start < records.Count)
            {
                // Consecutive rows with the same columns share statements; a row without a column leaves it to its default.
                var columns = records[start].Keys.ToArray();
                var end = start + 1;
                while (end < records.Count && SameColumns(records[end], columns))
                {
                    end++;
                }

                var perStatement = Math.Max(1, Math.Min(MaxRowsPerStatement, MaxParameters / Math.Max(1, columns.Length)));
                for (var chunk = start; chunk < end; chunk += perStatement)
                {
                    var count = Math.Min(perStatement, end - chunk);
                    await InsertAsync(connection, transaction, columns, records, chunk, count, cancellationToken).ConfigureAwait(false);
                }

                start = end;
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (MySqlException e)
        {
            throw Classify(e, "write");
        }
    }

    public ValueTask DisposeAsync() => dataSource.DisposeAsync();

    private async Task InsertAsync(MySqlConnection connection, MySqlTransaction transaction, string[] columns,
        IReadOnlyList<IReadOnlyDictionary<string, object?>> records, int first, int count, CancellationToken cancellationToken)
    {
        var command = connection.CreateCommand();
        await using var commandScope = command.ConfigureAwait(false);
        command.Transaction = transaction;
        command.CommandText = Statement(columns, count);
        var parameters = command.Parameters;
        var index = 0;
        for (var r = first; r < first + count; r++)
        {
            var record = records[r];
            foreach (var column in columns)
            {
                parameters.Add(new MySqlParameter("@p" + index.ToString(System.Globalization.CultureInfo.InvariantCulture), MySqlValues.ToParameter(record[column])));
                index++;
            }
        }

        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary><c>INSERT INTO `t` (`a`, `b`) VALUES (@p0, @p1), (@p2, @p3)</c>, built once per column set and row count.</summary>
    private string Statement(string[] columns, int rows)
    {
        var key = (string.Join('\0', columns), rows);
        if (statements.TryGetValue(key, out var cached))
        {
            return cached;
        }

        var sql = new StringBuilder("INSERT INTO ").Append(table).Append(" (");
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

        var text = sql.ToString();
        if (statements.Count < 256)
        {
            statements[key] = text;
        }

        return text;
    }

    private static bool SameColumns(IReadOnlyDictionary<string, object?> record, string[] columns)
    {
        if (record.Count != columns.Length)
        {
            return false;
        }

        var i = 0;
        foreach (var key in record.Keys)
        {
            if (!string.Equals(key, columns[i++], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
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
        var transient = e.IsTransient || e.ErrorCode is MySqlErrorCode.UnableToConnectToHost or MySqlErrorCode.CommandTimeoutExpired
            or MySqlErrorCode.ServerShutdown;
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
