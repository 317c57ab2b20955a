namespace EdgeStream.Abstractions;

/// <summary>A JSON-like object value: string keys, <see cref="Value"/> values, kept in insertion order.</summary>
/// <remarks>
/// Two parallel arrays, searched linearly while small (events and result rows rarely have more than a few fields:
/// no hashing, and about half the memory of a dictionary); an index is built once an object passes
/// <see cref="IndexedFrom"/> fields. Hot loops read fields by position (<see cref="KeyAt"/>, <see cref="ValueAt"/>)
/// rather than through <see cref="Fields"/>, which allocates an enumerator.
/// </remarks>
internal sealed class ValueObject : IEquatable<ValueObject>
{
    /// <summary>From this many fields on, lookups go through a dictionary.</summary>
    private const int IndexedFrom = 9;

    private string[] keys;
    private Value[] values;
    private int count;
    private Dictionary<string, int>? index;

    public ValueObject(int capacity = 0)
    {
        keys = capacity > 0 ? new string[capacity] : [];
        values = capacity > 0 ? new Value[capacity] : [];
    }

    public int Count => count;

    /// <summary>The fields in insertion order.</summary>
    public IEnumerable<KeyValuePair<string, Value>> Fields
    {
        get
        {
            for (var i = 0; i < count; i++)
            {
                yield return new KeyValuePair<string, Value>(keys[i], values[i]);
            }
        }
    }

    /// <summary>The name of the field at <paramref name="position"/> (0 to <see cref="Count"/> - 1), in insertion order.</summary>
    public string KeyAt(int position) => keys[position];

    /// <summary>The value of the field at <paramref name="position"/>.</summary>
    public Value ValueAt(int position) => values[position];

    public Value this[string key]
    {
        get => IndexOf(key) is var i and >= 0 ? values[i] : Value.Null;
        set
        {
            var i = IndexOf(key);
            if (i >= 0)
            {
                values[i] = value;
                return;
            }

            Add(key, value);
        }
    }

    /// <summary>Appends a field whose name is known not to be there yet (no search): building rows from a fixed set of names.</summary>
    public void Add(string key, Value value)
    {
        if (count == keys.Length)
        {
            var size = Math.Max(4, count * 2);
            Array.Resize(ref keys, size);
            Array.Resize(ref values, size);
        }

        keys[count] = key;
        values[count] = value;
        index?.Add(key, count);
        count++;
        if (index is null && count >= IndexedFrom)
        {
            index = new Dictionary<string, int>(count * 2, StringComparer.Ordinal);
            for (var k = 0; k < count; k++)
            {
                index[keys[k]] = k;
            }
        }
    }

    public bool TryGet(string key, out Value value)
    {
        var i = IndexOf(key);
        value = i >= 0 ? values[i] : default;
        return i >= 0;
    }

    private int IndexOf(string key)
    {
        if (index is not null)
        {
            return index.TryGetValue(key, out var found) ? found : -1;
        }

        for (var i = 0; i < count; i++)
        {
            if (ReferenceEquals(keys[i], key))
            {
                return i;
            }
        }

        for (var i = 0; i < count; i++)
        {
            if (string.Equals(keys[i], key, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    public bool Equals(ValueObject? other)
    {
        if (other is null || other.Count != Count)
        {
            return false;
        }

        for (var i = 0; i < count; i++)
        {
            if (!other.TryGet(keys[i], out var v) || !v.Equals(values[i]))
            {
                return false;
            }
        }

        return true;
    }

    public override bool Equals(object? obj) => Equals(obj as ValueObject);

    public override int GetHashCode() => Count;

    public override string ToString() => "map[" + string.Join(" ", Fields.Select(f => $"{f.Key}:{f.Value}")) + "]";
}
