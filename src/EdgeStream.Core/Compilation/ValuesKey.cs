using EdgeStream.Abstractions;

namespace EdgeStream.Compilation;

/// <summary>A tuple of values used as a dictionary key (GROUP BY, PARTITION BY), compared by content.</summary>
internal sealed class ValuesKey(Value[] values) : IEquatable<ValuesKey>
{
    public Value[] Values { get; } = values;

    public bool Equals(ValuesKey? other) => other is not null && Values.AsSpan().SequenceEqual(other.Values);

    public override bool Equals(object? obj) => Equals(obj as ValuesKey);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var value in Values)
        {
            hash.Add(value);
        }

        return hash.ToHashCode();
    }
}
