using EdgeStream.Sql.Ast;

namespace EdgeStream.Runtime;

/// <summary>
/// A processing-time tumbling or hopping window: how long it is, how often it fires, and where its first firing
/// falls. As eKuiper, a window first fires at the next aligned boundary strictly after the rule starts, counting
/// multiples of the firing interval from the start of the enclosing unit (the minute for <c>ss</c> and <c>ms</c>,
/// the hour for <c>mi</c>, the day for <c>hh</c> and <c>dd</c>, in UTC); rows with
/// <c>end - length &lt;= time &lt; end</c> belong to the window ending at <c>end</c>.
/// </summary>
internal sealed class WindowPlan
{
    public WindowPlan(WindowSpec spec)
    {
        IsCount = spec.Kind == WindowKind.Count;
        IsSliding = spec.Kind == WindowKind.Sliding;
        Size = spec.Length;
        var unit = spec.Unit switch
        {
            TimeUnit.Days => 86_400_000L,
            TimeUnit.Hours => 3_600_000L,
            TimeUnit.Minutes => 60_000L,
            TimeUnit.Seconds => 1_000L,
            _ => 1L,
        };
        Length = spec.Length * unit;
        Interval = spec.Kind == WindowKind.Hopping && spec.Interval is { } hop ? hop * unit : Length;
        AlignmentBase = spec.Unit switch
        {
            TimeUnit.Days or TimeUnit.Hours => 86_400_000L,
            TimeUnit.Minutes => 3_600_000L,
            _ => 60_000L,
        };
    }

    /// <summary>
    /// A count window: it fires when <see cref="Size"/> rows have entered, with no timer; WHERE then runs on its rows
    /// (eKuiper places WHERE after count windows).
    /// </summary>
    public bool IsCount { get; }

    /// <summary>A sliding window: each arriving row (that meets <c>OVER (WHEN …)</c>) fires it over the <see cref="Length"/> before it.</summary>
    public bool IsSliding { get; }

    /// <summary>Whether WHERE runs on the window's rows when it fires rather than before rows enter (count and sliding windows).</summary>
    public bool FiltersAfter => IsCount || IsSliding;

    /// <summary>A count window's size in rows.</summary>
    public long Size { get; }

    /// <summary>How much time one window covers, in milliseconds.</summary>
    public long Length { get; }

    /// <summary>How often it fires, in milliseconds (the length for tumbling, the hop for hopping).</summary>
    public long Interval { get; }

    private long AlignmentBase { get; }

    /// <summary>The first firing after a rule started at <paramref name="start"/> (Unix ms).</summary>
    public long FirstEnd(long start)
    {
        var baseTime = start - (((start % AlignmentBase) + AlignmentBase) % AlignmentBase);
        var steps = ((start - baseTime) / Interval) + 1;
        return baseTime + (steps * Interval);
    }
}
