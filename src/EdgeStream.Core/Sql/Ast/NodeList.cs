using System.Collections;
using System.Runtime.CompilerServices;

namespace EdgeStream.Sql.Ast;

/// <summary>An immutable list with structural equality, so AST records compare by content.</summary>
[CollectionBuilder(typeof(NodeList), nameof(NodeList.Create))]
internal readonly struct NodeList<T> : IReadOnlyList<T>, IEquatable<NodeList<T>>
{
    private readonly T[]? items;

    public NodeList(T[] items) => this.items = items;

    public static NodeList<T> Empty => default;

    public int Count => items?.Length ?? 0;

    public bool IsEmpty => Count == 0;

    public T this[int index] => (items ?? [])[index];

    public ReadOnlySpan<T> AsSpan() => items;

    public bool Equals(NodeList<T> other)
    {
        if (Count != other.Count)
        {
            return false;
        }

        var comparer = EqualityComparer<T>.Default;
        for (var i = 0; i < Count; i++)
        {
            if (!comparer.Equals(items![i], other.items![i]))
            {
                return false;
            }
        }

        return true;
    }

    public override bool Equals(object? obj) => obj is NodeList<T> other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        for (var i = 0; i < Count; i++)
        {
            hash.Add(items![i]);
        }

        return hash.ToHashCode();
    }

    public static bool operator ==(NodeList<T> left, NodeList<T> right) => left.Equals(right);

    public static bool operator !=(NodeList<T> left, NodeList<T> right) => !left.Equals(right);

    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)(items ?? [])).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => $"[{string.Join(", ", items ?? [])}]";
}

/// <summary>Builds <see cref="NodeList{T}"/> values (collection expressions use <see cref="Create{T}"/>).</summary>
internal static class NodeList
{
    public static NodeList<T> Create<T>(ReadOnlySpan<T> items) => items.IsEmpty ? default : new NodeList<T>(items.ToArray());

    public static NodeList<T> ToNodeList<T>(this IEnumerable<T> items) => new([.. items]);
}
