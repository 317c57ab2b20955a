using System.Globalization;
using EdgeStream.Abstractions;
using EdgeStream.State;

namespace EdgeStream.Runtime;

/// <summary>
/// eKuiper's sink cache properties, read from a sink's action. Units are messages (emissions), as in eKuiper.
/// </summary>
internal sealed record SinkCacheOptions(
    int MemoryThreshold, int MaxDisk, int PageSize, TimeSpan ResendInterval, bool CleanAtStop,
    bool AlterQueue, int Priority, string? IndicatorField, string? Destination)
{
    /// <summary>The cache properties, every one of them applied by <see cref="SinkRunner"/>.</summary>
    public static readonly string[] Properties =
    [
        "enableCache", "memoryCacheThreshold", "maxDiskCache", "bufferPageSize", "resendInterval", "cleanCacheAtStop",
        "resendAlterQueue", "resendPriority", "resendIndicatorField", "resendDestination",
    ];

    /// <summary>The options, or null when <c>enableCache</c> is not true.</summary>
    /// <exception cref="ArgumentException">A value is invalid.</exception>
    public static SinkCacheOptions? From(SinkContext context)
    {
        var p = context.Properties;
        if (!Bool(context, "enableCache"))
        {
            return null;
        }

        var page = Int(context, "bufferPageSize", 256, 1);
        var priority = Int(context, "resendPriority", 0, -1);
        if (priority > 1)
        {
            throw Invalid(context, "resendPriority", "-1, 0 or 1");
        }

        return new(
            Int(context, "memoryCacheThreshold", 1024, 0),
            Int(context, "maxDiskCache", 1_024_000, 0),
            page,
            TimeSpan.FromMilliseconds(Int(context, "resendInterval", 0, 0)),
            Bool(context, "cleanCacheAtStop"),
            Bool(context, "resendAlterQueue"),
            priority,
            p.TryGetValue("resendIndicatorField", out var field) && field.Length > 0 ? field : null,
            p.TryGetValue("resendDestination", out var destination) && destination.Length > 0 ? destination : null);
    }

    private static bool Bool(SinkContext context, string name) =>
        !context.Properties.TryGetValue(name, out var text) || text.Length == 0
            ? false
            : bool.TryParse(text, out var value) ? value : throw Invalid(context, name, "true or false");

    private static int Int(SinkContext context, string name, int absent, int least) =>
        !context.Properties.TryGetValue(name, out var text)
            ? absent
            : int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) && value >= least
                ? value
                : throw Invalid(context, name, least == 0 ? "an integer of at least 0" : $"an integer of at least {least}");

    private static ArgumentException Invalid(SinkContext context, string name, string what) =>
        new($"sink `{context.SinkType}`: `{name}` must be {what}, not `{context.Properties[name]}`");
}

/// <summary>
/// The messages a sink could not write while its destination was down, oldest first, to be resent: up to
/// <see cref="SinkCacheOptions.MemoryThreshold"/> in memory, the rest in pages of
/// <see cref="SinkCacheOptions.PageSize"/> messages in the engine's state store (up to
/// <see cref="SinkCacheOptions.MaxDisk"/>), where they survive a restart. Older messages are always on disk, newer
/// ones in memory; when memory is over its threshold its oldest page moves to disk. Not thread-safe: the sink runner
/// uses it under its write gate.
/// </summary>
internal sealed class SinkCache(SinkCacheOptions options, IStateStore? store, string prefix)
{
    private readonly LinkedList<List<IReadOnlyList<ValueObject>>> memory = new();
    private readonly Queue<(string Key, int Messages)> disk = new();
    private List<IReadOnlyList<ValueObject>>? diskHead; // the oldest disk page, read
    private int diskHeadAt; // how many of its messages are resent
    private long nextPage;
    private int memoryCount;
    private int diskCount;

    /// <summary>Messages held, in memory and on disk.</summary>
    public int Count => memoryCount + diskCount - diskHeadAt;

    /// <summary>Messages held on disk.</summary>
    public int DiskCount => diskCount - diskHeadAt;

    /// <summary>Whether a disk (the state store) is behind the memory.</summary>
    public bool HasDisk => store is not null && options.MaxDisk > 0;

    /// <summary>Memory holds its threshold, or, with no disk, at least one batch.</summary>
    private long Capacity => (long)options.MemoryThreshold + (HasDisk ? options.MaxDisk : 0);

