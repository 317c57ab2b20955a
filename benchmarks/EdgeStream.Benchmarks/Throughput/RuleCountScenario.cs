using System.Diagnostics;
using System.Globalization;
using System.Reactive.Linq;
using System.Reactive.Subjects;

namespace EdgeStream.Benchmarks.Throughput;

/// <summary>
/// <c>rules_N</c>: N rules on one <c>SHARED</c> memory stream, rule i <c>SELECT deviceId, temperature FROM s WHERE
/// deviceId = "d-(i mod 1000)"</c> (1,000 devices, so each event matches about N/1000 rules), each to a counting sink.
/// Events are typed readings published to the stream's topic (decoded once for all rules); events/s counts events
/// published, with every rule processing them. Results are compared per rule as <c>rule|matches|checksum</c>.
/// Baseline: a loop evaluating every rule's predicate per event. Rx.NET: one subject with N <c>Where</c> subscriptions.
/// Also measured, once per scenario: heap bytes per idle rule (N rules created, no events, full blocking compacting GC
/// before and after) and rules created per second.
/// </summary>
internal sealed class RuleCountScenario(int rules) : FilterScenario
{
    private const string SharedDdl = "CREATE STREAM s (deviceId STRING, temperature FLOAT, humidity FLOAT, ts BIGINT) WITH (DATASOURCE=\"s\", TYPE=\"memory\", SHARED=\"true\")";

    private readonly string[] ruleDevices = Enumerable.Range(0, rules).Select(r => "d-" + (r % 1_000).ToString(CultureInfo.InvariantCulture)).ToArray();
    private long expectedMatches;
    private double idleRuleBytes = double.NaN;
    private double rulesPerSecond = double.NaN;

    public override string Name => "rules_" + rules.ToString(CultureInfo.InvariantCulture);

    /// <summary>200,000 (the harness's --quick size) for every rule count.</summary>
    public override int QuickEvents => 200_000;

    public override int FullEvents => rules switch
    {
        <= 100 => 2_000_000,
        <= 1_000 => 1_000_000,
        _ => 200_000,
    };

    public override string Description => $"{rules:N0} rules on one SHARED stream: SELECT deviceId, temperature FROM s WHERE deviceId = \"d-<i % 1000>\"";

    public override IReadOnlyList<KeyValuePair<string, double>> Extra => [new("idle_rule_bytes", idleRuleBytes)];

    private static string RuleSql(string device) => $"SELECT deviceId, temperature FROM s WHERE deviceId = \"{device}\"";

    public override void Prepare(int events)
    {
        base.Prepare(events);
        var perDevice = new long[1_000];
        for (var i = 0; i < events; i++)
        {
            perDevice[i % 1_000]++;
        }

        expectedMatches = Enumerable.Range(0, rules).Sum(r => perDevice[r % 1_000]);
    }

    /// <summary>Matches and an order-free checksum per rule (temperatures are whole hundredths).</summary>
    private sealed class Tally(int rules)
    {
        public readonly long[] Matches = new long[rules];
        public readonly long[] Checksum = new long[rules];
        public long Total;

        public void Add(int rule, string deviceId, double temperature, string expectedDevice, bool collect)
        {
            Matches[rule]++;
            if (collect)
            {
                Checksum[rule] += (long)Math.Round(temperature * 100) + (string.Equals(deviceId, expectedDevice, StringComparison.Ordinal) ? 0 : 1_000_000_007);
            }
        }

        public List<string>? Results(bool collect) => collect
            ? Enumerable.Range(0, Matches.Length).Select(r => $"r{r.ToString(CultureInfo.InvariantCulture)}|{Canon.L(Matches[r])}|{Canon.L(Checksum[r])}").ToList()
            : null;
    }

