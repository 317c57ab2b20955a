using System.Globalization;
using System.Text.Json;

namespace EdgeStream.Benchmarks.Throughput;

/// <summary>
/// <c>throughput [--quick] [--json] [--scenario NAME[,NAME…]]</c>: runs each scenario's engine rule, hand-written
/// baseline and Rx.NET pipeline on the same input, checks that they agree, then times them. Never prompts. The table
/// (or, with <c>--json</c>, one compact JSON object per scenario per line and nothing else) goes to stdout; progress
/// and disagreements to stderr. Exit code 0, 1 when implementations disagree, 2 for bad arguments.
/// </summary>
internal static class ThroughputHarness
{
    /// <summary>Every scenario, in the order they run.</summary>
    public static IReadOnlyList<Func<Scenario>> All { get; } =
    [
        () => new NexmarkQ0(),
        () => new NexmarkQ1(),
        () => new NexmarkQ2(),
    ];

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var quick = false;
        var json = false;
        HashSet<string>? only = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--quick":
                    quick = true;
                    break;
                case "--json":
                    json = true;
                    break;
                case "--scenario" when i + 1 < args.Length:
                    only ??= new HashSet<string>(StringComparer.OrdinalIgnoreCase);
                    only.UnionWith(args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                    break;
                default:
                    await stderr.WriteLineAsync($"error: unknown argument `{args[i]}`; usage: throughput [--quick] [--json] [--scenario NAME[,NAME…]]");
                    return 2;
            }
        }

        var scenarios = All.Select(make => make()).Where(s => only is null || only.Contains(s.Name)).ToList();
        if (only is not null && only.Except(scenarios.Select(s => s.Name), StringComparer.OrdinalIgnoreCase).ToList() is [_, ..] unknown)
        {
            await stderr.WriteLineAsync($"error: no scenario {string.Join(", ", unknown)}; there are: {string.Join(", ", All.Select(m => m().Name))}");
            return 2;
        }

        if (!json)
        {
            await stdout.WriteLineAsync($"{"scenario",-18} {"events",10} {"engine/s",12} {"baseline/s",12} {"rx/s",12} {"ratio",7} {"B/event",9} {"p50 µs",8} {"p99 µs",8}");
        }

        var status = 0;
        foreach (var scenario in scenarios)
        {
            var result = await RunOneAsync(scenario, quick, stderr);
            if (result is null)
            {
                status = 1;
                continue;
            }

            await stdout.WriteLineAsync(json ? result.ToJson() : result.ToTableLine());
            await stdout.FlushAsync();
        }

        return status;
    }

    private static async Task<ScenarioResult?> RunOneAsync(Scenario scenario, bool quick, TextWriter stderr)
    {
        var events = quick ? scenario.QuickEvents : scenario.FullEvents;
        await stderr.WriteLineAsync($"{scenario.Name}: {events:N0} events: {scenario.Description}");
        scenario.Prepare(events);

        // The three must agree before any timing counts.
        var engine = await scenario.EngineAsync(new Timing(), collect: true);
        var baseline = scenario.Baseline(new Timing(), collect: true);
        var rx = scenario.Rx(new Timing(), collect: true);
        var problem = Disagreement(scenario, "engine", engine, baseline) ?? (rx is null ? null : Disagreement(scenario, "rx", rx, baseline));
        if (problem is not null)
        {
            await stderr.WriteLineAsync($"{scenario.Name}: FAILED: {problem}");
            return null;
        }

        await stderr.WriteLineAsync($"{scenario.Name}: engine, baseline{(rx is null ? string.Empty : " and Rx.NET")} agree on {baseline.ResultCount:N0} results");

        // Timing: a warm-up, then the median of three (one with --quick).
        var rounds = quick ? 1 : 3;
        var engineTimes = new List<(Timing Timing, RunOutput Output)>();
        var baselineTimes = new List<Timing>();
        var rxTimes = new List<Timing>();
        for (var round = 0; round <= rounds; round++)
        {
            var t = new Timing();
            var output = await scenario.EngineAsync(t, collect: false);
            var b = new Timing();
            scenario.Baseline(b, collect: false);
            Timing? r = null;
            if (rx is not null)
            {
                r = new Timing();
                scenario.Rx(r, collect: false);
            }

            if (round == 0)
            {
                continue; // warm-up
            }

            engineTimes.Add((t, output));
            baselineTimes.Add(b);
            if (r is not null)
            {
                rxTimes.Add(r);
            }
        }

        var medianEngine = engineTimes.OrderBy(e => e.Timing.Elapsed).ElementAt(engineTimes.Count / 2);
        double Eps(TimeSpan elapsed) => events / Math.Max(elapsed.TotalSeconds, 1e-9);
        var engineEps = Eps(medianEngine.Timing.Elapsed);
        var baselineEps = Eps(baselineTimes.Select(b => b.Elapsed).Order().ElementAt(baselineTimes.Count / 2));
        double? rxEps = rxTimes.Count == 0 ? null : Eps(rxTimes.Select(b => b.Elapsed).Order().ElementAt(rxTimes.Count / 2));
        return new ScenarioResult(scenario.Name, events, engineEps, baselineEps, rxEps, baselineEps / engineEps,
            (double)medianEngine.Timing.Allocated / events, medianEngine.Output.P50Us, medianEngine.Output.P99Us);
    }

    /// <summary>Where <paramref name="actual"/> differs from the baseline's results, or null when they agree.</summary>
    private static string? Disagreement(Scenario scenario, string who, RunOutput actual, RunOutput expected)
    {
        var a = actual.Results ?? [];
        var e = expected.Results ?? [];
        if (!scenario.Ordered)
        {
            a = a.Order(StringComparer.Ordinal).ToList();
            e = e.Order(StringComparer.Ordinal).ToList();
        }

        if (a.Count == 0 && e.Count == 0)
        {
            return $"{who} and baseline produced no result at all: the scenario checks nothing";
        }

        for (var i = 0; i < Math.Min(a.Count, e.Count); i++)
        {
            if (!string.Equals(a[i], e[i], StringComparison.Ordinal))
            {
                return $"{who} result {i} is `{a[i]}`, the baseline's is `{e[i]}`";
            }
        }

        return a.Count == e.Count ? null : $"{who} produced {a.Count:N0} results, the baseline {e.Count:N0}";
    }
}

