using System.Collections;

namespace EdgeStream.Benchmarks.Throughput;

/// <summary>A Nexmark person (the fields the queries read).</summary>
internal readonly record struct NexPerson(long Id, string Name, string City, string State, long DateTime);

/// <summary>A Nexmark auction.</summary>
internal readonly record struct NexAuction(long Id, long Seller, long Category, long InitialBid, long Reserve, long DateTime, long Expires);

/// <summary>A Nexmark bid.</summary>
internal readonly record struct NexBid(long Auction, long Bidder, long Price, long DateTime);

/// <summary>The kind of one generated event.</summary>
internal enum NexKind : byte
{
    Person,
    Auction,
    Bid,
}

/// <summary>One generated input: typed events for the baselines, the same events as rows for the engine.</summary>
internal sealed class NexmarkData
{
    public required int Events { get; init; }

    public required NexPerson[] Persons { get; init; }

    public required NexAuction[] Auctions { get; init; }

    public required NexBid[] Bids { get; init; }

    /// <summary>Every event in generation (and event-time) order: its kind and its index in that kind's array.</summary>
    public required (NexKind Kind, int Index)[] Order { get; init; }

    public required IReadOnlyDictionary<string, object?>[] PersonRows { get; init; }

    public required IReadOnlyDictionary<string, object?>[] AuctionRows { get; init; }

    public required IReadOnlyDictionary<string, object?>[] BidRows { get; init; }
}

/// <summary>
/// A deterministic Nexmark generator (after the reference generator of the Nexmark suite, Beam/Flink): events are
/// numbered, each block of 50 holds 1 person, 3 auctions and 46 bids (the spec's 1:3:46); event time starts at a fixed
/// instant and moves <see cref="EventsPerMs"/> events per millisecond (no wall clock); ids start at 1000; an auction's
/// seller is the newest multiple-of-100 person 3 times in 4, else one of the 1,000 newest; categories 10–14, prices 10^[0,6) × 100 cents, bids go to a hot auction (the newest multiple of 100) half
/// the time and to one of the 100 newest auctions otherwise, bidders the hot person 3 times in 4, else one of the 1,000 newest persons. Seeded
/// <see cref="Random"/> only.
/// </summary>
internal static class NexmarkGenerator
{
    public const int EventsPerMs = 2;

    /// <summary>The first event's time: 2026-01-01T00:00:03.217Z, off the window boundaries.</summary>
    public const long StartMs = 1_767_225_603_217;

    public const long FirstId = 1000;

    private const int ProportionDenominator = 50; // 1 person, 3 auctions, 46 bids
    private const int HotRatio = 100;
    private const int ActivePeople = 1000;
    private const int InFlightAuctions = 100;

    private static readonly string[] FirstNames = ["Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"];
    private static readonly string[] LastNames = ["Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"];
    private static readonly string[] Cities = ["Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"];
    private static readonly string[] States = ["AZ", "CA", "ID", "OR", "WA", "WY"];

    private static readonly string[] PersonColumns = ["id", "name", "city", "state", "dateTime"];
    private static readonly string[] AuctionColumns = ["id", "seller", "category", "initialBid", "reserve", "dateTime", "expires"];
    private static readonly string[] BidColumns = ["auction", "bidder", "price", "dateTime"];

    private static NexmarkData? cached;

    /// <summary>The input of <paramref name="events"/> events; the last one is kept, so scenarios of one run share it.</summary>
    public static NexmarkData Get(int events)
    {
        var last = cached;
        if (last is not null && last.Events == events)
        {
            return last;
        }

        cached = null;
        GC.Collect();
        return cached = Generate(events);
    }

    private static NexmarkData Generate(int events)
    {
        var random = new Random(20_260_101);
        var persons = new List<NexPerson>(events / 50 + 1);
        var auctions = new List<NexAuction>((events / 50 * 3) + 3);
        var bids = new List<NexBid>((events / 50 * 46) + 46);
        var order = new (NexKind, int)[events];
        var names = new string[FirstNames.Length * LastNames.Length];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = FirstNames[i / LastNames.Length] + " " + LastNames[i % LastNames.Length];
        }

