using System.Reactive.Concurrency;
using System.Reactive.Linq;

namespace EdgeStream.Benchmarks.Throughput;

/// <summary>
/// Nexmark q3, local item suggestion: sellers in Oregon, Idaho or California with their auctions of category 10, as
/// (name, city, state, auction id). A stream–table join under processing time: the persons are a table (KEY id, the
/// newest 1,000 kept) that each auction joins as it arrives, so the engine is sent the events in their exact order (a
/// person enters the table before any of its auctions comes). This is the spec's unbounded join here because the
/// generator always picks a seller among the 1,000 newest persons; the baseline and Rx.NET keep every matching person.
/// </summary>
internal sealed class NexmarkQ3 : NexmarkScenario
{
    private const string PersonTableDdl =
        "CREATE TABLE person (id BIGINT, name STRING, city STRING, state STRING, dateTime BIGINT) WITH (DATASOURCE=\"person\", TYPE=\"memory\", KEY=\"id\", RETAIN_SIZE=\"1000\")";

    private const string Sql =
        "SELECT person.name AS name, person.city AS city, person.state AS state, auction.id AS id FROM auction INNER JOIN person ON auction.seller = person.id "
        + "WHERE auction.category = 10 AND person.state IN ('OR', 'ID', 'CA')";

    private static readonly string[] Columns = ["name", "city", "state", "id"];

    public override string Name => "nexmark_q3";

    public override string Description => Sql + " (person: a table, KEY id, RETAIN_SIZE 1000)";

    protected override NexKind[] Reads => [NexKind.Person, NexKind.Auction];

    protected override bool InEventOrder => true;

    public override Task<RunOutput> EngineAsync(Timing timing, bool collect) =>
        RunEngineAsync(timing, collect, [AuctionDdl, PersonTableDdl], [new RuleSpec("q3", Sql, EventTime: false)], Columns);

    private static bool Local(string state) => state is "OR" or "ID" or "CA";

    public override RunOutput Baseline(Timing timing, bool collect) => Timed(timing, collect, sink =>
    {
        var sellers = new Dictionary<long, NexPerson>();
        foreach (var (kind, index) in Data.Order)
        {
            if (kind == NexKind.Person)
            {
                var p = Data.Persons[index];
                if (Local(p.State))
                {
                    sellers[p.Id] = p;
                }
            }
            else if (kind == NexKind.Auction)
            {
                var a = Data.Auctions[index];
                if (a.Category == 10 && sellers.TryGetValue(a.Seller, out var p))
                {
                    sink.Add(new Result(p.Name, p.City, p.State, a.Id));
                }
            }
        }
    });

    public override RunOutput? Rx(Timing timing, bool collect) => RxRun(timing, collect, () =>
        Data.Order.ToObservable(ImmediateScheduler.Instance).Publish(events =>
            events.Where(e => e.Kind == NexKind.Auction).Select(e => Data.Auctions[e.Index]).Where(a => a.Category == 10)
                .WithLatestFrom(
                    events.Where(e => e.Kind == NexKind.Person).Select(e => Data.Persons[e.Index]).Where(p => Local(p.State))
                        .Scan(new Dictionary<long, NexPerson>(), (sellers, p) =>
                        {
                            sellers[p.Id] = p;
                            return sellers;
                        }),
                    (a, sellers) => (Auction: a, Found: sellers.TryGetValue(a.Seller, out var p), Person: p))
                .Where(x => x.Found)
                .Select(x => new Result(x.Person.Name, x.Person.City, x.Person.State, x.Auction.Id))));

    /// <summary>A local seller and one of its auctions.</summary>
    private readonly record struct Result(string Name, string City, string State, long Id) : INexResult
    {
        public string Canonical() => $"{Name}|{City}|{State}|{L(Id)}";

        public long Checksum() => Fold.Of(Name.Length, City.Length, State.Length, Id);
    }
}

/// <summary>
/// Nexmark q13, bounded side input join: each bid joined with a static side table of <see cref="SideRows"/> rows
/// (key, value) on <c>auction % SideRows = key</c>. The table (KEY key) is loaded before the timing starts; a stream–table
/// join under processing time. The side input is smaller than the suites' 10,000 rows: the engine joins by scanning the
/// table for every bid (see the report), and the quick run must stay short.
/// </summary>
internal sealed class NexmarkQ13 : NexmarkScenario
{
    private const int SideRows = 100;

    private const string SideDdl = "CREATE TABLE side (key BIGINT, value STRING) WITH (DATASOURCE=\"side\", TYPE=\"memory\", KEY=\"key\")";

    private static readonly string Sql =
        "SELECT bid.auction AS auction, bid.bidder AS bidder, bid.price AS price, bid.dateTime AS dateTime, side.value AS value "
        + $"FROM bid INNER JOIN side ON bid.auction % {SideRows} = side.key";

    private static readonly string[] Columns = ["auction", "bidder", "price", "dateTime", "value"];
    private static readonly string[] SideColumns = ["key", "value"];

    private readonly string[] values = Enumerable.Range(0, SideRows).Select(k => "side-" + Canon.L(k * 7)).ToArray();

    public override string Name => "nexmark_q13";

    public override string Description => Sql + $" (side: a table of {SideRows} rows, KEY key)";

    protected override IEnumerable<(string Stream, IReadOnlyDictionary<string, object?>[] Rows)> Setup =>
        [("side", values.Select((v, k) => (IReadOnlyDictionary<string, object?>)new NexRow(SideColumns, [(long)k, v])).ToArray())];