/// <summary>One scenario's figures.</summary>
internal sealed record ScenarioResult(string Scenario, long Events, double EngineEps, double BaselineEps, double? RxEps,
    double RatioToBaseline, double AllocBytesPerEvent, double? P50Us, double? P99Us)
{
    public string ToJson()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("scenario", Scenario);
            w.WriteNumber("events", Events);
            w.WriteNumber("engine_eps", Math.Round(EngineEps));
            w.WriteNumber("baseline_eps", Math.Round(BaselineEps));
            Number(w, "rx_eps", RxEps is { } rx ? Math.Round(rx) : null);
            w.WriteNumber("ratio_to_baseline", Math.Round(RatioToBaseline, 3));
            w.WriteNumber("alloc_bytes_per_event", Math.Round(AllocBytesPerEvent, 1));
            Number(w, "p50_us", P50Us is { } p50 ? Math.Round(p50, 1) : null);
            Number(w, "p99_us", P99Us is { } p99 ? Math.Round(p99, 1) : null);
            w.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void Number(Utf8JsonWriter w, string name, double? value)
    {
        if (value is { } v && double.IsFinite(v))
        {
            w.WriteNumber(name, v);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    public string ToTableLine()
    {
        static string N(double? v) => v is { } x && double.IsFinite(x) ? x.ToString("N0", CultureInfo.InvariantCulture) : "-";
        static string D(double? v) => v is { } x && double.IsFinite(x) ? x.ToString("0.0", CultureInfo.InvariantCulture) : "-";
        return $"{Scenario,-18} {Events,10:N0} {N(EngineEps),12} {N(BaselineEps),12} {N(RxEps),12} {RatioToBaseline,7:0.00} {D(AllocBytesPerEvent),9} {D(P50Us),8} {D(P99Us),8}";
    }
}
