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
    /// <summary>
    /// The most names a growing schema takes. A source whose events keep bringing new keys (ids used as keys,
    /// hostile input) would otherwise grow it without end; later new names are ignored, like undeclared columns of a
    /// typed stream.
    /// </summary>
    public const int MaxGrowingFields = 10_000;

    // Readers (every `SELECT *` row) index the current buffer without a lock; it only ever grows, by doubling.
    private string[] names = new string[8];
    private int count;
    private readonly Lock gate = new();

    private RowSchema(bool isFixed) => IsFixed = isFixed;

    /// <summary>Whether new names are rejected (a typed stream).</summary>
    public bool IsFixed { get; }

    public int Count => slots.Count;

    public static RowSchema Fixed(IEnumerable<string> columns)
    {
        var schema = new RowSchema(isFixed: true);
        foreach (var column in columns)
        {
            if (!schema.slots.ContainsKey(column))
            {
                schema.Append(column);
            }
        }

        return schema;
    }

    public static RowSchema Growing() => new(isFixed: false);

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
            return slots.TryGetValue(name, out slot) ? slot : count < MaxGrowingFields ? Append(name) : -1;
        }
    }

    /// <summary>Adds a name (under the lock, or during construction). The buffer is written before the slot is published.</summary>
    private int Append(string name)
    {
        if (count == names.Length)
        {
            var bigger = new string[count * 2];
            names.CopyTo(bigger, 0);
            Volatile.Write(ref names, bigger);
        }

        names[count] = name;
        slots[name] = count;
        return count++;
    }

    public string NameAt(int slot) => Volatile.Read(ref names)[slot];
}