        for (var n = 0; n < events; n++)
        {
            var ts = StartMs + (n / EventsPerMs);
            var slot = n % ProportionDenominator;
            if (slot == 0 || persons.Count == 0)
            {
                var id = FirstId + persons.Count;
                order[n] = (NexKind.Person, persons.Count);
                persons.Add(new NexPerson(id, names[random.Next(names.Length)], Cities[random.Next(Cities.Length)], States[random.Next(States.Length)], ts));
            }
            else if (slot <= 3 || auctions.Count == 0)
            {
                var id = FirstId + auctions.Count;
                var lastPerson = persons.Count - 1;
                var seller = random.Next(4) > 0
                    ? (lastPerson / HotRatio) * HotRatio
                    : Math.Max(0, lastPerson - random.Next(Math.Min(ActivePeople, persons.Count)));
                var initial = Price(random);
                order[n] = (NexKind.Auction, auctions.Count);
                auctions.Add(new NexAuction(id, FirstId + seller, 10 + random.Next(5), initial, initial + Price(random), ts, ts + 1 + random.Next(20_000)));
            }
            else
            {
                var lastAuction = auctions.Count - 1;
                var auction = random.Next(2) > 0
                    ? (lastAuction / HotRatio) * HotRatio
                    : Math.Max(0, lastAuction - random.Next(Math.Min(InFlightAuctions, auctions.Count)));
                var lastPerson = persons.Count - 1;
                var bidder = random.Next(4) > 0
                    ? (lastPerson / HotRatio) * HotRatio
                    : Math.Max(0, lastPerson - random.Next(Math.Min(ActivePeople, persons.Count)));
                order[n] = (NexKind.Bid, bids.Count);
                bids.Add(new NexBid(FirstId + auction, FirstId + bidder, Price(random), ts));
            }
        }

        // Rows for the engine: boxed once, a millisecond's time shared.
        var boxes = new Dictionary<long, object>();
        object Box(long v)
        {
            if (!boxes.TryGetValue(v, out var box))
            {
                box = v;
                if (boxes.Count < 4_000_000)
                {
                    boxes[v] = box;
                }
            }

            return box;
        }

        return new NexmarkData
        {
            Events = events,
            Persons = [.. persons],
            Auctions = [.. auctions],
            Bids = [.. bids],
            Order = order,
            PersonRows = persons.Select(p => (IReadOnlyDictionary<string, object?>)new NexRow(PersonColumns, [Box(p.Id), p.Name, p.City, p.State, Box(p.DateTime)])).ToArray(),
            AuctionRows = auctions.Select(a => (IReadOnlyDictionary<string, object?>)new NexRow(AuctionColumns,
                [Box(a.Id), Box(a.Seller), Box(a.Category), Box(a.InitialBid), Box(a.Reserve), Box(a.DateTime), Box(a.Expires)])).ToArray(),
            BidRows = bids.Select(b => (IReadOnlyDictionary<string, object?>)new NexRow(BidColumns, [Box(b.Auction), Box(b.Bidder), Box(b.Price), Box(b.DateTime)])).ToArray(),
        };
    }

    /// <summary>The reference generator's price: 10^[0, 6) × 100, in cents.</summary>
    private static long Price(Random random) => (long)Math.Round(Math.Pow(10.0, random.NextDouble() * 6.0) * 100.0);
}

/// <summary>One event as the engine takes it: a read-only dictionary over shared column names and boxed values.</summary>
internal sealed class NexRow(string[] names, object?[] values) : IReadOnlyDictionary<string, object?>
{
    public object? this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException(key);

    public IEnumerable<string> Keys => names;

    public IEnumerable<object?> Values => values;

    public int Count => names.Length;

    public bool ContainsKey(string key) => Array.IndexOf(names, key) >= 0;

    public bool TryGetValue(string key, out object? value)
    {
        for (var i = 0; i < names.Length; i++)
        {
            if (string.Equals(names[i], key, StringComparison.Ordinal))
            {
                value = values[i];
                return true;
            }
        }

        value = null;
        return false;
    }

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        for (var i = 0; i < names.Length; i++)
        {
            yield return new(names[i], values[i]);
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
