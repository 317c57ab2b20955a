using System.Reactive.Linq;

namespace EdgeStream.Benchmarks.Throughput;

/// <summary>
/// Nexmark q5, hot items: the auction(s) with the most bids in each <c>HOPPINGWINDOW(ss, 10, 2)</c> (Flink's version),
/// under event time, as a chain of three rules: the bids per auction per window (to <c>q5_counts</c>), the greatest count
/// per window end (to <c>q5_max</c>), and the counts joined back with it on window end and count. Each rule's windows
/// fire when its watermark passes them and a stopped rule does not fire what it holds, so the chain's results for a
/// window end <c>e</c> are out once a bid at or after <c>e + 4 s</c> has come: the baseline and Rx.NET stop there too.
/// </summary>
internal sealed class NexmarkQ5 : NexmarkScenario
{
    private const long Length = 10_000;
    private const long Hop = 2_000;
    private const long Lag = 2 * Hop; // the max rule and the join each wait for the next 2 s window

    private const string CountsDdl = "CREATE STREAM q5counts (auction BIGINT, num BIGINT, we BIGINT) WITH (DATASOURCE=\"q5_counts\", TYPE=\"memory\", TIMESTAMP=\"we\")";
    private const string MaxDdl = "CREATE STREAM q5max (maxn BIGINT, we BIGINT) WITH (DATASOURCE=\"q5_max\", TYPE=\"memory\", TIMESTAMP=\"we\")";

    private const string CountSql = "SELECT auction, count(*) AS num, window_end() AS we FROM bid GROUP BY auction, HOPPINGWINDOW(ss, 10, 2)";
    private const string MaxSql = "SELECT max(num) AS maxn, we FROM q5counts GROUP BY we, TUMBLINGWINDOW(ss, 2)";
    private const string HotSql = "SELECT q5counts.auction AS auction, q5counts.num AS num, q5counts.we AS we FROM q5counts INNER JOIN q5max "
        + "ON q5counts.we = q5max.we AND q5counts.num = q5max.maxn GROUP BY TUMBLINGWINDOW(ss, 2)";

    private static readonly string[] Columns = ["auction", "num", "we"];

    public override string Name => "nexmark_q5";

    public override string Description => $"{CountSql}; {MaxSql}; {HotSql} (event time)";

    public override Task<RunOutput> EngineAsync(Timing timing, bool collect) =>
        RunEngineAsync(timing, collect, [BidDdl, CountsDdl, MaxDdl],
        [
            new RuleSpec("q5count", CountSql, EventTime: true, Topic: "q5_counts"),
            new RuleSpec("q5max", MaxSql, EventTime: true, Topic: "q5_max"),
            new RuleSpec("q5hot", HotSql, EventTime: true),
        ], Columns);

    public override RunOutput Baseline(Timing timing, bool collect) => Timed(timing, collect, sink =>
    {
        // Counts per auction per 2 s pane; a window is its last five panes.
        var bids = Data.Bids;
        var last = bids[^1].DateTime;
        var panes = new List<(long End, Dictionary<long, long> Counts)>();
        foreach (var b in bids)
        {
            var end = FirstEnd(b.DateTime, Hop);
            if (panes.Count == 0 || panes[^1].End != end)
            {
                panes.Add((end, []));
            }

            var counts = panes[^1].Counts;
            counts[b.Auction] = counts.GetValueOrDefault(b.Auction) + 1;
        }

        var window = new Dictionary<long, long>();
        var first = 0;
        for (var e = panes[0].End; e + Lag <= last; e += Hop)
        {
            while (panes[first].End <= e - Length)
            {
                first++;
            }

            window.Clear();
            for (var p = first; p < panes.Count && panes[p].End <= e; p++)
            {
                foreach (var (auction, n) in panes[p].Counts)
                {
                    window[auction] = window.GetValueOrDefault(auction) + n;
                }
            }

            var max = window.Count == 0 ? 0 : window.Values.Max();
            foreach (var (auction, n) in window)
            {
                if (n == max)
                {
                    sink.Add(new Result(auction, n, e));
                }
            }
        }
    });

    public override RunOutput? Rx(Timing timing, bool collect) => RxRun(timing, collect, () =>
    {
        var firstEnd = FirstEnd(Data.Bids[0].DateTime, Hop);
        IEnumerable<long> EndsOf(long ts)
        {
            for (var end = Math.Max(firstEnd, FirstEnd(ts, Hop)); end - Length <= ts; end += Hop)
            {
                yield return end;
            }
        }

        return EndlessBids().Publish(bids => bids
            .SelectMany(b => EndsOf(b.DateTime).Select(end => (End: end, b.Auction)))
            .GroupByUntil(x => x.End, x => x.Auction, window => bids.Where(b => b.DateTime >= window.Key + Lag))
            .SelectMany(window => window
                .GroupBy(auction => auction)
                .SelectMany(auction => auction.LongCount().Select(n => (Auction: auction.Key, Num: n)))
                .ToList()
                .SelectMany(counts =>
                {
                    var max = counts.Max(c => c.Num);
                    return counts.Where(c => c.Num == max).Select(c => new Result(c.Auction, c.Num, window.Key));
                })));
    });