    /// <summary>One rule's sink: counts into the shared tally (each rule writes from its own task, so its own slots).</summary>
    private sealed class CountingSink(Tally tally, int rule, string expectedDevice, bool collect) : ISink
    {
        public ValueTask OpenAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask WriteAsync(IReadOnlyList<IReadOnlyDictionary<string, object?>> batch, CancellationToken cancellationToken)
        {
            foreach (var row in batch)
            {
                tally.Add(rule, (string)row["deviceId"]!, (double)row["temperature"]!, expectedDevice, collect);
            }

            Interlocked.Add(ref tally.Total, batch.Count);
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>Full blocking compacting collections until the heap stops shrinking (pools trim on gen-2 collections).</summary>
    private static async Task<long> SettledHeapAsync()
    {
        var last = long.MaxValue;
        for (var round = 0; round < 10; round++)
        {
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            var now = GC.GetTotalMemory(forceFullCollection: true);
            if (Math.Abs(last - now) < 16 * 1024)
            {
                return now;
            }

            last = now;
            await Task.Delay(50);
        }

        return last;
    }

    public override async Task<RunOutput> EngineAsync(Timing timing, bool collect)
    {
        var tally = new Tally(rules);
        await using var engine = new EdgeStreamEngine();
        engine.RegisterSink("count", context =>
        {
            var rule = int.Parse(context.RuleId.AsSpan(1), CultureInfo.InvariantCulture);
            return new CountingSink(tally, rule, ruleDevices[rule], collect);
        });
        engine.Execute(SharedDdl);
        var definitions = new RuleDefinition[rules];
        for (var r = 0; r < rules; r++)
        {
            definitions[r] = new RuleDefinition("r" + r.ToString(CultureInfo.InvariantCulture), RuleSql(ruleDevices[r]));
            definitions[r].Actions.Add(new RuleAction("count", new Dictionary<string, string>()));
        }

        // Idle memory and creation rate, on the first (collecting) run: the rules exist and wait, no event flows.
        var measure = collect && double.IsNaN(idleRuleBytes);
        var before = 0L;
        if (measure)
        {
            before = await SettledHeapAsync();
        }

        var creating = Stopwatch.StartNew();
        foreach (var definition in definitions)
        {
            await engine.CreateRuleAsync(definition);
        }

        creating.Stop();
        if (measure)
        {
            rulesPerSecond = rules / creating.Elapsed.TotalSeconds;
            await Task.Delay(100); // let every rule's task reach its idle wait
            var after = await SettledHeapAsync();
            idleRuleBytes = (double)(after - before) / rules;
            GC.KeepAlive(definitions);
            Console.Error.WriteLine(
                $"{Name}: created {rules:N0} rules in {creating.Elapsed.TotalSeconds:0.000} s ({rulesPerSecond:N0} rules/s); idle heap {(after - before) / 1024.0:N0} KiB = {idleRuleBytes:N0} B per rule");
        }

        timing.Start();
        foreach (var reading in Readings)
        {
            await engine.Memory.PublishObjectAsync("s", reading);
        }

        await WaitAsync(() => Volatile.Read(ref tally.Total) >= expectedMatches, "the rules' results");
        timing.Stop();
        return new RunOutput(tally.Results(collect), tally.Total);
    }

    public override RunOutput Baseline(Timing timing, bool collect)
    {
        var tally = new Tally(rules);
        var devices = ruleDevices;
        timing.Start();
        foreach (var reading in Readings)
        {
            var deviceId = reading.DeviceId;
            for (var r = 0; r < devices.Length; r++)
            {
                if (string.Equals(deviceId, devices[r], StringComparison.Ordinal))
                {
                    tally.Add(r, deviceId, reading.Temperature, devices[r], collect);
                    tally.Total++;
                }
            }
        }

        timing.Stop();
        return new RunOutput(tally.Results(collect), tally.Total);
    }

    public override RunOutput? Rx(Timing timing, bool collect)
    {
        var tally = new Tally(rules);
        using var subject = new Subject<SensorReading>();
        var subscriptions = new IDisposable[rules];
        for (var r = 0; r < rules; r++)
        {
            var rule = r;
            var device = ruleDevices[r];
            subscriptions[r] = subject.Where(x => x.DeviceId == device).Subscribe(x =>
            {
                tally.Add(rule, x.DeviceId, x.Temperature, device, collect);
                tally.Total++;
            });
        }

        timing.Start();
        foreach (var reading in Readings)
        {
            subject.OnNext(reading);
        }

        timing.Stop();
        foreach (var subscription in subscriptions)
        {
            subscription.Dispose();
        }

        return new RunOutput(tally.Results(collect), tally.Total);
    }
}
