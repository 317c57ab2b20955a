namespace EdgeStream.Abstractions;

/// <summary>A JSON-like object value: string keys, <see cref="Value"/> values, kept in insertion order.</summary>
internal sealed class ValueObject : IEquatable<ValueObject>
{
    private readonly Dictionary<string, Value> fields;

    public ValueObject(int capacity = 0) => fields = new Dictionary<string, Value>(capacity, StringComparer.Ordinal);

    public int Count => fields.Count;

    public IEnumerable<KeyValuePair<string, Value>> Fields => fields;

    public Value this[string key]
    {
        get => fields.TryGetValue(key, out var v) ? v : Value.Null;
        set => fields[key] = value;
    }

    public bool TryGet(string key, out Value value) => fields.TryGetValue(key, out value);

    public bool Equals(ValueObject? other)
    {
        if (other is null || other.Count != Count)
        {
            return false;
        }

        foreach (var (key, value) in fields)
        {
            if (!other.fields.TryGetValue(key, out var v) || !v.Equals(value))
            {
                return false;
            }
        }

        return true;
    }

    public override bool Equals(object? obj) => Equals(obj as ValueObject);

    public override int GetHashCode() => Count;

    public override string ToString() => "map[" + string.Join(" ", fields.Select(f => $"{f.Key}:{f.Value}")) + "]";
}
