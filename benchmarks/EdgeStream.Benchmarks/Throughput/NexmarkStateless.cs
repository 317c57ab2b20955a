using System.Reactive.Linq;

namespace EdgeStream.Benchmarks.Throughput;

/// <summary>Nexmark q0: passthrough of bids.</summary>
internal sealed class NexmarkQ0 : NexmarkScenario
{
    private const string Sql = "SELECT auction, bidder, price, dateTime FROM bid";
    private static readonly string[] Columns = ["auction", "bidder", "price", "dateTime"];

    public override string Name => "nexmark_q0";

    public override string Description => Sql;

    public override Task<RunOutput> EngineAsync(Timing timing, bool collect) =>
        RunEngineAsync(timing, collect, [BidDdl], [new RuleSpec("q0", Sql, EventTime: false)], Columns);

    public override RunOutput Baseline(Timing timing, bool collect) => Timed(timing, collect, sink =>
    {
        foreach (var b in Data.Bids)
        {
            sink.Add(new Result(b));
        }
    });

    public override RunOutput? Rx(Timing timing, bool collect) => RxBids(timing, collect, bids => bids.Select(b => new Result(b)));

    /// <summary>A bid as it passes.</summary>
    private readonly record struct Result(NexBid Bid) : INexResult
    {
        public string Canonical() => $"{L(Bid.Auction)}|{L(Bid.Bidder)}|{L(Bid.Price)}|{L(Bid.DateTime)}";

        public long Checksum() => Fold.Of(Bid.Auction, Bid.Bidder, Bid.Price, Bid.DateTime);
    }
}

/// <summary>Nexmark q1: currency conversion.</summary>
internal sealed class NexmarkQ1 : NexmarkScenario
{
    private const string Sql = "SELECT auction, bidder, price * 0.908 AS price, dateTime FROM bid";
    private static readonly string[] Columns = ["auction", "bidder", "price", "dateTime"];

    public override string Name => "nexmark_q1";

    public override string Description => Sql;

    public override Task<RunOutput> EngineAsync(Timing timing, bool collect) =>
        RunEngineAsync(timing, collect, [BidDdl], [new RuleSpec("q1", Sql, EventTime: false)], Columns);

    public override RunOutput Baseline(Timing timing, bool collect) => Timed(timing, collect, sink =>
    {
        foreach (var b in Data.Bids)
        {
            sink.Add(new Result(b.Auction, b.Bidder, b.Price * 0.908, b.DateTime));
        }
    });

    public override RunOutput? Rx(Timing timing, bool collect) =>
        RxBids(timing, collect, bids => bids.Select(b => new Result(b.Auction, b.Bidder, b.Price * 0.908, b.DateTime)));

    /// <summary>A bid with its price converted.</summary>
    private readonly record struct Result(long Auction, long Bidder, double Price, long DateTime) : INexResult
    {
        public string Canonical() => $"{L(Auction)}|{L(Bidder)}|{Canon.F(Price)}|{L(DateTime)}";

        public long Checksum() => Fold.Of(Auction, Bidder, Fold.Of(Price), DateTime);
    }
}

/// <summary>Nexmark q2: selection.</summary>
internal sealed class NexmarkQ2 : NexmarkScenario
{
    private const string Sql = "SELECT auction, price FROM bid WHERE auction % 123 = 0";
    private static readonly string[] Columns = ["auction", "price"];

    public override string Name => "nexmark_q2";

    public override string Description => Sql;

    public override Task<RunOutput> EngineAsync(Timing timing, bool collect) =>
        RunEngineAsync(timing, collect, [BidDdl], [new RuleSpec("q2", Sql, EventTime: false)], Columns);

    public override RunOutput Baseline(Timing timing, bool collect) => Timed(timing, collect, sink =>
    {
        foreach (var b in Data.Bids)
        {
            if (b.Auction % 123 == 0)
            {
                sink.Add(new Result(b.Auction, b.Price));
            }
        }
    });

    public override RunOutput? Rx(Timing timing, bool collect) =>
        RxBids(timing, collect, bids => bids.Where(b => b.Auction % 123 == 0).Select(b => new Result(b.Auction, b.Price)));

    /// <summary>A selected bid's auction and price.</summary>
    private readonly record struct Result(long Auction, long Price) : INexResult
    {
        public string Canonical() => $"{L(Auction)}|{L(Price)}";

        public long Checksum() => Fold.Of(Auction, Price);
    }
}