    public override Task<RunOutput> EngineAsync(Timing timing, bool collect) =>
        RunEngineAsync(timing, collect, [BidDdl, SideDdl], [new RuleSpec("q13", Sql, EventTime: false)], Columns);

    public override RunOutput Baseline(Timing timing, bool collect) => Timed(timing, collect, sink =>
    {
        foreach (var b in Data.Bids)
        {
            sink.Add(new Result(b, values[b.Auction % SideRows]));
        }
    });

    public override RunOutput? Rx(Timing timing, bool collect) =>
        RxBids(timing, collect, bids => bids.Select(b => new Result(b, values[b.Auction % SideRows])));

    /// <summary>A bid with its side value.</summary>
    private readonly record struct Result(NexBid Bid, string Value) : INexResult
    {
        public string Canonical() => $"{L(Bid.Auction)}|{L(Bid.Bidder)}|{L(Bid.Price)}|{L(Bid.DateTime)}|{Value}";

        public long Checksum() => Fold.Of(Bid.Auction, Bid.Bidder, Bid.Price, Bid.DateTime, Value.Length);
    }
}

/// <summary>
/// Nexmark q8, monitor new users: the persons who created an auction in the same <c>TUMBLINGWINDOW(ss, 10)</c> as they
/// joined, under event time: a windowed join of person and auction on <c>id = seller</c>, grouped by person (one row per
/// person and window, as the spec's GROUP BY of each side makes it, with the number of its auctions there, and the
/// window's end rather than its start). A window fires when the watermark, the older of the newest person and the
/// newest auction, passes its end; a stopped rule does not fire the windows it holds.
/// </summary>
internal sealed class NexmarkQ8 : NexmarkScenario
{
    private const long Length = 10_000;

    private const string Sql = "SELECT person.id AS id, person.name AS name, count(*) AS auctions, window_end() AS we "
        + "FROM person INNER JOIN auction ON person.id = auction.seller GROUP BY person.id, person.name, TUMBLINGWINDOW(ss, 10)";

    private static readonly string[] Columns = ["id", "name", "auctions", "we"];

    public override string Name => "nexmark_q8";

    public override string Description => Sql + " (event time)";

    protected override NexKind[] Reads => [NexKind.Person, NexKind.Auction];

    public override Task<RunOutput> EngineAsync(Timing timing, bool collect) =>
        RunEngineAsync(timing, collect, [PersonDdl, AuctionDdl], [new RuleSpec("q8", Sql, EventTime: true)], Columns);

    public override RunOutput Baseline(Timing timing, bool collect) => Timed(timing, collect, sink =>
    {
        var watermark = Math.Min(Data.Persons[^1].DateTime, Data.Auctions[^1].DateTime);
        var persons = new List<NexPerson>();
        var sellers = new Dictionary<long, long>();
        long end = long.MinValue;
        foreach (var (kind, index) in Data.Order)
        {
            if (kind == NexKind.Bid)
            {
                continue;
            }

            var ts = kind == NexKind.Person ? Data.Persons[index].DateTime : Data.Auctions[index].DateTime;
            var at = FirstEnd(ts, Length);
            if (at != end)
            {
                Emit();
                end = at;
            }

            if (kind == NexKind.Person)
            {
                persons.Add(Data.Persons[index]);
            }
            else
            {
                var seller = Data.Auctions[index].Seller;
                sellers[seller] = sellers.GetValueOrDefault(seller) + 1;
            }
        }

        Emit();

        void Emit()
        {
            if (end != long.MinValue && end <= watermark)
            {
                foreach (var p in persons)
                {
                    if (sellers.TryGetValue(p.Id, out var n))
                    {
                        sink.Add(new Result(p.Id, p.Name, n, end));
                    }
                }
            }

            persons.Clear();
            sellers.Clear();
        }
    });

    public override RunOutput? Rx(Timing timing, bool collect) => RxRun(timing, collect, () =>
        Data.Order.ToObservable(ImmediateScheduler.Instance).Concat(Observable.Never<(NexKind Kind, int Index)>())
            .Where(e => e.Kind != NexKind.Bid)
            .Select(e => (e.Kind, e.Index, Ts: e.Kind == NexKind.Person ? Data.Persons[e.Index].DateTime : Data.Auctions[e.Index].DateTime))
            .Publish(events => events
                .GroupByUntil(e => FirstEnd(e.Ts, Length), window => events.Where(e => e.Kind == NexKind.Person && e.Ts >= window.Key).Take(1)
                    .Zip(events.Where(e => e.Kind == NexKind.Auction && e.Ts >= window.Key).Take(1)))
                .SelectMany(window => window.ToList().SelectMany(rows =>
                {
                    var sellers = rows.Where(e => e.Kind == NexKind.Auction).GroupBy(e => Data.Auctions[e.Index].Seller).ToDictionary(g => g.Key, g => g.LongCount());
                    return rows.Where(e => e.Kind == NexKind.Person && sellers.ContainsKey(Data.Persons[e.Index].Id))
                        .Select(e => Data.Persons[e.Index])
                        .Select(p => new Result(p.Id, p.Name, sellers[p.Id], window.Key));
                }))));

    /// <summary>A new user who sold in its first window.</summary>
    private readonly record struct Result(long Id, string Name, long Auctions, long WindowEnd) : INexResult
    {
        public string Canonical() => $"{L(Id)}|{Name}|{L(Auctions)}|{L(WindowEnd)}";

        public long Checksum() => Fold.Of(Id, Name.Length, Auctions, WindowEnd);
    }
}
