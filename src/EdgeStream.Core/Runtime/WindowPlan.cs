using EdgeStream.Sql.Ast;

namespace EdgeStream.Runtime;

/// <summary>
/// The shape of a statement's window: its kind, sizes in milliseconds (or rows), and where its time boundaries fall.
/// As eKuiper, time windows fire at boundaries aligned to natural time: multiples of the firing interval counted from
/// the start of the enclosing unit — the minute for <c>ss</c> and <c>ms</c>, the hour for <c>mi</c> (in UTC), the local
/// day for <c>hh</c> and <c>dd</c>. Hour and day boundaries are wall-clock times in <see cref="TimeZone"/> (eKuiper uses
/// the host's zone), so a day window always ends at local midnight, also across a daylight-saving change, when the
/// day is 23 or 25 hours long; an hour window ends at every local hour the interval divides, counted from local
/// midnight (a repeated hour twice, a skipped one never), and starts at the boundary its length before.
/// </summary>
internal sealed class WindowPlan
{
    public WindowPlan(WindowSpec spec, TimeZoneInfo? timeZone = null)
    {
        Kind = spec.Kind;
        Unit = spec.Unit;
        TimeZone = timeZone ?? TimeZoneInfo.Utc;
        var unit = UnitMs(spec.Unit);
        switch (spec.Kind)
        {
            case WindowKind.Count:
                Size = spec.Length;
                Hop = spec.Interval ?? spec.Length;
                break;
            case WindowKind.Sliding:
                Length = spec.Length * unit;
                Delay = (spec.Interval ?? 0) * unit;
                break;
            case WindowKind.Session:
                // SESSIONWINDOW(unit, maxLength, timeout): the aligned max-length tick is its interval.
                Length = spec.Length * unit;
                Interval = Length;
                Timeout = (spec.Interval ?? 0) * unit;
                break;
            case WindowKind.State:
                break;
            default:
                Length = spec.Length * unit;
                Interval = spec.Kind == WindowKind.Hopping && spec.Interval is { } hop ? hop * unit : Length;
                break;
        }

        IntervalUnits = spec.Kind switch
        {
            WindowKind.Hopping => spec.Interval ?? spec.Length,
            _ => spec.Length,
        };
    }

    public WindowKind Kind { get; }

    public TimeUnit Unit { get; }

    /// <summary>The zone whose wall clock places <c>hh</c> and <c>dd</c> boundaries.</summary>
    public TimeZoneInfo TimeZone { get; }

    /// <summary>A count window: it fires on rows, with no timer.</summary>
    public bool IsCount => Kind == WindowKind.Count;

    /// <summary>A sliding window: each arriving row (that meets <c>OVER (WHEN …)</c>) fires it over the <see cref="Length"/> before it.</summary>
    public bool IsSliding => Kind == WindowKind.Sliding;

    /// <summary>
    /// Whether WHERE runs on the window's rows when it fires rather than before rows enter: count, sliding and state
    /// windows always (as eKuiper places it), and every window under event time.
    /// </summary>
    public bool FiltersAfter(bool eventTime) => eventTime || Kind is WindowKind.Count or WindowKind.Sliding or WindowKind.State;

    /// <summary>A count window's size in rows.</summary>
    public long Size { get; }

    /// <summary>A count window emits every <see cref="Hop"/> rows (its size unless <c>COUNTWINDOW(n, m)</c>).</summary>
    public long Hop { get; }

    /// <summary>How much time one window covers, in milliseconds (a session's maximum length).</summary>
    public long Length { get; }

    /// <summary>How often a tumbling, hopping or session window's clock fires, in milliseconds.</summary>
    public long Interval { get; }

    /// <summary>The firing interval in the window's own unit (hours for <c>hh</c>…).</summary>
    private long IntervalUnits { get; }

    /// <summary>A sliding window's delay: a trigger at <c>t</c> is emitted at <c>t + Delay</c>.</summary>
    public long Delay { get; }

    /// <summary>A session's inactivity timeout, in milliseconds.</summary>
    public long Timeout { get; }

    private static long UnitMs(TimeUnit unit) => unit switch
    {
        TimeUnit.Days => 86_400_000L,
        TimeUnit.Hours => 3_600_000L,
        TimeUnit.Minutes => 60_000L,
        TimeUnit.Seconds => 1_000L,
        _ => 1L,
    };

    private bool WallClock => Unit is TimeUnit.Days or TimeUnit.Hours;