    /// <summary>Takes up the pages a previous run left on disk. Returns how many messages they hold.</summary>
    public async Task<int> LoadAsync(CancellationToken cancellationToken)
    {
        if (store is null)
        {
            return 0;
        }

        foreach (var key in (await store.KeysAsync(prefix, cancellationToken).ConfigureAwait(false)).Order(StringComparer.Ordinal))
        {
            var name = key[prefix.Length..].Split('-');
            if (name.Length == 2 && long.TryParse(name[0], NumberStyles.None, CultureInfo.InvariantCulture, out var page)
                && int.TryParse(name[1], NumberStyles.None, CultureInfo.InvariantCulture, out var messages))
            {
                disk.Enqueue((key, messages));
                diskCount += messages;
                nextPage = Math.Max(nextPage, page + 1);
            }
        }

        return diskCount;
    }

    /// <summary>
    /// Adds messages after the newest; false (nothing added) when there is no room for all of them. An empty cache
    /// always takes a batch, however big, so that no batch can wait for room forever.
    /// </summary>
    /// <exception cref="Exception">The state store failed: nothing was added, nothing held was lost.</exception>
    public async Task<bool> TryAddAsync(IReadOnlyList<IReadOnlyList<ValueObject>> messages, CancellationToken cancellationToken)
    {
        if (Count > 0 && Count + (long)messages.Count > Capacity)
        {
            return false;
        }

        if (HasDisk)
        {
            // Pages go to disk before anything leaves memory: a store that fails loses nothing.
            var pending = memory.SelectMany(page => page).Concat(messages).ToList();
            // Whole pages of the oldest, enough to bring memory within its threshold.
            var over = Math.Max(0, pending.Count - options.MemoryThreshold);
            var spill = Math.Min(pending.Count, (over + options.PageSize - 1) / options.PageSize * options.PageSize);
            var toDisk = new List<List<IReadOnlyList<ValueObject>>>();
            for (var at = 0; at < spill; at += options.PageSize)
            {
                toDisk.Add(pending.GetRange(at, Math.Min(options.PageSize, spill - at)));
            }

            foreach (var page in toDisk)
            {
                await WritePageAsync(page, cancellationToken).ConfigureAwait(false);
            }

            memory.Clear();
            memoryCount = 0;
            Append(pending.Skip(spill));
            return true;
        }

        Append(messages);
        return true;
    }

    private void Append(IEnumerable<IReadOnlyList<ValueObject>> messages)
    {
        foreach (var message in messages)
        {
            if (memory.Last is not { } last || last.Value.Count >= options.PageSize)
            {
                last = memory.AddLast(new List<IReadOnlyList<ValueObject>>(Math.Min(options.PageSize, 64)));
            }

            last.Value.Add(message);
            memoryCount++;
        }
    }

    private async Task WritePageAsync(List<IReadOnlyList<ValueObject>> page, CancellationToken cancellationToken)
    {
        var key = string.Create(CultureInfo.InvariantCulture, $"{prefix}{nextPage:D16}-{page.Count}");
        using (var writer = new RuleStateWriter())
        {
            writer.Write(page.Count);
            foreach (var message in page)
            {
                writer.Write(message.Count);
                foreach (var row in message)
                {
                    writer.Write(row);
                }
            }

            await store!.SetAsync(key, writer.ToArray(), cancellationToken).ConfigureAwait(false);
        }

        nextPage++;
        disk.Enqueue((key, page.Count));
        diskCount += page.Count;
    }

    /// <summary>The oldest message, or null when none is held.</summary>
    /// <exception cref="FormatException">A page on disk cannot be read (it is then dropped and reported by the caller).</exception>
    public async Task<IReadOnlyList<ValueObject>?> PeekAsync(CancellationToken cancellationToken)
    {
        while (disk.TryPeek(out var head))
        {
            if (diskHead is null)
            {
                var bytes = await store!.GetAsync(head.Key, cancellationToken).ConfigureAwait(false)
                    ?? throw new FormatException($"the cached page `{head.Key}` is gone from the state store");
                diskHead = ReadPage(bytes);
                diskHeadAt = 0;
            }

            if (diskHeadAt < diskHead.Count)
            {
                return diskHead[diskHeadAt];
            }

            await DropDiskHeadAsync(head, cancellationToken).ConfigureAwait(false); // a page of no message
        }

        return memory.First?.Value[0];
    }

