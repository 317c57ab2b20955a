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

/// <summary>
/// What one topic's publisher needs, rebuilt on every change of its subscribers: all of them in subscription order and,
/// when some route on a column, which positions take an event of each key and which take every event.
/// </summary>
internal sealed class TopicSubscribers
{
    private TopicSubscribers(IMemorySubscriber[] all, int slot, Abstractions.ValueKind kind, int[]? everyEvent,
        Dictionary<RouteKey, (int[] Positions, RouteCounts Count)>? buckets, RouteCounts? events)
    {
        All = all;
        Slot = slot;
        Kind = kind;
        EveryEvent = everyEvent;
        Buckets = buckets;
        Events = events;
    }

    public IMemorySubscriber[] All { get; }

    /// <summary>The column the index routes on; -1 when nothing routes.</summary>
    public int Slot { get; }

    /// <summary>The kind of value the routes hold: an event whose column holds another kind goes to every subscriber.</summary>
    public Abstractions.ValueKind Kind { get; }

    /// <summary>Positions of the subscribers that take every event.</summary>
    public int[]? EveryEvent { get; }

    public Dictionary<RouteKey, (int[] Positions, RouteCounts Count)>? Buckets { get; }

    public RouteCounts? Events { get; }

    /// <summary>
    /// The snapshot for <paramref name="all"/>. The first routed subscriber fixes the topic's column (<paramref name="slot"/>,
    /// kept by the caller while the topic lives); routed subscribers on another column take every event. Counters per
    /// key are kept in <paramref name="counts"/> so subscribers joining later share them.
    /// </summary>
    public static TopicSubscribers Build(IMemorySubscriber[] all, ref int slot, RouteCounts events, Dictionary<RouteKey, RouteCounts> counts)
    {
        if (slot < 0)
        {
            foreach (var subscriber in all)
            {
                if (subscriber is IRoutedSubscriber { Route: { } first })
                {
                    slot = first.Slot;
                    break;
                }
            }
        }

        if (slot < 0)
        {
            return new TopicSubscribers(all, -1, default, null, null, null);
        }

        var every = new List<int>();
        var buckets = new Dictionary<RouteKey, List<int>>();
        var kind = default(Abstractions.ValueKind);
        for (var i = 0; i < all.Length; i++)
        {
            if (all[i] is IRoutedSubscriber { Route: { } route } && route.Slot == slot && (kind == default || kind == route.Key.Kind))
            {
                kind = route.Key.Kind;
                if (!buckets.TryGetValue(route.Key, out var positions))
                {
                    buckets[route.Key] = positions = [];
                }

                positions.Add(i);
            }
            else
            {
                every.Add(i);
            }
        }

        var built = new Dictionary<RouteKey, (int[], RouteCounts)>(buckets.Count);
        foreach (var (key, positions) in buckets)
        {
            if (!counts.TryGetValue(key, out var count))
            {
                counts[key] = count = new RouteCounts();
            }

            built[key] = (positions.ToArray(), count);
        }

        return new TopicSubscribers(all, slot, kind, every.ToArray(), built, events);
    }

    /// <summary>Whether <paramref name="subscriber"/> is routed by this snapshot, and by which key's count.</summary>
    public RouteCounts? CountOf(IMemorySubscriber subscriber) =>
        subscriber is IRoutedSubscriber { Route: { } route } && route.Slot == Slot && route.Key.Kind == Kind && Buckets is { } buckets
            && buckets.TryGetValue(route.Key, out var bucket) ? bucket.Count : null;
}
