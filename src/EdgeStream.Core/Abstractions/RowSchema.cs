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

    /// <summary>How many names it has (lock-free: <c>ConcurrentDictionary.Count</c> takes every lock, and this is read per row).</summary>
    public int Count => Volatile.Read(ref count);

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

        // The count first, then the slot: whoever sees the slot sees a count past it.
        var slot = count;
        names[slot] = name;
        Volatile.Write(ref count, slot + 1);
        slots[name] = slot;
        return slot;
    }

    public string NameAt(int slot) => Volatile.Read(ref names)[slot];

    /// <summary>
    /// The slot of the field named <paramref name="name"/> found at <paramref name="position"/> of an object, as
    /// <see cref="GetOrAdd"/> gives it, remembering the first name seen at each of the first positions: objects made
    /// from one type (<c>PublishObjectAsync</c>) bring the same name instances in the same order, and then skip hashing.
    /// </summary>
    public int SlotFor(int position, string name)
    {
        if ((uint)position < (uint)recent.Length)
        {
            var hit = Volatile.Read(ref recent[position]);
            if (hit is not null && ReferenceEquals(hit.Name, name))
            {
                return hit.Slot;
            }

            var slot = GetOrAdd(name);
            if (hit is null)
            {
                Interlocked.CompareExchange(ref recent[position], new NameSlot(name, slot), null); // the first name seen stays
            }

            return slot;
        }

        return GetOrAdd(name);
    }

    private readonly NameSlot?[] recent = new NameSlot?[16];

    private sealed record NameSlot(string Name, int Slot);
}
