using System.Collections.Concurrent;

namespace EdgeStream.State;

/// <summary>
/// Where the engine keeps what must survive a restart of the host process: rule checkpoints (window, aggregate and
/// analytic state, source positions) and, where asked, stream and rule definitions. Values are opaque bytes under
/// string keys. The embedded default is <c>SqliteStateStore</c> (package <c>EdgeStream.State.Sqlite</c>): one SQLite
/// file. Implement this for another store (a database, a key-value service).
/// </summary>
/// <remarks>
/// Calls may come from several rules at once: implementations must be thread-safe. A completed
/// <see cref="SetAsync"/> must be durable (it survives the process being killed), and a value is replaced whole or not
/// at all, never half written. Keys are at most 1,024 characters of any text.
/// </remarks>
public interface IStateStore
{
    /// <summary>Reads the value stored under <paramref name="key"/>.</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The value, or null when the key has none.</returns>
    ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Stores <paramref name="value"/> under <paramref name="key"/>, replacing what was there.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <param name="cancellationToken">Stops waiting; the value is then stored entirely or not at all.</param>
    /// <returns>Completes once the value is durable.</returns>
    ValueTask SetAsync(string key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken = default);

    /// <summary>Removes <paramref name="key"/> and its value.</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>Whether the key had a value.</returns>
    ValueTask<bool> DeleteAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>The keys that start with <paramref name="prefix"/> (ordinal comparison), in ordinal order.</summary>
    /// <param name="prefix">The start of the keys wanted; empty for all.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The keys.</returns>
    ValueTask<IReadOnlyList<string>> KeysAsync(string prefix, CancellationToken cancellationToken = default);
}

/// <summary>
/// A thread-safe <see cref="IStateStore"/> in memory: for tests, and for hosts that want checkpoints only to restart
/// rules within one process. Nothing survives the process.
/// </summary>
public sealed class InMemoryStateStore : IStateStore
{
    private readonly ConcurrentDictionary<string, byte[]> values = new(StringComparer.Ordinal);

    /// <inheritdoc/>
    public ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        StateKeys.Check(key);
        return ValueTask.FromResult(values.TryGetValue(key, out var value) ? value.ToArray() : null);
    }

    /// <inheritdoc/>
    public ValueTask SetAsync(string key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken = default)
    {
        StateKeys.Check(key);
        cancellationToken.ThrowIfCancellationRequested();
        values[key] = value.ToArray();
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        StateKeys.Check(key);
        return ValueTask.FromResult(values.TryRemove(key, out _));
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<string>> KeysAsync(string prefix, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        IReadOnlyList<string> keys = values.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToArray();
        return ValueTask.FromResult(keys);
    }
}

/// <summary>The rules every store applies to keys.</summary>
public static class StateKeys
{
    /// <summary>The longest key a store must take.</summary>
    public const int MaxLength = 1_024;

    /// <summary>Throws for a key no store takes: null, empty or longer than <see cref="MaxLength"/>.</summary>
    /// <param name="key">The key.</param>
    /// <exception cref="ArgumentException">The key is empty or too long.</exception>
    /// <exception cref="ArgumentNullException">The key is null.</exception>
    public static void Check(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (key.Length > MaxLength)
        {
            throw new ArgumentException($"a state key is at most {MaxLength} characters; this one has {key.Length}", nameof(key));
        }
    }
}
