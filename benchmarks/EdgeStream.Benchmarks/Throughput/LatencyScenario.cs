using System.Diagnostics;
using System.Reactive.Linq;
using System.Reactive.Subjects;

namespace EdgeStream.Benchmarks.Throughput;

/// <summary>
/// <c>latency</c>: the typed filter rule (<see cref="FilterScenario.Sql"/> over <see cref="SensorReading"/> objects) fed
/// open-loop at paced rates: send times are scheduled on the <see cref="Stopwatch"/> at the rate (spinning, sleeping
/// when far ahead), latency is the sink's receive time minus the scheduled send time. Rates double from 10,000/s until
/// p99 exceeds 1 ms or 2,000,000/s is reached. engine_eps is the highest rate whose p99 is at most 1 ms; p50/p99 are
/// measured at 10,000/s, whose results the three implementations must agree on. If the sweep published fewer events
/// than the scenario's count, a last step at the highest sustained rate publishes the rest (its figures go to stderr).
/// Baseline: a paced hand-written loop; Rx.NET: a paced subject with <c>Where</c> and <c>Select</c>. engine_eps is 0
/// when not even 10,000/s held. With the environment variable <c>EDGESTREAM_LATENCY_DETAIL</c> set, each step's
/// p50/p90/p95/p98/p99/max go to stderr.
/// </summary>
internal sealed class LatencyScenario : FilterScenario
{
    private const int FirstRate = 10_000;
    private const int MaxRate = 2_000_000;
    private static readonly long MaxP99Ticks = Stopwatch.Frequency / 1_000;

    private double firstStepSeconds = 0.5;
    private double stepSeconds = 0.2;

    public override string Name => "latency";

    public override int FullEvents => 1_000_000;

    public override string Description => $"{Sql} (typed objects), paced open-loop from 10,000/s doubling: highest rate with p99 <= 1 ms; p50/p99 at 10,000/s";

    public override void Prepare(int events)
    {
        base.Prepare(events);
        (firstStepSeconds, stepSeconds) = events <= QuickEvents ? (0.5, 0.2) : (2.0, 1.0);
    }

    /// <summary>What one paced step measured.</summary>
    private sealed record StepOutcome(double P50Us, double P99Us, long P99Ticks, List<string>? Kept, long Count);

    /// <summary>The inputs and schedule of one step: input k is reading (start + k) mod pool, sent at t0 + k / rate.</summary>
    private sealed class Step
    {
        public Step(SensorReading[] pool, int rate, int start, int count, bool collect)
        {
            Rate = rate;
            Inputs = new SensorReading[count];
            var passing = new List<int>(count / 2 + 1);
            for (var k = 0; k < count; k++)
            {
                Inputs[k] = pool[(start + k) % pool.Length];
                if (Inputs[k].Temperature > 25)
                {
                    passing.Add(k);
                }
            }

            Passing = [.. passing];
            Received = new long[Passing.Length];
            Kept = collect ? new List<string>(Passing.Length) : null;
        }

        public int Rate { get; }

        public SensorReading[] Inputs { get; }

        public int[] Passing { get; }

        public long[] Received { get; }

        public List<string>? Kept { get; }

        public int Count;

        public long T0;

        public long Scheduled(int k) => T0 + (long)(k * (double)Stopwatch.Frequency / Rate);

        /// <summary>Records a result (in input order): its receive stamp, and its text when collecting.</summary>
        public void Receive(long now, string deviceId, double f)
        {
            Kept?.Add(Canonical(deviceId, f));
            if (Count < Received.Length)
            {
                Received[Count] = now;
            }

            Volatile.Write(ref Count, Count + 1);
        }

        public StepOutcome Outcome()
        {
            var received = Math.Min(Count, Passing.Length);
            var samples = new long[received];
            for (var j = 0; j < received; j++)
            {
                samples[j] = Received[j] - Scheduled(Passing[j]);
            }

            var (p50, p99) = Percentiles.Of(samples, received);
            if (Environment.GetEnvironmentVariable("EDGESTREAM_LATENCY_DETAIL") is not null && received > 0)
            {
                Array.Sort(samples);
                double Us(double q) => samples[Math.Min(received - 1, (int)(q * received))] * 1e6 / Stopwatch.Frequency;
                Console.Error.WriteLine($"  rate {Rate}: p50 {Us(0.5):0.0} p90 {Us(0.9):0.0} p95 {Us(0.95):0.0} p98 {Us(0.98):0.0} p99 {Us(0.99):0.0} max {Us(1):0.0}; over 1ms: {samples.Count(x => x > Stopwatch.Frequency / 1000)}");
            }

            return new StepOutcome(p50, p99, (long)(p99 * Stopwatch.Frequency / 1_000_000.0), Kept, Count);
        }
    }

    /// <summary>Waits (open loop: never for the consumer) until the scheduled tick: sleeps when far, spins when near.</summary>
    private static void WaitUntil(long tick)
    {
        var sleepAbove = Stopwatch.Frequency / 500; // 2 ms
        while (true)
        {
            var left = tick - Stopwatch.GetTimestamp();
            if (left <= 0)
            {
                return;
            }

            if (left > sleepAbove)
            {
                Thread.Sleep(1);
            }
            else
            {
                Thread.SpinWait(20);
            }
        }
    }