    /// <summary>A hot auction of a window.</summary>
    private readonly record struct Result(long Auction, long Num, long WindowEnd) : INexResult
    {
        public string Canonical() => $"{L(Auction)}|{L(Num)}|{L(WindowEnd)}";

        public long Checksum() => Fold.Of(Auction, Num, WindowEnd);
    }
}

/// <summary>
/// Nexmark q7, highest bid: in each <c>TUMBLINGWINDOW(ss, 10)</c> under event time, the bid(s) at the window's highest
/// price, as a chain of two rules: the greatest price per window (to <c>q7_max</c>, timestamped at the window's start
/// so that it falls in its own window downstream), then the bids of each window joined with it on price. The join's
/// watermark waits for the next window's maximum, so a window's bids are out once a bid at or after its end + 10 s has
/// come: the baseline and Rx.NET stop there too.
/// </summary>
internal sealed class NexmarkQ7 : NexmarkScenario
{
    private const long Length = 10_000;

    private const string MaxDdl = "CREATE STREAM q7max (maxprice BIGINT, ws BIGINT) WITH (DATASOURCE=\"q7_max\", TYPE=\"memory\", TIMESTAMP=\"ws\")";

    private const string MaxSql = "SELECT max(price) AS maxprice, window_start() AS ws FROM bid GROUP BY TUMBLINGWINDOW(ss, 10)";
    private const string JoinSql = "SELECT bid.auction AS auction, bid.price AS price, bid.bidder AS bidder, bid.dateTime AS dateTime "
        + "FROM bid INNER JOIN q7max ON bid.price = q7max.maxprice GROUP BY TUMBLINGWINDOW(ss, 10)";

    private static readonly string[] Columns = ["auction", "price", "bidder", "dateTime"];

    public override string Name => "nexmark_q7";

    public override string Description => $"{MaxSql}; {JoinSql} (event time)";

    public override Task<RunOutput> EngineAsync(Timing timing, bool collect) =>
        RunEngineAsync(timing, collect, [BidDdl, MaxDdl],
        [
            new RuleSpec("q7max", MaxSql, EventTime: true, Topic: "q7_max"),
            new RuleSpec("q7join", JoinSql, EventTime: true),
        ], Columns);

    public override RunOutput Baseline(Timing timing, bool collect) => Timed(timing, collect, sink =>
    {
        var last = Data.Bids[^1].DateTime;
        var highest = new List<NexBid>();
        long end = long.MinValue;
        foreach (var b in Data.Bids)
        {
            var at = FirstEnd(b.DateTime, Length);
            if (at != end)
            {
                Emit(end);
                end = at;
                highest.Clear();
            }

            if (highest.Count > 0 && b.Price < highest[0].Price)
            {
                continue;
            }

            if (highest.Count > 0 && b.Price > highest[0].Price)
            {
                highest.Clear();
            }

            highest.Add(b);
        }

        Emit(end);

        void Emit(long windowEnd)
        {
            if (windowEnd != long.MinValue && windowEnd + Length <= last)
            {
                foreach (var h in highest)
                {
                    sink.Add(new Result(h));
                }
            }
        }
    });

    public override RunOutput? Rx(Timing timing, bool collect) => RxRun(timing, collect, () =>
        EndlessBids().Publish(bids => bids
            .GroupByUntil(b => FirstEnd(b.DateTime, Length), window => bids.Where(b => b.DateTime >= window.Key + Length))
            .SelectMany(window => window.ToList().SelectMany(rows =>
            {
                var max = rows.Max(b => b.Price);
                return rows.Where(b => b.Price == max).Select(b => new Result(b));
            }))));

    /// <summary>A bid at its window's highest price.</summary>
    private readonly record struct Result(NexBid Bid) : INexResult
    {
        public string Canonical() => $"{L(Bid.Auction)}|{L(Bid.Price)}|{L(Bid.Bidder)}|{L(Bid.DateTime)}";

        public long Checksum() => Fold.Of(Bid.Auction, Bid.Price, Bid.Bidder, Bid.DateTime);
    }
}

