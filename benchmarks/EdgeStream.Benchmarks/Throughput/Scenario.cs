using System.Diagnostics;

namespace EdgeStream.Benchmarks.Throughput;

/// <summary>
/// One job of the throughput harness, done three ways on the same deterministic input: by an EdgeStream rule, by a
/// hand-written C# baseline (the practical limit) and by Rx.NET (what a .NET user would write instead). The harness
/// first runs all three collecting their results and checks that they agree, then times each.
/// </summary>
internal abstract class Scenario
{
    /// <summary>The scenario's name on the command line and in the output.</summary>
    public abstract string Name { get; }

    /// <summary>Events per run with <c>--quick</c> (at least 200,000).</summary>
    public virtual int QuickEvents => 200_000;

    /// <summary>Events per run in a full run.</summary>
    public virtual int FullEvents => 2_000_000;

    /// <summary>Whether results must come in the same order (else they are compared as multisets).</summary>
    public virtual bool Ordered => false;

    /// <summary>What the scenario runs, for the table: the SQL or a short description.</summary>
    public abstract string Description { get; }

    /// <summary>Builds the input: <paramref name="events"/> events, the same on every call with the same count.</summary>
    public abstract void Prepare(int events);

    /// <summary>
    /// Runs the rule over the input once. Set up (a fresh engine and rule) before <see cref="Timing.Start"/>, stop the
    /// timing when every result is out. With <paramref name="collect"/>, returns each result as canonical text.
    /// </summary>
    public abstract Task<RunOutput> EngineAsync(Timing timing, bool collect);

    /// <summary>The hand-written job; same contract as <see cref="EngineAsync"/>.</summary>
    public abstract RunOutput Baseline(Timing timing, bool collect);

    /// <summary>The Rx.NET job; null when Rx.NET cannot express it in one pipeline.</summary>
    public abstract RunOutput? Rx(Timing timing, bool collect);

    /// <summary>Scenario-specific figures added to the JSON line after the common keys (e.g. <c>idle_rule_bytes</c>); read after the runs.</summary>
    public virtual IReadOnlyList<KeyValuePair<string, double>> Extra => [];
}

/// <summary>
/// What one run produced: its results as canonical text (when collected), how many, and latencies it measured.
/// <paramref name="Eps"/> and <paramref name="Events"/>, when set, replace events/elapsed and the scenario's event
/// count (a paced scenario reports the highest rate it sustained, and publishes a number of events it decides).
/// <paramref name="Checksum"/>: a baseline's results folded into one number when they are not collected (the work is returned, so it is done).
/// </summary>
internal sealed record RunOutput(IReadOnlyList<string>? Results, long ResultCount, double? P50Us = null, double? P99Us = null, double? Eps = null, long? Events = null,
    long Checksum = 0);

/// <summary>The timed part of a run: wall time and bytes allocated (all threads) between <see cref="Start"/> and <see cref="Stop"/>.</summary>
internal sealed class Timing
{
    private readonly Stopwatch watch = new();
    private long allocatedAtStart;

    public TimeSpan Elapsed => watch.Elapsed;

    public long Allocated { get; private set; }

    public void Start()
    {
        allocatedAtStart = GC.GetTotalAllocatedBytes(precise: true);
        watch.Restart();
    }

    public void Stop()
    {
        watch.Stop();
        Allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedAtStart;
    }
}

/// <summary>Canonical text for results, so the three implementations compare exactly.</summary>
internal static class Canon
{
    /// <summary>A float to 10 significant digits: sums taken in another order differ in the last bits only.</summary>
    public static string F(double value) => value.ToString("G10", System.Globalization.CultureInfo.InvariantCulture);

    public static string L(long value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A row's values from a result dictionary, in the given column order.</summary>
    public static string Row(IReadOnlyDictionary<string, object?> row, params string[] columns) =>
        string.Join('|', columns.Select(c => Value(row.GetValueOrDefault(c))));

    public static string Value(object? value) => value switch
    {
        null => "null",
        double d => F(d),
        float f => F(f),
        long l => L(l),
        int i => L(i),
        string s => s,
        bool b => b ? "true" : "false",
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "?",
    };
}

/// <summary>Latency percentiles from per-event samples in <see cref="Stopwatch"/> ticks.</summary>
internal static class Percentiles
{
    public static (double P50Us, double P99Us) Of(long[] ticks, int count)
    {
        if (count == 0)
        {
            return (double.NaN, double.NaN);
        }

        var sorted = ticks.AsSpan(0, count).ToArray();
        Array.Sort(sorted);
        double Us(double q) => sorted[Math.Min(count - 1, (int)(q * count))] * 1_000_000.0 / Stopwatch.Frequency;
        return (Us(0.50), Us(0.99));
    }
}