    /// <summary>The first boundary strictly after <paramref name="start"/> (Unix ms).</summary>
    public long FirstEnd(long start)
    {
        if (Unit == TimeUnit.Hours)
        {
            return NextHourBoundary(start);
        }

        if (WallClock)
        {
            var local = LocalWall(start);
            var midnight = local.Date;
            var step = Unit == TimeUnit.Days ? TimeSpan.FromDays(IntervalUnits) : TimeSpan.FromHours(IntervalUnits);
            var steps = (long)((local - midnight).Ticks / step.Ticks) + 1;
            var candidate = midnight + TimeSpan.FromTicks(step.Ticks * steps);
            var end = ToInstant(candidate);
            while (end <= start)
            {
                candidate += step;
                end = ToInstant(candidate);
            }

            return end;
        }

        var alignment = Unit == TimeUnit.Minutes ? 3_600_000L : 60_000L;
        var baseTime = start - (((start % alignment) + alignment) % alignment);
        var count = ((start - baseTime) / Interval) + 1;
        return baseTime + (count * Interval);
    }

    /// <summary>The boundary after <paramref name="end"/>: one interval later, on the wall clock for hours and days.</summary>
    public long NextEnd(long end)
    {
        if (!WallClock)
        {
            return end + Interval;
        }

        if (Unit == TimeUnit.Hours)
        {
            return NextHourBoundary(end);
        }

        var step = Unit == TimeUnit.Days ? TimeSpan.FromDays(IntervalUnits) : TimeSpan.FromHours(IntervalUnits);
        var candidate = LocalWall(end) + step;
        var next = ToInstant(candidate);
        while (next <= end)
        {
            candidate += step;
            next = ToInstant(candidate);
        }

        return next;
    }

    /// <summary>How far back from a boundary its window starts: the length, on the wall clock for hours and days.</summary>
    public long StartOf(long end)
    {
        if (Unit == TimeUnit.Hours && Kind != WindowKind.Session && Length % Interval == 0)
        {
            // Whole hops back along the local boundaries, so tumbling windows still tile a 23- or 25-hour day.
            var start = end;
            for (var i = Length / Interval; i > 0; i--)
            {
                start = PreviousHourBoundary(start);
            }

            return start;
        }

        if (Unit != TimeUnit.Days || Kind == WindowKind.Session)
        {
            return end - Length;
        }

        return ToInstant(LocalWall(end) - TimeSpan.FromDays(Length / 86_400_000L));
    }

    /// <summary>
    /// The next instant after <paramref name="after"/> when the local clock shows a whole hour that is a multiple of the
    /// interval (counted from local midnight, each day afresh: an interval that does not divide 24 has a shorter last
    /// window in the day). Both occurrences of a repeated hour count; a skipped one does not. Scans minute by minute, so
    /// zones with any whole-minute offset work.
    /// </summary>
    private long NextHourBoundary(long after)
    {
        var candidate = after - (((after % Minute) + Minute) % Minute) + Minute;
        for (var steps = 0; steps < ScanLimit; steps++, candidate += Minute)
        {
            if (IsHourBoundary(candidate))
            {
                return candidate;
            }
        }

        return after + Interval; // a zone whose offset has seconds (old local mean time): elapsed hours
    }

    /// <summary>The last hour boundary (see <see cref="NextHourBoundary"/>) strictly before <paramref name="before"/>.</summary>
    private long PreviousHourBoundary(long before)
    {
        var candidate = before - 1 - ((((before - 1) % Minute) + Minute) % Minute);
        for (var steps = 0; steps < ScanLimit; steps++, candidate -= Minute)
        {
            if (IsHourBoundary(candidate))
            {
                return candidate;
            }
        }

        return before - Interval;
    }

    private const long Minute = 60_000L;

    /// <summary>How far a boundary is looked for, in minutes: two days past the interval.</summary>
    private long ScanLimit => (IntervalUnits + 48) * 60;

    private bool IsHourBoundary(long instant)
    {
        var wall = LocalWall(instant);
        return wall.Minute == 0 && wall.Second == 0 && wall.Hour % IntervalUnits == 0;
    }

    private DateTime LocalWall(long instant) =>
        TimeZoneInfo.ConvertTimeFromUtc(DateTimeOffset.FromUnixTimeMilliseconds(instant).UtcDateTime, TimeZone);

    /// <summary>
    /// The instant of a wall-clock time: a time skipped by a clock change maps to the end of the gap, an ambiguous one
    /// to its first occurrence.
    /// </summary>
    private long ToInstant(DateTime wall)
    {
        wall = DateTime.SpecifyKind(wall, DateTimeKind.Unspecified);
        if (TimeZone.IsInvalidTime(wall))
        {
            // The gap: find its end by probing forward minute by minute (gaps are at most a few hours).
            var probe = wall;
            while (TimeZone.IsInvalidTime(probe))
            {
                probe = probe.AddMinutes(1);
            }

            return new DateTimeOffset(probe, TimeZone.GetUtcOffset(probe)).ToUnixTimeMilliseconds();
        }

        var offset = TimeZone.IsAmbiguousTime(wall) ? TimeZone.GetAmbiguousTimeOffsets(wall).Max() : TimeZone.GetUtcOffset(wall);
        return new DateTimeOffset(wall, offset).ToUnixTimeMilliseconds();
    }
}
