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

    public override RunOutput Baseline(Timing timing, bool collect) => Timed(timing, collect, emit =>
    {
        foreach (var b in Data.Bids)
        {
            emit?.Invoke(Row(b));
        }
    });

    public override RunOutput? Rx(Timing timing, bool collect) => RxBids(timing, collect, bids => bids.Select(Row));

    private static string Row(NexBid b) => $"{L(b.Auction)}|{L(b.Bidder)}|{L(b.Price)}|{L(b.DateTime)}";
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

    public override RunOutput Baseline(Timing timing, bool collect) => Timed(timing, collect, emit =>
    {
        foreach (var b in Data.Bids)
        {
            var price = b.Price * 0.908;
            emit?.Invoke(Row(b, price));
        }
    });

    public override RunOutput? Rx(Timing timing, bool collect) =>
        RxBids(timing, collect, bids => bids.Select(b => (b, Price: b.Price * 0.908)).Select(p => Row(p.b, p.Price)));

    private static string Row(NexBid b, double price) => $"{L(b.Auction)}|{L(b.Bidder)}|{Canon.F(price)}|{L(b.DateTime)}";
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

    public override RunOutput Baseline(Timing timing, bool collect) => Timed(timing, collect, emit =>
    {
        foreach (var b in Data.Bids)
        {
            if (b.Auction % 123 == 0)
            {
                emit?.Invoke($"{L(b.Auction)}|{L(b.Price)}");
            }
        }
    });

    public override RunOutput? Rx(Timing timing, bool collect) =>
        RxBids(timing, collect, bids => bids.Where(b => b.Auction % 123 == 0).Select(b => $"{L(b.Auction)}|{L(b.Price)}"));
}
