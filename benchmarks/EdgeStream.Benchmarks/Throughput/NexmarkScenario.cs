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

    public override int FullEvents => 2_000_000;

    public override void Prepare(int events)
    {
        Data = NexmarkGenerator.Get(events);
        batches = MakeBatches(Data, Reads);
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

    /// <summary>Batches of at most <see cref="BatchSize"/> rows per stream, sent in event-time order of their first rows.</summary>
    private static (string, IReadOnlyDictionary<string, object?>[])[] MakeBatches(NexmarkData data, NexKind[] kinds)
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

    /// <summary>Runs a baseline body between the timing marks and wraps what it collected.</summary>
    protected static RunOutput Timed(Timing timing, bool collect, Action<Action<string>?> body)
    {
        var results = collect ? new List<string>() : null;
        timing.Start();
        body(results is null ? null : results.Add);
        timing.Stop();
        return new RunOutput(results, results?.Count ?? 0);
    }

    /// <summary>An Rx pipeline over the bids, run synchronously to its end between the timing marks.</summary>
    protected RunOutput RxBids(Timing timing, bool collect, Func<IObservable<NexBid>, IObservable<string>> pipeline)
    {
        var results = collect ? new List<string>() : null;
        long count = 0;
        timing.Start();
        using (pipeline(Data.Bids.ToObservable(ImmediateScheduler.Instance)).Subscribe(s =>
               {
                   count++;
                   results?.Add(s);
               }))
        {
        }

        timing.Stop();
        return new RunOutput(results, count);
    }

    protected static string L(long v) => Canon.L(v);
}
