using System.Collections.Concurrent;
using EdgeStream.Abstractions;

namespace EdgeStream.Runtime.Memory;

/// <summary>
/// The value of one column that an event must hold for a subscriber to want it: the constant of a rule's
/// <c>WHERE column = constant</c>. Only strings and integers route (compared exactly, as <c>=</c> compares them).
/// </summary>
internal readonly record struct RouteKey(ValueKind Kind, long Number, string? Text)
{
    /// <summary>The key of a row's value; null for a value that does not route (it then goes to every subscriber).</summary>
    public static RouteKey? Of(Value value) => value.Kind switch
    {
        ValueKind.String => new RouteKey(ValueKind.String, 0, value.AsString),
        ValueKind.Integer => new RouteKey(ValueKind.Integer, value.AsInteger, null),
        _ => null,
    };
}

/// <summary>A subscription that needs only the decoded events whose column <see cref="Slot"/> holds <see cref="Key"/>.</summary>
internal readonly record struct Route(int Slot, RouteKey Key);

/// <summary>
/// A subscriber of a shared stream's topic that says which events it can use. The bus then delivers an event only to
/// the subscribers whose route it matches (an index lookup, not a call per subscriber), and counts for the others
/// what they were spared, so their counters still show every event of the stream.
/// </summary>
internal interface IRoutedSubscriber : IMemorySubscriber
{
    /// <summary>The events it needs, or null for all.</summary>
    Route? Route { get; }

    /// <summary>
    /// The bus routes to it from now on: <paramref name="events"/> counts every routed event of the topic,
    /// <paramref name="matching"/> those with its key, so the events it was spared are the difference of their growth.
    /// </summary>
    void RoutedBy(RouteCounts events, RouteCounts matching);

    /// <summary>The bus no longer routes to it (it unsubscribed): what it was spared so far stays counted.</summary>
    void Unrouted();
}

/// <summary>A count of routed events, shared by the bus (which adds) and the subscribers (which read).</summary>
internal sealed class RouteCounts
{
    private long value;

    public long Value => Interlocked.Read(ref value);

    public void Add() => Interlocked.Increment(ref value);
}

/// <summary>The routed subscribers of one key: their positions (ascending) and the count of events with the key.</summary>
internal sealed class Bucket(RouteCounts count)
{
    private int[] positions = [];

    public RouteCounts Count { get; } = count;

    /// <summary>Replaced, never changed in place, so a publisher reads a consistent array.</summary>
    public int[] Positions => Volatile.Read(ref positions);

    public void Set(int[] value) => Volatile.Write(ref positions, value);
}

/// <summary>
/// One topic's subscribers, in subscription order, and the routing index over them. A publisher reads it without a
/// lock; the bus changes it under its lock, in O(1) amortized per subscription: subscribers are appended, a departed one
/// leaves a hole (null) that publishers skip, and when holes outnumber the living the bus builds a fresh one.
/// Positions only grow within one instance, so a publisher holding an older <see cref="Subscribers"/> view skips a
/// position past its end (a subscriber that joined while it published) and one that is now a hole.
/// </summary>
internal sealed class TopicSubscribers
{
    private readonly RouteCounts events;
    private readonly Dictionary<RouteKey, RouteCounts> counts;
    private readonly ConcurrentDictionary<RouteKey, Bucket> buckets = new();
    private View view = new([], 0);
    private int[] everyEvent = [];
    private int slot;
    private int kind;
    private int holes;

    private TopicSubscribers(int slot, RouteCounts events, Dictionary<RouteKey, RouteCounts> counts)
    {
        this.slot = slot;
        this.events = events;
        this.counts = counts;
    }

    /// <summary>The subscribers' array (holes are null) and how many of its entries are in use.</summary>
    internal sealed record View(IMemorySubscriber?[] Items, int Count);

    public View Subscribers => Volatile.Read(ref view);

    /// <summary>The column the index routes on; -1 when nothing routes.</summary>
    public int Slot => Volatile.Read(ref slot);

    /// <summary>The kind of value the routes hold: an event whose column holds another kind goes to every subscriber.</summary>
    public ValueKind Kind => (ValueKind)Volatile.Read(ref kind);

    /// <summary>Positions of the subscribers that take every event (ascending).</summary>
    public int[] EveryEvent => Volatile.Read(ref everyEvent);