    /// <summary>
    /// The sweep, the same for all three: runs each step (<paramref name="run"/> publishes it paced and returns when
    /// every result is in), returns the 10,000/s step's outcome, the highest rate with p99 within 1 ms, and the events sent.
    /// </summary>
    private async Task<(StepOutcome First, int Best, long Sent)> SweepAsync(string who, bool collect, Func<Step, ValueTask> run)
    {
        StepOutcome? first = null;
        var best = 0;
        long sent = 0;
        var start = 0;
        for (var rate = FirstRate; ; rate = Math.Min(rate * 2, MaxRate))
        {
            var seconds = rate == FirstRate ? firstStepSeconds : stepSeconds;
            var step = new Step(Readings, rate, start, (int)(rate * seconds), collect && rate == FirstRate);
            await run(step);
            var outcome = step.Outcome();
            start = (int)((start + (long)step.Inputs.Length) % Readings.Length);
            sent += step.Inputs.Length;
            first ??= outcome;
            if (outcome.P99Ticks > MaxP99Ticks || double.IsNaN(outcome.P99Us))
            {
                break;
            }

            best = rate;
            if (rate >= MaxRate)
            {
                break;
            }
        }

        if (sent < Readings.Length && best > 0)
        {
            // Top up to the scenario's event count at the highest rate that held: a longer run at that rate.
            var step = new Step(Readings, best, start, (int)(Readings.Length - sent), collect: false);
            await run(step);
            var outcome = step.Outcome();
            sent += step.Inputs.Length;
            if (collect)
            {
                await Console.Error.WriteLineAsync($"latency: {who}: {step.Inputs.Length:N0} more events at {best:N0}/s: p50 {outcome.P50Us:0.0} µs, p99 {outcome.P99Us:0.0} µs");
            }
        }

        if (collect)
        {
            await Console.Error.WriteLineAsync($"latency: {who}: highest rate with p99 <= 1 ms: {best:N0}/s; at 10,000/s p50 {first!.P50Us:0.0} µs, p99 {first.P99Us:0.0} µs; {sent:N0} events");
        }

        return (first!, best, sent);
    }

    private static RunOutput Output((StepOutcome First, int Best, long Sent) sweep) =>
        new(sweep.First.Kept, sweep.First.Count, sweep.First.P50Us, sweep.First.P99Us, sweep.Best, sweep.Sent);

    /// <summary>The rule's sink: hands each row to the current step.</summary>
    private sealed class StepSink : ISink
    {
        public Step? Current;

        public ValueTask OpenAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask WriteAsync(IReadOnlyList<IReadOnlyDictionary<string, object?>> batch, CancellationToken cancellationToken)
        {
            var now = Stopwatch.GetTimestamp();
            var step = Volatile.Read(ref Current)!;
            foreach (var row in batch)
            {
                step.Receive(now, (string)row["deviceId"]!, (double)row["f"]!);
            }

            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    public override async Task<RunOutput> EngineAsync(Timing timing, bool collect)
    {
        var sink = new StepSink();
        await using var engine = new EdgeStreamEngine();
        engine.RegisterSink("rows", _ => sink);
        engine.Execute(Ddl);
        var rule = new RuleDefinition("latency", Sql);
        rule.Actions.Add(new RuleAction("rows", new Dictionary<string, string>()));
        await engine.CreateRuleAsync(rule);

        timing.Start();
        var sweep = await SweepAsync("engine", collect, async step =>
        {
            Volatile.Write(ref sink.Current, step);

            // The paced loop spins: on a thread of its own, so the engine's tasks keep the thread pool to themselves.
            var publisher = new Thread(() =>
            {
                step.T0 = Stopwatch.GetTimestamp();
                for (var k = 0; k < step.Inputs.Length; k++)
                {
                    WaitUntil(step.Scheduled(k));
                    var pending = engine.PublishObjectAsync("s", step.Inputs[k]);
                    if (!pending.IsCompletedSuccessfully)
                    {
                        pending.AsTask().GetAwaiter().GetResult();
                    }
                }
            }) { IsBackground = true, Name = "latency publisher" };
            publisher.Start();
            publisher.Join();
            await WaitAsync(() => Volatile.Read(ref step.Count) >= step.Passing.Length, "the rule's results");
        });
        timing.Stop();
        return Output(sweep);
    }

    public override RunOutput Baseline(Timing timing, bool collect)
    {
        timing.Start();
        var sweep = SweepAsync("baseline", collect, step =>
        {
            step.T0 = Stopwatch.GetTimestamp();
            for (var k = 0; k < step.Inputs.Length; k++)
            {
                WaitUntil(step.Scheduled(k));
                var r = step.Inputs[k];
                if (r.Temperature > 25)
                {
                    step.Receive(Stopwatch.GetTimestamp(), r.DeviceId, (r.Temperature * 1.8) + 32);
                }
            }

            return ValueTask.CompletedTask;
        }).GetAwaiter().GetResult();
        timing.Stop();
        return Output(sweep);
    }

    public override RunOutput? Rx(Timing timing, bool collect)
    {
        Step? current = null;
        using var subject = new Subject<SensorReading>();
        using var subscription = subject
            .Where(r => r.Temperature > 25)
            .Select(r => new FilterResult(r.DeviceId, (r.Temperature * 1.8) + 32))
            .Subscribe(r => current!.Receive(Stopwatch.GetTimestamp(), r.DeviceId, r.F));
        timing.Start();
        var sweep = SweepAsync("rx", collect, step =>
        {
            current = step;
            step.T0 = Stopwatch.GetTimestamp();
            for (var k = 0; k < step.Inputs.Length; k++)
            {
                WaitUntil(step.Scheduled(k));
                subject.OnNext(step.Inputs[k]);
            }

            return ValueTask.CompletedTask;
        }).GetAwaiter().GetResult();
        timing.Stop();
        return Output(sweep);
    }
}
