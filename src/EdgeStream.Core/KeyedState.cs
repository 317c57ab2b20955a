using System.Collections.Concurrent;

namespace EdgeStream;

/// <summary>
/// The store <c>get_keyed_state(key, type, default)</c> reads: values the host application keeps by key (a
/// threshold per device, a calibration factor) that rules look up per row. Set it with
/// <see cref="EdgeStreamEngineOptions.KeyedState"/>.
/// </summary>
/// <remarks>Called on the rules' threads, concurrently and once per row that calls the function: keep it fast and thread-safe.</remarks>
public interface IKeyedStateStore
{
    /// <summary>Looks up <paramref name="key"/>.</summary>
    /// <param name="key">The key the rule asked for.</param>
    /// <param name="value">Its value when found.</param>
    /// <returns>Whether the key has a value; when not, the call's default is used.</returns>
    bool TryGet(string key, out SqlValue value);
}

/// <summary>A thread-safe in-memory <see cref="IKeyedStateStore"/> the host fills and changes while rules run.</summary>
public sealed class InMemoryKeyedStateStore : IKeyedStateStore
{
    private readonly ConcurrentDictionary<string, SqlValue> values = new(StringComparer.Ordinal);

    /// <summary>Sets <paramref name="key"/> to <paramref name="value"/>; rules see it from their next row.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    public void Set(string key, SqlValue value)
    {
        ArgumentNullException.ThrowIfNull(key);
        values[key] = value;
    }

    /// <summary>Removes <paramref name="key"/>.</summary>
    /// <param name="key">The key.</param>
    /// <returns>Whether it was there.</returns>
    public bool Remove(string key) => values.TryRemove(key, out _);

    /// <inheritdoc/>
    public bool TryGet(string key, out SqlValue value) => values.TryGetValue(key, out value);
}
