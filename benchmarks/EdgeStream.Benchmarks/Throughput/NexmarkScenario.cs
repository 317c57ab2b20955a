using System.Reactive.Concurrency;
using System.Reactive.Linq;

namespace EdgeStream.Benchmarks.Throughput;

/// <summary>
/// What the Nexmark scenarios share: the generated input, the engine run (streams declared, rules created, events
/// published in batches of 256 in event-time order, rules stopped upstream first so a chain drains), window helpers.
/// Throughput counts every generated event (persons, auctions and bids), whichever of them a query reads.
/// </summary>
internal abstract class NexmarkScenario : Scenario
{
    protected const int BatchSize = 256;

    protected const string PersonDdl =
        "CREATE STREAM person (id BIGINT, name STRING, city STRING, state STRING, dateTime BIGINT) WITH (DATASOURCE=\"person\", TYPE=\"memory\", TIMESTAMP=\"dateTime\")";

    protected const string AuctionDdl =
        "CREATE STREAM auction (id BIGINT, seller BIGINT, category BIGINT, initialBid BIGINT, reserve BIGINT, dateTime BIGINT, expires BIGINT) WITH (DATASOURCE=\"auction\", TYPE=\"memory\", TIMESTAMP=\"dateTime\")";

    protected const string BidDdl =
        "CREATE STREAM bid (auction BIGINT, bidder BIGINT, price BIGINT, dateTime BIGINT) WITH (DATASOURCE=\"bid\", TYPE=\"memory\", TIMESTAMP=\"dateTime\")";

    private const string OutTopic = "nexmark_out";

    private (string Stream, IReadOnlyDictionary<string, object?>[] Rows)[] batches = [];

    protected NexmarkData Data { get; private set; } = null!;

    /// <summary>Which kinds the query reads: the engine is sent only these (in event-time order).</summary>
    protected virtual NexKind[] Reads => [NexKind.Bid];

    /// <summary>
    /// Whether the engine must see the events in their exact order across kinds (a stream–table join under processing
    /// time: a person must be in the table before its auction arrives): a batch then ends wherever the kind changes.
    /// Otherwise each kind is batched by itself (event time puts them back in order).
    /// </summary>
    protected virtual bool InEventOrder => false;

    public override int FullEvents => 2_000_000;

    public override void Prepare(int events)
    {
        Data = NexmarkGenerator.Get(events);
        batches = MakeBatches(Data, Reads, InEventOrder);
    }

    /// <summary>One rule of the scenario; its results go to <paramref name="Topic"/> (the last rule's to the collector).</summary>
    protected sealed record RuleSpec(string Id, string Sql, bool EventTime, string? Topic = null);

    /// <summary>Rows published before timing starts (a table's contents).</summary>
    protected virtual IEnumerable<(string Stream, IReadOnlyDictionary<string, object?>[] Rows)> Setup => [];

    protected async Task<RunOutput> RunEngineAsync(Timing timing, bool collect, string[] ddl, RuleSpec[] rules, string[] columns)
    {
        await using var engine = new EdgeStreamEngine();
        foreach (var statement in ddl)
        {
            engine.Execute(statement);
        }

        var results = new List<string>();
        IDisposable? subscription = null;
        if (collect)
        {
            subscription = engine.Memory.Subscribe(OutTopic, (rows, _) =>
            {
                lock (results)
                {
                    foreach (var row in rows)
                    {
                        results.Add(Canon.Row(row, columns));
                    }
                }

                return ValueTask.CompletedTask;
            });
        }

        for (var i = 0; i < rules.Length; i++)
        {
            var spec = rules[i];
            var rule = new RuleDefinition(spec.Id, spec.Sql);
            if (spec.EventTime)
            {
                rule.Options.IsEventTime = true;
                rule.Options.LateTolerance = TimeSpan.Zero;
            }

            var last = i == rules.Length - 1;
            rule.Actions.Add(last && !collect
                ? new RuleAction("nop")
                : new RuleAction("memory", new Dictionary<string, string> { ["topic"] = last ? OutTopic : spec.Topic! }));
            await engine.CreateRuleAsync(rule);
        }

        foreach (var (stream, rows) in Setup)
        {
            await engine.PublishBatchAsync(stream, rows);
        }

        timing.Start();
        foreach (var (stream, rows) in batches)
        {
            await engine.PublishBatchAsync(stream, rows);
        }

        foreach (var spec in rules)
        {
            await engine.StopRuleAsync(spec.Id);
        }

        timing.Stop();
        subscription?.Dispose();
        long count = 0;
        foreach (var spec in rules)
        {
            var status = engine.GetRuleStatus(spec.Id);
            if (status.Errors != 0)
            {
                throw new InvalidOperationException($"{Name}: rule {spec.Id} had {status.Errors} errors: {status.LastError}");
            }

            count = status.RecordsOut;
        }

        return collect ? new RunOutput(results, results.Count) : new RunOutput(null, count);
    }

