using System.Reactive.Linq;
using System.Reactive.Subjects;

namespace EdgeStream.Benchmarks.Throughput;

/// <summary>
/// <c>tumbling_groupby</c> and <c>hopping_groupby</c>: <c>GROUP BY deviceId</c> with avg/max/count on an event-time
/// <c>TUMBLINGWINDOW(ss, 10)</c> or <c>HOPPINGWINDOW(ss, 60, 5)</c>, 1,000 devices, 10 events per ms of event time,
/// pre-decoded events published in batches of 256 (the input and the baseline of <see cref="WindowAggregationBenchmarks"/>).
/// Rx.NET: each event goes to the windows that hold it (<c>SelectMany</c>), <c>GroupByUntil</c> the window's end
/// closes a window when an event at or after its end arrives, and each window groups by device and aggregates.
/// </summary>
internal sealed class WindowScenario(bool hopping) : Scenario
{
    private const string RuleId = "window";
    private const string Ddl = "CREATE STREAM s (deviceId BIGINT, temperature FLOAT, ts BIGINT) WITH (DATASOURCE=\"s\", TIMESTAMP=\"ts\")";

    private readonly long length = hopping ? 60_000 : 10_000;
    private readonly long hop = hopping ? 5_000 : 10_000;
    private IReadOnlyDictionary<string, object?>[] events = [];
    private IReadOnlyDictionary<string, object?>[][] batches = [];
    private (long Device, double Temperature, long Ts)[] typed = [];

    public override string Name => hopping ? "hopping_groupby" : "tumbling_groupby";

    public override int QuickEvents => 1_000_000; // 100 s of event time: full hopping windows fire

    public override int FullEvents => 5_000_000;

    private string Sql => "SELECT deviceId, avg(temperature) AS a, max(temperature) AS m, count(*) AS c, window_end() AS we FROM s GROUP BY deviceId, "
        + (hopping ? "HOPPINGWINDOW(ss, 60, 5)" : "TUMBLINGWINDOW(ss, 10)");

    public override string Description => Sql + " (event time)";

    public override void Prepare(int count)
    {
        events = WindowAggregationBenchmarks.Generate(count);
        batches = events.Chunk(256).ToArray();
        typed = events.Select(e => ((long)e["deviceId"]!, (double)e["temperature"]!, (long)e["ts"]!)).ToArray();
    }

    private static string Canonical(long end, long device, double avg, double max, long count) =>
        $"{Canon.L(end)}|{Canon.L(device)}|{Canon.F(avg)}|{Canon.F(max)}|{Canon.L(count)}";

    public override async Task<RunOutput> EngineAsync(Timing timing, bool collect)
    {
        await using var engine = new EdgeStreamEngine();
        engine.Execute(Ddl);
        var rule = new RuleDefinition(RuleId, Sql);
        rule.Options.IsEventTime = true;
        rule.Options.LateTolerance = TimeSpan.Zero;
        rule.Actions.Add(collect ? new RuleAction("memory", new Dictionary<string, string> { ["topic"] = "out" }) : new RuleAction("nop"));
        using var stop = new CancellationTokenSource();
        var output = collect ? engine.Memory.Subscribe("out", stop.Token, capacity: 1_000_000) : null;
        await engine.CreateRuleAsync(rule);

        timing.Start();
        foreach (var batch in batches)
        {
            await engine.PublishBatchAsync("s", batch);
        }

        await engine.StopRuleAsync(RuleId);
        timing.Stop();
        var status = engine.GetRuleStatus(RuleId);
        if (status.RecordsIn != events.Length || status.Errors != 0)
        {
            throw new InvalidOperationException($"{Name}: the engine took {status.RecordsIn} of {events.Length} events, {status.Errors} errors: {status.LastError}");
        }

        List<string>? kept = null;
        if (output is not null)
        {
            kept = [];
            while (output.TryRead(out var emission))
            {
                kept.AddRange(emission.Select(r => Canonical(
                    (long)r["we"]!, (long)r["deviceId"]!, (double)r["a"]!, (double)r["m"]!, (long)r["c"]!)));
            }
        }

        return new RunOutput(kept, status.RecordsOut);
    }

    public override RunOutput Baseline(Timing timing, bool collect)
    {
        timing.Start();
        var windows = WindowAggregationBenchmarks.Baseline(events, length, hop);
        timing.Stop();
        var kept = collect ? windows.SelectMany(w => w.Rows.Select(r => Canonical(w.End, r.DeviceId, r.Avg, r.Max, r.Count))).ToList() : null;
        return new RunOutput(kept, windows.Sum(w => (long)w.Rows.Count));
    }

    private struct Accumulator
    {
        public double Sum;
        public double Max;
        public long Count;
    }

    public override RunOutput? Rx(Timing timing, bool collect)
    {
        var kept = collect ? new List<string>() : null;
        long results = 0;
        var firstEnd = WindowAggregationBenchmarks.FirstEnd(typed[0].Ts, hop);
        using var subject = new Subject<(long Device, double Temperature, long Ts)>();

        // The ends of the windows that hold an event: end - length <= ts < end, ends on the hop grid from the first.
        IEnumerable<long> EndsOf(long ts)
        {
            var end = ts < firstEnd ? firstEnd : firstEnd + ((((ts - firstEnd) / hop) + 1) * hop);
            for (; end - length <= ts; end += hop)
            {
                yield return end;
            }
        }

        using var subscription = subject
            .SelectMany(e => EndsOf(e.Ts).Select(end => (End: end, Event: e)))
            .GroupByUntil(x => x.End, window => subject.Where(e => e.Ts >= window.Key))
            .SelectMany(window => window
                .GroupBy(x => x.Event.Device)
                .SelectMany(device => device.Aggregate(new Accumulator { Max = double.MinValue }, (acc, x) =>
                {
                    acc.Sum += x.Event.Temperature;
                    acc.Max = Math.Max(acc.Max, x.Event.Temperature);
                    acc.Count++;
                    return acc;
                }).Select(acc => (window.Key, device.Key, acc))))
            .Subscribe(r =>
            {
                results++;
                kept?.Add(Canonical(r.Item1, r.Item2, r.acc.Sum / r.acc.Count, r.acc.Max, r.acc.Count));
            });

        timing.Start();
        foreach (var e in typed)
        {
            subject.OnNext(e); // never completed: windows still open when the input stops do not fire, as in the engine
        }

        timing.Stop();
        return new RunOutput(kept, results);
    }
}
