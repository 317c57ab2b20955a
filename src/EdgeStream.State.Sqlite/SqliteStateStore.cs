using EdgeStream.State;
using Microsoft.Data.Sqlite;

namespace EdgeStream.State.Sqlite;

/// <summary>
/// An <see cref="IStateStore"/> in one SQLite file: the engine's embedded default for checkpoints and definitions.
/// Every write is one transaction, committed with <c>synchronous=FULL</c> in write-ahead-log mode, so a completed
/// <see cref="SetAsync"/> survives the process being killed and the machine losing power, and a value is never half
/// written. Values and keys are always parameters, never SQL text.
/// </summary>
/// <remarks>
/// Thread-safe: calls share one connection, one at a time. One process should own a file; a second one waits up to
/// five seconds for the first's write lock (SQLite's <c>busy_timeout</c>) and then fails with the reason.
/// </remarks>
public sealed class SqliteStateStore : IStateStore, IDisposable, IAsyncDisposable
{
    private const string Table = "edgestream_state";

    private readonly SqliteConnection connection;
    private readonly SemaphoreSlim gate = new(1, 1);
    private bool disposed;

    /// <summary>Opens (creating it if missing) the state file at <paramref name="path"/>.</summary>
    /// <param name="path">The SQLite file; its folder must exist.</param>
    /// <exception cref="InvalidOperationException">The file cannot be opened or is not a SQLite database (the message says why).</exception>
    public SqliteStateStore(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Path = System.IO.Path.GetFullPath(path);
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false, // closing the store releases the file
        }.ToString();
        connection = new SqliteConnection(connectionString);
        try
        {
            connection.Open();
            Execute("PRAGMA busy_timeout = 5000;");
            Execute("PRAGMA journal_mode = WAL;");
            Execute("PRAGMA synchronous = FULL;");
            Execute($"CREATE TABLE IF NOT EXISTS {Table} (key TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL) WITHOUT ROWID;");
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw new InvalidOperationException($"the state file `{Path}` cannot be opened: {e.Message}", e);
        }
    }

    /// <summary>The state file's full path.</summary>
    public string Path { get; }

    /// <inheritdoc/>
    public async ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        StateKeys.Check(key);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfDisposed();
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT value FROM {Table} WHERE key = $key;";
            command.Parameters.AddWithValue("$key", key);
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as byte[];
        }
        catch (SqliteException e)
        {
            throw Failed("read", e);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <inheritdoc/>
    public async ValueTask SetAsync(string key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken = default)
    {
        StateKeys.Check(key);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfDisposed();
            using var command = connection.CreateCommand();
            command.CommandText = $"INSERT INTO {Table} (key, value) VALUES ($key, $value) ON CONFLICT(key) DO UPDATE SET value = excluded.value;";
            command.Parameters.AddWithValue("$key", key);
            command.Parameters.Add("$value", SqliteType.Blob).Value = value.ToArray();
            // Not cancelled once started: one statement is one transaction, stored whole or not at all.
            await command.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (SqliteException e)
        {
            throw Failed("write", e);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <inheritdoc/>
    public async ValueTask<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        StateKeys.Check(key);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfDisposed();
            using var command = connection.CreateCommand();
            command.CommandText = $"DELETE FROM {Table} WHERE key = $key;";
            command.Parameters.AddWithValue("$key", key);
            return await command.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false) > 0;
        }
        catch (SqliteException e)
        {
            throw Failed("delete", e);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<string>> KeysAsync(string prefix, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfDisposed();
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT key FROM {Table} WHERE substr(key, 1, length($prefix)) = $prefix;";
            command.Parameters.AddWithValue("$prefix", prefix);
            var keys = new List<string>();
            using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var key = reader.GetString(0);
                if (key.StartsWith(prefix, StringComparison.Ordinal))
                {
                    keys.Add(key);
                }
            }

            keys.Sort(StringComparer.Ordinal);
            return keys;
        }
        catch (SqliteException e)
        {
            throw Failed("list", e);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Closes the file.</summary>
    public void Dispose()
    {
        gate.Wait();
        try
        {
            if (!disposed)
            {
                disposed = true;
                connection.Dispose();
            }
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Closes the file once calls in progress are done.</summary>
    /// <returns>Completes when it is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        await gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!disposed)
            {
                disposed = true;
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            gate.Release();
        }
    }

    private void Execute(string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(disposed, this);

    private InvalidOperationException Failed(string what, SqliteException e) =>
        new($"the state file `{Path}` failed to {what}: {e.Message}", e);
}
