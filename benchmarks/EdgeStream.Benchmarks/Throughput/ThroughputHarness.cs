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
        () => new JsonFilterScenario(),
        () => new TypedFilterScenario(),
        () => new WindowScenario(hopping: false),
        () => new WindowScenario(hopping: true),
        () => new NexmarkQ0(),
        () => new NexmarkQ1(),
        () => new NexmarkQ2(),
        () => new NexmarkQ3(),
        () => new NexmarkQ5(),
        () => new NexmarkQ7(),
        () => new NexmarkQ8(),
        () => new NexmarkQ11(),
        () => new NexmarkQ13(),
        () => new RuleCountScenario(1),
        () => new RuleCountScenario(100),
        () => new RuleCountScenario(1_000),
        () => new RuleCountScenario(10_000),
        () => new LatencyScenario(),
    ];

    public static Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr) => RunAsync(args, stdout, stderr, All);

    /// <summary>Runs <paramref name="all"/> rather than <see cref="All"/> (tests of the harness itself).</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, IReadOnlyList<Func<Scenario>> all)
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

        var scenarios = all.Select(make => make()).Where(s => only is null || only.Contains(s.Name)).ToList();
        if (only is not null && only.Except(scenarios.Select(s => s.Name), StringComparer.OrdinalIgnoreCase).ToList() is [_, ..] unknown)
        {
            await stderr.WriteLineAsync($"error: no scenario {string.Join(", ", unknown)}; there are: {string.Join(", ", all.Select(m => m().Name))}");
            return 2;
        }

        if (!json)
        {
            await stdout.WriteLineAsync($"{"scenario",-18} {"events",10} {"engine/s",12} {"baseline/s",12} {"rx/s",12} {"ratio",7} {"B/event",9} {"p50 µs",8} {"p99 µs",8}");
        }

        var status = 0;
        foreach (var scenario in scenarios)
        {
            ScenarioResult? result;
            try
            {
                result = await RunOneAsync(scenario, quick, stderr);
            }
#pragma warning disable CA1031 // One scenario's failure is reported and the others still run; the exit code says it.
            catch (Exception e)
#pragma warning restore CA1031
            {
                await stderr.WriteLineAsync($"{scenario.Name}: FAILED: {e}");
                result = null;
            }

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
        var engineCheck = new Timing();
        var baselineCheck = new Timing();
        var rxCheck = new Timing();
        var engine = await scenario.EngineAsync(engineCheck, collect: true);
        var baseline = scenario.Baseline(baselineCheck, collect: true);
        var rx = scenario.Rx(rxCheck, collect: true);
        var problem = Disagreement(scenario, "engine", engine, baseline) ?? (rx is null ? null : Disagreement(scenario, "rx", rx, baseline));
        if (problem is not null)
        {
            await stderr.WriteLineAsync($"{scenario.Name}: FAILED: {problem}");
            return null;
        }

        await stderr.WriteLineAsync($"{scenario.Name}: engine, baseline{(rx is null ? string.Empty : " and Rx.NET")} agree on {baseline.ResultCount:N0} results");

        // Timing: a warm-up, then the median of three. With --quick (a smoke run) the checked run is the timed one,
        // results collection and first-call compilation included, so that every scenario runs its full event count
        // once per implementation and the whole set stays within two minutes.
        var engineTimes = new List<(Timing Timing, RunOutput Output)>();
        var baselineTimes = new List<(Timing Timing, RunOutput Output)>();
        var rxTimes = new List<(Timing Timing, RunOutput Output)>();
        if (quick)
        {
            engineTimes.Add((engineCheck, engine));
            baselineTimes.Add((baselineCheck, baseline));
            if (rx is not null)
            {
                rxTimes.Add((rxCheck, rx));
            }
        }

        for (var round = 0; !quick && round <= 3; round++)
        {
            var t = new Timing();
            var output = await scenario.EngineAsync(t, collect: false);
            var b = new Timing();
            var baselineOutput = scenario.Baseline(b, collect: false);
            Timing? r = null;
            RunOutput? rxOutput = null;
            if (rx is not null)
            {
                r = new Timing();
                rxOutput = scenario.Rx(r, collect: false);
            }

            if (round == 0)
            {
                continue; // warm-up
            }

            engineTimes.Add((t, output));
            baselineTimes.Add((b, baselineOutput));
            if (r is not null && rxOutput is not null)
            {
                rxTimes.Add((r, rxOutput));
            }
        }

        var medianEngine = engineTimes.OrderBy(e => e.Timing.Elapsed).ElementAt(engineTimes.Count / 2);
        double Eps((Timing Timing, RunOutput Output) run) => run.Output.Eps ?? (run.Output.Events ?? events) / Math.Max(run.Timing.Elapsed.TotalSeconds, 1e-9);
        double Median(List<(Timing Timing, RunOutput Output)> runs) => runs.Select(Eps).Order().ElementAt(runs.Count / 2);
        var engineEps = Eps(medianEngine);
        var baselineEps = Median(baselineTimes);
        double? rxEps = rxTimes.Count == 0 ? null : Median(rxTimes);
        var engineEvents = medianEngine.Output.Events ?? events;
        return new ScenarioResult(scenario.Name, engineEvents, engineEps, baselineEps, rxEps, baselineEps / engineEps,
            (double)medianEngine.Timing.Allocated / engineEvents, medianEngine.Output.P50Us, medianEngine.Output.P99Us, scenario.Extra);
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
    double RatioToBaseline, double AllocBytesPerEvent, double? P50Us, double? P99Us, IReadOnlyList<KeyValuePair<string, double>>? Extra = null)
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
            Number(w, "ratio_to_baseline", Math.Round(RatioToBaseline, 3)); // null when the engine's figure is 0 (latency: no rate met)
            w.WriteNumber("alloc_bytes_per_event", Math.Round(AllocBytesPerEvent, 1));
            Number(w, "p50_us", P50Us is { } p50 ? Math.Round(p50, 1) : null);
            Number(w, "p99_us", P99Us is { } p99 ? Math.Round(p99, 1) : null);
            foreach (var (name, value) in Extra ?? [])
            {
                Number(w, name, Math.Round(value, 1));
            }

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