    /// <summary>The routed subscribers of <paramref name="key"/>, or null when none routes on it.</summary>
    public Bucket? BucketOf(RouteKey key) => buckets.TryGetValue(key, out var bucket) ? bucket : null;

    /// <summary>Counts every routed event of the topic.</summary>
    public RouteCounts Events => events;

    /// <summary>Subscribers still present.</summary>
    public int Living => Subscribers.Count - holes;

    /// <summary>
    /// An empty index. The first routed subscriber fixes the topic's column (<paramref name="slot"/>, kept by the
    /// caller while the topic lives); routed subscribers on another column take every event. Counters per key are kept
    /// in <paramref name="counts"/> so that subscribers keep theirs across rebuilt instances.
    /// </summary>
    public static TopicSubscribers Create(int slot, RouteCounts events, Dictionary<RouteKey, RouteCounts> counts) => new(slot, events, counts);

    /// <summary>
    /// Appends <paramref name="subscriber"/> (under the bus's lock) and returns the count of its key when it is routed.
    /// </summary>
    public RouteCounts? Add(IMemorySubscriber subscriber)
    {
        var current = view;
        var items = current.Items;
        if (current.Count == items.Length)
        {
            Array.Resize(ref items, Math.Max(4, items.Length * 2));
        }

        var position = current.Count;
        items[position] = subscriber;
        RouteCounts? matching = null;
        if (subscriber is IRoutedSubscriber { Route: { } route })
        {
            if (slot < 0)
            {
                Volatile.Write(ref slot, route.Slot);
            }

            if (route.Slot == slot && (kind == 0 || kind == (int)route.Key.Kind))
            {
                if (kind == 0)
                {
                    Volatile.Write(ref kind, (int)route.Key.Kind);
                }

                if (!counts.TryGetValue(route.Key, out var count))
                {
                    counts[route.Key] = count = new RouteCounts();
                }

                var bucket = buckets.GetOrAdd(route.Key, static (_, c) => new Bucket(c), count);
                bucket.Set([.. bucket.Positions, position]);
                matching = count;
            }
        }

        if (matching is null)
        {
            Volatile.Write(ref everyEvent, [.. everyEvent, position]);
        }

        // Published last: a publisher that sees the new count sees the subscriber and its position.
        Volatile.Write(ref view, new View(items, position + 1));
        return matching;
    }

    /// <summary>
    /// Removes the first living occurrence of <paramref name="subscriber"/> (under the bus's lock): whether it was
    /// there, and whether it was routed.
    /// </summary>
    public (bool Removed, bool WasRouted) Remove(IMemorySubscriber subscriber)
    {
        var current = view;
        var position = Array.IndexOf(current.Items, subscriber, 0, current.Count);
        if (position < 0)
        {
            return (false, false);
        }

        var routed = false;
        if (subscriber is IRoutedSubscriber { Route: { } route } && buckets.TryGetValue(route.Key, out var bucket))
        {
            var positions = bucket.Positions;
            var at = Array.BinarySearch(positions, position);
            if (at >= 0)
            {
                bucket.Set([.. positions.AsSpan(0, at), .. positions.AsSpan(at + 1)]);
                routed = true;
            }
        }

        if (!routed)
        {
            var every = everyEvent;
            var at = Array.BinarySearch(every, position);
            if (at >= 0)
            {
                Volatile.Write(ref everyEvent, [.. every.AsSpan(0, at), .. every.AsSpan(at + 1)]);
            }
        }

        // A hole: publishers with this view skip it from now on (one already past it may still deliver, as before).
        Volatile.Write(ref current.Items[position], null);
        holes++;
        return (true, routed);
    }

    /// <summary>Whether the holes outnumber the living subscribers, so that a fresh instance is worth building.</summary>
    public bool Sparse => holes > 16 && holes > Living;

    /// <summary>A fresh instance with the living subscribers in order (under the bus's lock); the counters carry over.</summary>
    public TopicSubscribers Compacted()
    {
        var fresh = new TopicSubscribers(slot, events, counts) { kind = kind };
        var current = view;
        for (var i = 0; i < current.Count; i++)
        {
            if (current.Items[i] is { } subscriber)
            {
                fresh.Add(subscriber);
            }
        }

        return fresh;
    }
}
