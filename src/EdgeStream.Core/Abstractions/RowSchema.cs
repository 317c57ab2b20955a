using System.Collections.Concurrent;

namespace EdgeStream.Abstractions;

/// <summary>
/// Maps field names to slots of a <see cref="Row"/>. A typed stream's schema is fixed; a schemaless stream's grows as
/// new field names arrive (slots are never reused or moved, so a slot resolved once stays valid). Lookups are
/// lock-free; only adding a name takes a lock.
/// </summary>
internal sealed class RowSchema
{
    private readonly ConcurrentDictionary<string, int> slots = new(StringComparer.Ordinal);
    private readonly List<string> names = [];
    private readonly Lock gate = new();

    private RowSchema(bool isFixed) => IsFixed = isFixed;

    /// <summary>Whether new names are rejected (a typed stream).</summary>
    public bool IsFixed { get; }

    public int Count => slots.Count;

    public static RowSchema Fixed(IEnumerable<string> columns)
    {
        var schema = new RowSchema(isFixed: false);
        foreach (var column in columns)
        {
            schema.GetOrAdd(column);
        }

        return new RowSchema(isFixed: true).CopyFrom(schema);
    }

    public static RowSchema Growing() => new(isFixed: false);

    private RowSchema CopyFrom(RowSchema other)
    {
        foreach (var name in other.names)
        {
            slots[name] = names.Count;
            names.Add(name);
        }

        return this;
    }

    public bool TryGetSlot(string name, out int slot) => slots.TryGetValue(name, out slot);

    /// <summary>Looks a name up without allocating a string for it (the decoders' hot path).</summary>
    public bool TryGetSlot(ReadOnlySpan<char> name, out int slot) =>
        slots.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(name, out slot);

    /// <summary>The slot of <paramref name="name"/>, adding it to a growing schema; -1 for an unknown name of a fixed one.</summary>
    public int GetOrAdd(string name)
    {
        if (slots.TryGetValue(name, out var slot))
        {
            return slot;
        }

        if (IsFixed)
        {
            return -1;
        }

        lock (gate)
        {
            if (!slots.TryGetValue(name, out slot))
            {
                slot = names.Count;
                names.Add(name);
                slots[name] = slot;
            }

            return slot;
        }
    }

    public string NameAt(int slot)
    {
        lock (gate)
        {
            return names[slot];
        }
    }
}