    private static List<IReadOnlyList<ValueObject>> ReadPage(byte[] bytes)
    {
        try
        {
            using var reader = new RuleStateReader(bytes, []);
            var page = new List<IReadOnlyList<ValueObject>>(reader.ReadInt());
            for (var m = page.Capacity; m > 0; m--)
            {
                var rows = new ValueObject[reader.ReadInt()];
                for (var r = 0; r < rows.Length; r++)
                {
                    rows[r] = reader.ReadObject();
                }

                page.Add(rows);
            }

            return page;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Whatever corrupt bytes make the reader throw (a negative count, a count too big to hold).
            throw new FormatException($"a cached page cannot be read: {e.Message}", e);
        }
    }

    /// <summary>Forgets the oldest message (it was resent), deleting its disk page once the page is all resent.</summary>
    public async Task RemoveOldestAsync(CancellationToken cancellationToken)
    {
        if (disk.TryPeek(out var head))
        {
            diskHeadAt++;
            if (diskHead is null || diskHeadAt >= diskHead.Count)
            {
                await DropDiskHeadAsync(head, cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        if (memory.First is { } first)
        {
            first.Value.RemoveAt(0);
            memoryCount--;
            if (first.Value.Count == 0)
            {
                memory.RemoveFirst();
            }
        }
    }

    /// <summary>Drops the oldest disk page whole (all resent, or unreadable); returns the messages it still held.</summary>
    public async Task<int> DropDiskHeadAsync(CancellationToken cancellationToken) =>
        disk.TryPeek(out var head) ? await DropDiskHeadAsync(head, cancellationToken).ConfigureAwait(false) : 0;

    private async Task<int> DropDiskHeadAsync((string Key, int Messages) head, CancellationToken cancellationToken)
    {
        var left = head.Messages - Math.Min(diskHeadAt, head.Messages);
        await store!.DeleteAsync(head.Key, cancellationToken).ConfigureAwait(false);
        disk.Dequeue();
        diskCount -= head.Messages;
        (diskHead, diskHeadAt) = (null, 0);
        return left;
    }

    /// <summary>Moves every message held in memory to disk (the runner stops, or a checkpoint needs them durable). Returns how many stay in memory (no room or no disk).</summary>
    public async Task<int> SpillAsync(CancellationToken cancellationToken)
    {
        while (HasDisk && memory.First is { } oldest && DiskCount + oldest.Value.Count <= options.MaxDisk)
        {
            await WritePageAsync(oldest.Value, cancellationToken).ConfigureAwait(false);
            memory.RemoveFirst();
            memoryCount -= oldest.Value.Count;
        }

        return memoryCount;
    }

    /// <summary>Whether every message held is on disk (or none is held).</summary>
    public bool AllOnDisk => memoryCount == 0;

    /// <summary>Takes every message held in memory out of the cache, oldest first.</summary>
    public List<IReadOnlyList<ValueObject>> TakeMemory()
    {
        var taken = memory.SelectMany(page => page).ToList();
        memory.Clear();
        memoryCount = 0;
        return taken;
    }

    /// <summary>Forgets everything, disk pages included (<c>cleanCacheAtStop</c>). Returns how many messages were held.</summary>
    public async Task<int> ClearAsync(CancellationToken cancellationToken)
    {
        var held = Count;
        memory.Clear();
        memoryCount = 0;
        while (disk.Count > 0)
        {
            await DropDiskHeadAsync(cancellationToken).ConfigureAwait(false);
        }

        return held;
    }

    /// <summary>Deletes the pages a rule's sinks left in <paramref name="store"/> (the rule is deleted).</summary>
    public static async Task ForgetAsync(IStateStore store, string ruleId, CancellationToken cancellationToken)
    {
        foreach (var key in await store.KeysAsync(RulePrefix(ruleId), cancellationToken).ConfigureAwait(false))
        {
            await store.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Where a rule's sinks keep their pages (the id escaped: rule <c>a</c> is not a prefix of rule <c>a/x</c>).</summary>
    public static string RulePrefix(string ruleId) => $"sinkcache/{Uri.EscapeDataString(ruleId)}/";

    /// <summary>Where sink <paramref name="index"/> (of type <paramref name="type"/>) of a rule keeps its pages.</summary>
    public static string Prefix(string ruleId, int index, string type) =>
        string.Create(CultureInfo.InvariantCulture, $"{RulePrefix(ruleId)}{index}-{Uri.EscapeDataString(type)}/");
}
