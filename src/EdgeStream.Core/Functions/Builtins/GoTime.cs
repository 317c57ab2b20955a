using System.Runtime.CompilerServices;

namespace EdgeStream.Functions.Builtins;

/// <summary>
/// A point in time as eKuiper's date functions see one (Go's <c>time.Time</c>): Unix seconds, nanoseconds, and the zone
/// its wall-clock fields are read in. The zone is either a named zone (the engine's configured one), whose offset is
/// looked up per instant, or a fixed offset (what a parsed <c>+08:00</c> or <c>Z</c> gives). Nanoseconds survive only
/// while the value is not stored: parsed strings keep them, a <see cref="Abstractions.ValueKind.Datetime"/> has
/// milliseconds.
/// </summary>
internal readonly struct GoTime
{
    private const long NanosPerSecond = 1_000_000_000;

    /// <summary>Days before each month in a common year.</summary>
    private static readonly int[] DaysBefore = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

    /// <summary>The last offset looked up on this thread: its zone, the hour it holds for (Unix hours) and the offset.</summary>
    [ThreadStatic]
    private static TimeZoneInfo? cachedZone;

    [ThreadStatic]
    private static long cachedHour;

    [ThreadStatic]
    private static int cachedOffset;

    private GoTime(long seconds, int nanos, TimeZoneInfo? zone, int offset, string? fixedName)
    {
        Seconds = seconds;
        Nanos = nanos;
        Zone = zone;
        Offset = offset;
        FixedName = fixedName;
    }

    /// <summary>Unix seconds (rounded down).</summary>
    public long Seconds { get; }

    /// <summary>Nanoseconds within the second, 0 to 999 999 999.</summary>
    public int Nanos { get; }

    /// <summary>The named zone the fields are read in, or null for a fixed offset.</summary>
    public TimeZoneInfo? Zone { get; }

    /// <summary>The zone's offset from UTC at this instant, in seconds.</summary>
    public int Offset { get; }

    /// <summary>A fixed zone's name (<c>UTC</c>, or an abbreviation read from the text); null when it has none.</summary>
    public string? FixedName { get; }

    /// <summary>The zone's name as Go's <c>MST</c> layout element prints it, or null when unknown (printed as <c>-0700</c>).</summary>
    public string? ZoneName => Zone is null ? FixedName : IsUtc(Zone) ? "UTC" : null;

    /// <summary>Unix milliseconds (the sub-millisecond part dropped).</summary>
    public long UnixMilliseconds => unchecked((Seconds * 1000) + (Nanos / 1_000_000));

    /// <summary>A Unix-milliseconds instant in <paramref name="zone"/> (eKuiper's <c>TimeFromUnixMilli</c>).</summary>
    public static GoTime FromUnixMilliseconds(long milliseconds, TimeZoneInfo zone) =>
        InZone(FloorDiv(milliseconds, 1000), (int)FloorMod(milliseconds, 1000) * 1_000_000, zone);

    /// <summary>An instant shown in the named <paramref name="zone"/>.</summary>
    public static GoTime InZone(long seconds, int nanos, TimeZoneInfo zone) => new(seconds, nanos, zone, OffsetAt(zone, seconds), null);

    /// <summary>An instant shown at a fixed offset (seconds east of UTC), with an optional zone name.</summary>
    public static GoTime Fixed(long seconds, int nanos, int offset, string? name) => new(seconds, nanos, null, offset, name);

    /// <summary>
    /// Go's <c>time.Date</c>: the instant whose wall clock in this value's zone reads the given fields; out-of-range
    /// fields carry over (month 13 is January of the next year, day 0 the last day of the previous month).
    /// </summary>
    public GoTime WithWall(long year, long month, long day, long hour, long minute, long second, long nanos)
    {
        var wall = WallSeconds(ref year, month, day, hour, minute, second, ref nanos);
        if (Zone is null)
        {
            return Fixed(wall - Offset, (int)nanos, Offset, FixedName);
        }

        return FromWall(wall, (int)nanos, Zone);
    }

    /// <summary>The instant whose wall clock in <paramref name="zone"/> reads <paramref name="wall"/> (seconds as if UTC).</summary>
    public static GoTime FromWall(long wall, int nanos, TimeZoneInfo zone)
    {
        // As Go's time.Date: take the offset in force at the wall time read as UTC; when the instant that gives lies in
        // another offset's span (near a transition), use that offset instead.
        var offset = OffsetAt(zone, wall);
        if (offset != 0)
        {
            var second = OffsetAt(zone, wall - offset);
            if (second != offset)
            {
                offset = second;
            }
        }

        return new GoTime(wall - offset, nanos, zone, OffsetAt(zone, wall - offset), null);
    }

    /// <summary>Go's <c>Add</c>: this instant moved by <paramref name="nanoseconds"/>, in the same zone.</summary>
    public GoTime AddNanoseconds(long nanoseconds)
    {
        var seconds = Seconds + (nanoseconds / NanosPerSecond);
        var nanos = Nanos + (nanoseconds % NanosPerSecond);
        if (nanos >= NanosPerSecond)
        {
            seconds++;
            nanos -= NanosPerSecond;
        }
        else if (nanos < 0)
        {
            seconds--;
            nanos += NanosPerSecond;
        }

        return Zone is null ? Fixed(seconds, (int)nanos, Offset, FixedName) : InZone(seconds, (int)nanos, Zone);
    }

    /// <summary>Go's <c>Sub</c>: <c>this - other</c> in nanoseconds, saturated to the 64-bit range as Go's Duration is.</summary>
    public long Subtract(in GoTime other)
    {
        var seconds = (Int128)Seconds - other.Seconds;
        var total = (seconds * NanosPerSecond) + (Nanos - other.Nanos);
        return total > long.MaxValue ? long.MaxValue : total < long.MinValue ? long.MinValue : (long)total;
    }

    /// <summary>The wall-clock fields in this value's zone.</summary>
    public GoCivil Civil()
    {
        var local = Seconds + Offset;
        var days = FloorDiv(local, 86_400);
        var secondOfDay = (int)(local - (days * 86_400));
        CivilFromDays(days, out var year, out var month, out var day);
        var yearDay = DaysBefore[month - 1] + day + (month > 2 && IsLeap(year) ? 1 : 0);
        var weekday = (int)FloorMod(days + 4, 7);
        return new GoCivil(year, month, day, secondOfDay / 3600, secondOfDay / 60 % 60, secondOfDay % 60, weekday, yearDay);
    }

    /// <summary>Whether <paramref name="zone"/> is UTC under one of its names.</summary>
    public static bool IsUtc(TimeZoneInfo zone) => ReferenceEquals(zone, TimeZoneInfo.Utc)
        || zone.Id is "UTC" or "Etc/UTC" or "Etc/UCT" or "UCT" or "Etc/Universal" or "Universal" or "Etc/Zulu" or "Zulu";

    /// <summary>
    /// The offset of <paramref name="zone"/> from UTC at a Unix second (clamped to .NET's date range). The last hour
    /// looked up is remembered per thread when the offset is the same at both its ends.
    /// </summary>
    public static int OffsetAt(TimeZoneInfo zone, long unixSeconds)
    {
        if (ReferenceEquals(zone, TimeZoneInfo.Utc))
        {
            return 0;
        }

        var hour = FloorDiv(unixSeconds, 3600);
        if (ReferenceEquals(zone, cachedZone) && hour == cachedHour)
        {
            return cachedOffset; // before the name checks of IsUtc: the common case for a named zone
        }

        if (IsUtc(zone))
        {
            return 0;
        }

        var offset = LookUpOffset(zone, unixSeconds);
        if (LookUpOffset(zone, hour * 3600) == offset && LookUpOffset(zone, (hour * 3600) + 3599) == offset)
        {
            (cachedZone, cachedHour, cachedOffset) = (zone, hour, offset);
        }

        return offset;
    }

    private static int LookUpOffset(TimeZoneInfo zone, long unixSeconds)
    {
        const long Min = -62_135_596_800L;
        const long Max = 253_402_300_799L;
        var clamped = Math.Clamp(unixSeconds, Min, Max);
        var utc = new DateTime((clamped - Min) * TimeSpan.TicksPerSecond, DateTimeKind.Utc);
        return (int)(zone.GetUtcOffset(utc).Ticks / TimeSpan.TicksPerSecond);
    }

    /// <summary>Normalizes Go-style date fields (carrying overflow up) and gives seconds since the epoch as if UTC.</summary>
    private static long WallSeconds(ref long year, long month, long day, long hour, long minute, long second, ref long nanos)
    {
        var m = month - 1;
        year += FloorDiv(m, 12);
        m = FloorMod(m, 12);
        second += FloorDiv(nanos, NanosPerSecond);
        nanos = FloorMod(nanos, NanosPerSecond);
        var days = DaysFromCivil(year, (int)m + 1, 1) + (day - 1);
        return (days * 86_400) + (hour * 3600) + (minute * 60) + second;
    }

    /// <summary>Days since 1970-01-01 of a proleptic Gregorian date (year 0 exists, as in Go).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long DaysFromCivil(long year, int month, int day)
    {
        year -= month <= 2 ? 1 : 0;
        var era = (year >= 0 ? year : year - 399) / 400;
        var yearOfEra = year - (era * 400);
        var dayOfYear = ((153 * (month > 2 ? month - 3 : month + 9)) + 2) / 5 + day - 1;
        var dayOfEra = (yearOfEra * 365) + (yearOfEra / 4) - (yearOfEra / 100) + dayOfYear;
        return (era * 146_097) + dayOfEra - 719_468;
    }

    /// <summary>The proleptic Gregorian date of a day count since 1970-01-01.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CivilFromDays(long days, out long year, out int month, out int day)
    {
        days += 719_468;
        var era = (days >= 0 ? days : days - 146_096) / 146_097;
        var dayOfEra = days - (era * 146_097);
        var yearOfEra = (dayOfEra - (dayOfEra / 1460) + (dayOfEra / 36_524) - (dayOfEra / 146_096)) / 365;
        var dayOfYear = dayOfEra - ((365 * yearOfEra) + (yearOfEra / 4) - (yearOfEra / 100));
        var mp = ((5 * dayOfYear) + 2) / 153;
        day = (int)(dayOfYear - (((153 * mp) + 2) / 5) + 1);
        month = (int)(mp < 10 ? mp + 3 : mp - 9);
        year = yearOfEra + (era * 400) + (month <= 2 ? 1 : 0);
    }

    /// <summary>Days in a month of the proleptic Gregorian calendar.</summary>
    public static int DaysIn(int month, long year) => month == 2
        ? (IsLeap(year) ? 29 : 28)
        : month is 4 or 6 or 9 or 11 ? 30 : 31;

    private static bool IsLeap(long year) => year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);

    /// <summary>Division rounded down (toward negative infinity).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long FloorDiv(long a, long b)
    {
        var q = a / b;
        return (a - (q * b) != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
    }

    /// <summary>The remainder of <see cref="FloorDiv"/>, with the sign of <paramref name="b"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long FloorMod(long a, long b) => a - (FloorDiv(a, b) * b);
}

/// <summary>Wall-clock fields of a <see cref="GoTime"/>: weekday 0 is Sunday (Go's <c>time.Weekday</c>).</summary>
internal readonly record struct GoCivil(long Year, int Month, int Day, int Hour, int Minute, int Second, int Weekday, int YearDay);