/// <summary>
/// Nexmark q11, user sessions, adapted: eKuiper's <c>SESSIONWINDOW(ss, maxLength, timeout)</c> is one session over the
/// whole stream, not one per key, so this counts the bids per bidder in each session of the bid stream
/// (<c>GROUP BY bidder, SESSIONWINDOW(ss, 20, 10)</c>, event time): a session closes when 10 s pass without a bid (the
/// spec's gap) or at an aligned 20 s tick once its first bid is at least 20 s old. Bids never pause for 10 s here, so
/// in practice every session is cut at a tick: the first runs from the first bid to the second tick, each later one
/// from a tick to the next. A stopped rule does not fire the session it holds. <see cref="SessionClock"/> follows
/// the engine's session rules for the baseline and Rx.NET.
/// </summary>
internal sealed class NexmarkQ11 : NexmarkScenario
{
    private const long MaxLength = 20_000;
    private const long Timeout = 10_000;

    private const string Sql = "SELECT bidder, count(*) AS bids, window_start() AS ws, window_end() AS we FROM bid GROUP BY bidder, SESSIONWINDOW(ss, 20, 10)";

    private static readonly string[] Columns = ["bidder", "bids", "ws", "we"];

    public override string Name => "nexmark_q11";

    public override string Description => Sql + " (event time; one session over all bids, not per bidder)";

    public override Task<RunOutput> EngineAsync(Timing timing, bool collect) =>
        RunEngineAsync(timing, collect, [BidDdl], [new RuleSpec("q11", Sql, EventTime: true)], Columns);

    public override RunOutput Baseline(Timing timing, bool collect) => Timed(timing, collect, sink =>
    {
        var clock = new SessionClock(MaxLength, Timeout);
        var counts = new Dictionary<long, long>();
        var session = long.MinValue;
        foreach (var b in Data.Bids)
        {
            var start = clock.Add(b.DateTime);
            if (start != session)
            {
                if (session != long.MinValue)
                {
                    var end = clock.EndOf(session);
                    foreach (var (bidder, n) in counts)
                    {
                        sink.Add(new Result(bidder, n, session, end));
                    }
                }

                counts.Clear();
                session = start;
            }

            counts[b.Bidder] = counts.GetValueOrDefault(b.Bidder) + 1;
        }
    });

    public override RunOutput? Rx(Timing timing, bool collect) => RxRun(timing, collect, () =>
    {
        var clock = new SessionClock(MaxLength, Timeout);
        return EndlessBids()
            .Select(b => (b.Bidder, Session: clock.Add(b.DateTime)))
            .Publish(bids => bids
                .GroupByUntil(x => x.Session, x => x.Bidder, session => bids.Where(x => x.Session != session.Key))
                .SelectMany(session => session
                    .GroupBy(bidder => bidder)
                    .SelectMany(bidder => bidder.LongCount().Select(n => new Result(bidder.Key, n, session.Key, clock.EndOf(session.Key))))));
    });

    /// <summary>A bidder's bids in one session.</summary>
    private readonly record struct Result(long Bidder, long Bids, long Start, long End) : INexResult
    {
        public string Canonical() => $"{L(Bidder)}|{L(Bids)}|{L(Start)}|{L(End)}";

        public long Checksum() => Fold.Of(Bidder, Bids, Start, End);
    }

    /// <summary>
    /// The engine's session window over one stream of event times: the first row opens a session, each row restarts
    /// the timeout, the timeout closes the session at last row + timeout; an aligned tick every max length (counted
    /// from the minute) closes a session whose first row is at least max length old, and the next session starts at
    /// that tick. A row at a due boundary comes after it.
    /// </summary>
    private sealed class SessionClock(long maxLength, long timeout)
    {
        private readonly Dictionary<long, long> ends = [];
        private long nextTick = long.MinValue;
        private long timeoutAt = long.MaxValue;
        private long? sessionStart;
        private long firstAt;
        private bool open;

        /// <summary>Takes a row at <paramref name="time"/> and returns the start of the session it joins.</summary>
        public long Add(long time)
        {
            if (nextTick == long.MinValue)
            {
                nextTick = FirstEnd(time, maxLength);
            }

            Advance(time);
            if (!open)
            {
                open = true;
                firstAt = time;
            }

            sessionStart ??= time;
            timeoutAt = time + timeout;
            return sessionStart.Value;
        }

        /// <summary>Where a session that closed ended.</summary>
        public long EndOf(long start) => ends[start];

        private void Advance(long now)
        {
            while (Math.Min(timeoutAt, nextTick) <= now)
            {
                var tick = nextTick;
                if (timeoutAt <= tick)
                {
                    Close(timeoutAt);
                    sessionStart = null;
                    timeoutAt = long.MaxValue;
                    continue;
                }

                nextTick = open ? tick + maxLength : tick + (Math.Max(1, ((Math.Min(now, timeoutAt) - tick) / maxLength) + 1) * maxLength);
                if (open && firstAt <= tick - maxLength)
                {
                    Close(tick);
                    sessionStart = tick;
                }
            }
        }

        private void Close(long end)
        {
            if (open)
            {
                ends[sessionStart ?? firstAt] = end;
                open = false;
            }
        }
    }
}