    /// <summary>
    /// Batches of at most <see cref="BatchSize"/> rows per stream, each sent once it is full (in event-time order of
    /// their last rows); with <paramref name="inOrder"/>, a batch also ends where the next event read is of another kind.
    /// </summary>
    private static (string, IReadOnlyDictionary<string, object?>[])[] MakeBatches(NexmarkData data, NexKind[] kinds, bool inOrder)
    {
        if (kinds is [NexKind.Bid])
        {
            return data.BidRows.Chunk(BatchSize).Select(b => ("bid", b)).ToArray();
        }

        var result = new List<(string, IReadOnlyDictionary<string, object?>[])>();
        var pending = new List<IReadOnlyDictionary<string, object?>>[3];
        for (var k = 0; k < 3; k++)
        {
            pending[k] = new List<IReadOnlyDictionary<string, object?>>(BatchSize);
        }

        string[] streams = ["person", "auction", "bid"];
        foreach (var (kind, index) in data.Order)
        {
            if (Array.IndexOf(kinds, kind) < 0)
            {
                continue;
            }

            if (inOrder)
            {
                for (var k = 0; k < 3; k++)
                {
                    if (k != (int)kind && pending[k].Count > 0)
                    {
                        result.Add((streams[k], pending[k].ToArray()));
                        pending[k].Clear();
                    }
                }
            }

            var list = pending[(int)kind];
            list.Add(kind switch
            {
                NexKind.Person => data.PersonRows[index],
                NexKind.Auction => data.AuctionRows[index],
                _ => data.BidRows[index],
            });
            if (list.Count == BatchSize)
            {
                result.Add((streams[(int)kind], list.ToArray()));
                list.Clear();
            }
        }

        for (var k = 0; k < 3; k++)
        {
            if (pending[k].Count > 0)
            {
                result.Add((streams[k], pending[k].ToArray()));
            }
        }

        return [.. result];
    }

    /// <summary>The first window boundary strictly after <paramref name="ts"/>: hop multiples counted from the minute, as the engine aligns seconds.</summary>
    protected static long FirstEnd(long ts, long hop)
    {
        var minute = ts - (ts % 60_000);
        return minute + ((((ts - minute) / hop) + 1) * hop);
    }

    /// <summary>Runs a baseline body between the timing marks and returns what it sent to the sink.</summary>
    protected static RunOutput Timed(Timing timing, bool collect, Action<ResultSink> body)
    {
        var sink = new ResultSink(collect);
        timing.Start();
        body(sink);
        timing.Stop();
        return sink.Output();
    }

    /// <summary>An Rx pipeline over the bids, run synchronously to its end between the timing marks.</summary>
    protected RunOutput RxBids<T>(Timing timing, bool collect, Func<IObservable<NexBid>, IObservable<T>> pipeline)
        where T : INexResult =>
        RxRun(timing, collect, () => pipeline(Data.Bids.ToObservable(ImmediateScheduler.Instance)));

    /// <summary>
    /// An Rx pipeline (built between the timing marks) run synchronously until its input is consumed, its results sent
    /// to the sink. A pipeline whose input never completes keeps its open windows unfired, as the engine does.
    /// </summary>
    protected static RunOutput RxRun<T>(Timing timing, bool collect, Func<IObservable<T>> pipeline)
        where T : INexResult
    {
        var sink = new ResultSink(collect);
        timing.Start();
        using (pipeline().Subscribe(r => sink.Add(r)))
        {
        }

        timing.Stop();
        return sink.Output();
    }

    /// <summary>The bids as an observable that never completes once they are out (windows still open do not fire).</summary>
    protected IObservable<NexBid> EndlessBids() => Data.Bids.ToObservable(ImmediateScheduler.Instance).Concat(Observable.Never<NexBid>());

    protected static string L(long v) => Canon.L(v);
}

/// <summary>One result of a Nexmark query: its canonical text (collected runs) and a checksum of its values (timed runs).</summary>
internal interface INexResult
{
    /// <summary>The result as the canonical text the three implementations are compared on.</summary>
    string Canonical();

    /// <summary>The result's values folded into one number, cheaply (string columns by length).</summary>
    long Checksum();
}

/// <summary>
/// Where the results of a baseline or an Rx pipeline go: collected as canonical text, or, in a timed run, counted and
/// folded into a checksum that is returned, so that the values are computed and the JIT cannot drop the work.
/// </summary>
internal sealed class ResultSink(bool collect)
{
    private readonly List<string>? kept = collect ? [] : null;
    private long count;
    private long checksum;

    public void Add<T>(in T result)
        where T : INexResult
    {
        count++;
        if (kept is not null)
        {
            kept.Add(result.Canonical());
        }
        else
        {
            checksum = unchecked((checksum * 1_000_003) + result.Checksum());
        }
    }

    /// <summary>What was sent: the texts when collected, the count, the checksum.</summary>
    public RunOutput Output() => new(kept, count, Checksum: checksum);
}

/// <summary>Folding values into a checksum.</summary>
internal static class Fold
{
    public static long Of(long a, long b = 0, long c = 0, long d = 0, long e = 0) =>
        unchecked((((((((a * 31) + b) * 31) + c) * 31) + d) * 31) + e);

    public static long Of(double value) => BitConverter.DoubleToInt64Bits(value);
}
