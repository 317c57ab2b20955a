using System.Buffers;

namespace EdgeStream.Functions.Builtins;

/// <summary>
/// A compiled Go time layout (<c>2006-01-02 15:04:05</c>): the reference-time elements Go's <c>time</c> package
/// recognizes, split once, then used to format a <see cref="GoTime"/> (every element) or to parse text (the elements
/// of the layouts eKuiper parses with). eKuiper's own patterns (<c>yyyy-MM-dd HH:mm:ss</c>) are first rewritten into
/// a Go layout by <see cref="FromPattern"/>, exactly as eKuiper's <c>cast.FormatTime</c> does, so letters and digits
/// it leaves alone keep their Go meaning.
/// </summary>
internal sealed class GoLayout
{
    private static readonly string[] LongMonthNames =
        ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

    private static readonly string[] ShortMonthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

    private static readonly string[] LongDayNames = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

    private static readonly string[] ShortDayNames = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

    private static readonly Std[] ZeroPadded = [Std.ZeroMonth, Std.ZeroDay, Std.ZeroHour12, Std.ZeroMinute, Std.ZeroSecond, Std.Year];

    private readonly Chunk[] chunks;

    private GoLayout(Chunk[] chunks) => this.chunks = chunks;

    /// <summary>Go's layout elements (its <c>std*</c> constants).</summary>
    private enum Std : byte
    {
        None,
        LongMonth,
        Month,
        NumMonth,
        ZeroMonth,
        LongWeekDay,
        WeekDay,
        Day,
        UnderDay,
        ZeroDay,
        UnderYearDay,
        ZeroYearDay,
        Hour,
        Hour12,
        ZeroHour12,
        Minute,
        ZeroMinute,
        Second,
        ZeroSecond,
        LongYear,
        Year,
        PM,
        LowerPM,
        TZ,
        ISO8601TZ,
        ISO8601SecondsTZ,
        ISO8601ShortTZ,
        ISO8601ColonTZ,
        ISO8601ColonSecondsTZ,
        NumTZ,
        NumSecondsTZ,
        NumShortTZ,
        NumColonTZ,
        NumColonSecondsTZ,
        FracSecond0,
        FracSecond9,
    }

    /// <summary>Literal text, then one element (or none, at the end); fraction elements carry their digits and separator.</summary>
    private readonly record struct Chunk(string Prefix, Std Std, int Digits, char Separator);

    /// <summary><c>2006-01-02 15:04:05</c>: what <c>date_calc</c> and <c>from_unix_time</c> give.</summary>
    public static GoLayout DateTime { get; } = Compile("2006-01-02 15:04:05");

    /// <summary><c>2006-01-02</c>: what <c>cur_date</c>, <c>from_days</c> and <c>last_day</c> give.</summary>
    public static GoLayout Date { get; } = Compile("2006-01-02");

    /// <summary>Splits a Go layout into its elements, as Go's <c>nextStdChunk</c> does.</summary>
    public static GoLayout Compile(string layout)
    {
        var list = new List<Chunk>();
        var position = 0;
        while (true)
        {
            var (prefixEnd, std, digits, separator, next) = NextStd(layout, position);
            list.Add(new Chunk(layout[position..prefixEnd], std, digits, separator));
            if (std == Std.None)
            {
                return new GoLayout([.. list]);
            }

            position = next;
        }
    }

    /// <summary>
    /// eKuiper's time pattern (<c>cast.convertFormat</c>) as a compiled Go layout: <c>yyyy</c>/<c>YYYY</c>, <c>yy</c>,
    /// <c>M</c>…<c>MMMM</c>, <c>d</c>/<c>dd</c>, <c>EEE</c>/<c>EEEE</c>, <c>HH</c>, <c>h</c>/<c>hh</c>, <c>m</c>/<c>mm</c>,
    /// <c>s</c>/<c>ss</c>, a run of <c>S</c> (a point and that many fraction digits), <c>a</c>, <c>G</c> (<c>AD</c>),
    /// <c>z</c>, <c>Z</c>, <c>X</c>…<c>XXX</c>, <c>\c</c> (c literally) and <c>'text'</c> (<c>''</c> a quote); any other
    /// character goes through to the Go layout unchanged. Returns null with <paramref name="error"/> set (eKuiper's
    /// message) for an invalid pattern.
    /// </summary>
    public static GoLayout? FromPattern(string pattern, out string? error)
    {
        var layout = ConvertPattern(pattern, out error);
        return layout is null ? null : Compile(layout);
    }

    /// <summary>eKuiper's <c>convertFormat</c>: its pattern letters rewritten as Go reference-time elements.</summary>
    private static string? ConvertPattern(string pattern, out string? error)
    {
        error = null;
        var f = pattern;
        var output = new System.Text.StringBuilder(f.Length + 8);
        for (var i = 0; i < f.Length; i++)
        {
            var r = f[i];
            switch (r)
            {
                case '\\':
                    i++;
                    if (i >= f.Length)
                    {
                        error = $"{pattern} is invalid";
                        return null;
                    }

                    output.Append(f[i]);
                    break;
                case 'Y' or 'y':
                    switch (Run(f, ref i, 4))
                    {
                        case 4:
                            output.Append("2006");
                            break;
                        case 2:
                            output.Append("06");
                            break;
                        default:
                            error = $"invalid time format {pattern} for Y/y";
                            return null;
                    }

                    break;
                case 'G':
                    output.Append("AD");
                    break;
                case 'M':
                    output.Append(Run(f, ref i, 4) switch { 1 => "1", 2 => "01", 3 => "Jan", 4 => "January", _ => string.Empty });
                    break;
                case 'd':
                    output.Append(Run(f, ref i, 2) switch { 1 => "2", 2 => "02", _ => string.Empty });
                    break;
                case 'E':
                    switch (Run(f, ref i, 4))
                    {
                        case 3:
                            output.Append("Mon");
                            break;
                        case 4:
                            output.Append("Monday");
                            break;
                        default:
                            error = $"invalid time format {pattern} for E";
                            return null;
                    }

                    break;
                case 'H':
                    if (Run(f, ref i, 2) != 2)
                    {
                        error = $"invalid time format {pattern} of H, only HH is supported";
                        return null;
                    }

                    output.Append("15");
                    break;
                case 'h':
                    output.Append(Run(f, ref i, 2) switch { 1 => "3", 2 => "03", _ => string.Empty });
                    break;
                case 'a':
                    output.Append("PM");
                    break;
                case 'm':
                    output.Append(Run(f, ref i, 2) switch { 1 => "4", 2 => "04", _ => string.Empty });
                    break;
                case 's':
                    output.Append(Run(f, ref i, 2) switch { 1 => "5", 2 => "05", _ => string.Empty });
                    break;
                case 'S':
                {
                    var j = 0;
                    while (i + j < f.Length && f[i + j] == 'S')
                    {
                        j++;
                    }

                    output.Append('.').Append('0', j);
                    i += j - 1;
                    break;
                }

                case 'z':
                    output.Append("MST");
                    break;
                case 'Z':
                    output.Append("-0700");
                    break;
                case 'X':
                    output.Append(Run(f, ref i, 3) switch { 1 => "-07", 2 => "-0700", 3 => "-07:00", _ => string.Empty });
                    break;
                case '\'':
                    // '' is a quote; otherwise the text up to the next quote (or the end) is copied as it is.
                    if (i + 1 < f.Length && f[i + 1] == '\'')
                    {
                        output.Append('\'');
                        i++;
                        break;
                    }

                    var end = f.IndexOf('\'', i + 1);
                    if (end < 0)
                    {
                        end = f.Length;
                    }

                    output.Append(f, i + 1, end - i - 1);
                    i = end;
                    break;
                default:
                    output.Append(r);
                    break;
            }
        }

        return output.ToString();
    }

    /// <summary>
    /// How many copies of <c>f[i]</c> start at <paramref name="i"/>, counted as eKuiper counts them (at most
    /// <paramref name="max"/> + 1, which no case accepts); <paramref name="i"/> is left on the run's last character.
    /// </summary>
    private static int Run(string f, ref int i, int max)
    {
        var r = f[i];
        var j = 1;
        for (; i + j < f.Length && j <= max; j++)
        {
            if (f[i + j] != r)
            {
                break;
            }
        }

        i += j - 1;
        return j;
    }

    /// <summary>Go's <c>nextStdChunk</c>: where the next element starts, which it is, and where the text after it starts.</summary>
    private static (int PrefixEnd, Std Std, int Digits, char Separator, int Next) NextStd(string layout, int start)
    {
        var n = layout.Length;
        for (var i = start; i < n; i++)
        {
            var c = layout[i];
            switch (c)
            {
                case 'J':
                    if (At(layout, i, "Jan"))
                    {
                        if (At(layout, i, "January"))
                        {
                            return (i, Std.LongMonth, 0, '\0', i + 7);
                        }

                        if (!StartsWithLower(layout, i + 3))
                        {
                            return (i, Std.Month, 0, '\0', i + 3);
                        }
                    }

                    break;
                case 'M':
                    if (At(layout, i, "Mon"))
                    {
                        if (At(layout, i, "Monday"))
                        {
                            return (i, Std.LongWeekDay, 0, '\0', i + 6);
                        }

                        if (!StartsWithLower(layout, i + 3))
                        {
                            return (i, Std.WeekDay, 0, '\0', i + 3);
                        }
                    }

                    if (At(layout, i, "MST"))
                    {
                        return (i, Std.TZ, 0, '\0', i + 3);
                    }

                    break;
                case '0':
                    if (i + 1 < n && layout[i + 1] is >= '1' and <= '6')
                    {
                        return (i, ZeroPadded[layout[i + 1] - '1'], 0, '\0', i + 2);
                    }

                    if (i + 2 < n && layout[i + 1] == '0' && layout[i + 2] == '2')
                    {
                        return (i, Std.ZeroYearDay, 0, '\0', i + 3);
                    }

                    break;
                case '1':
                    return i + 1 < n && layout[i + 1] == '5' ? (i, Std.Hour, 0, '\0', i + 2) : (i, Std.NumMonth, 0, '\0', i + 1);
                case '2':
                    return At(layout, i, "2006") ? (i, Std.LongYear, 0, '\0', i + 4) : (i, Std.Day, 0, '\0', i + 1);
                case '_':
                    if (i + 1 < n && layout[i + 1] == '2')
                    {
                        // "_2006" is a literal underscore, then the year.
                        return At(layout, i + 1, "2006") ? (i + 1, Std.LongYear, 0, '\0', i + 5) : (i, Std.UnderDay, 0, '\0', i + 2);
                    }

                    if (i + 2 < n && layout[i + 1] == '_' && layout[i + 2] == '2')
                    {
                        return (i, Std.UnderYearDay, 0, '\0', i + 3);
                    }

                    break;
                case '3':
                    return (i, Std.Hour12, 0, '\0', i + 1);
                case '4':
                    return (i, Std.Minute, 0, '\0', i + 1);
                case '5':
                    return (i, Std.Second, 0, '\0', i + 1);
                case 'P':
                    if (i + 1 < n && layout[i + 1] == 'M')
                    {
                        return (i, Std.PM, 0, '\0', i + 2);
                    }

                    break;
                case 'p':
                    if (i + 1 < n && layout[i + 1] == 'm')
                    {
                        return (i, Std.LowerPM, 0, '\0', i + 2);
                    }

                    break;
                case '-':
                    if (At(layout, i, "-070000"))
                    {
                        return (i, Std.NumSecondsTZ, 0, '\0', i + 7);
                    }

                    if (At(layout, i, "-07:00:00"))
                    {
                        return (i, Std.NumColonSecondsTZ, 0, '\0', i + 9);
                    }

                    if (At(layout, i, "-0700"))
                    {
                        return (i, Std.NumTZ, 0, '\0', i + 5);
                    }

                    if (At(layout, i, "-07:00"))
                    {
                        return (i, Std.NumColonTZ, 0, '\0', i + 6);
                    }

                    if (At(layout, i, "-07"))
                    {
                        return (i, Std.NumShortTZ, 0, '\0', i + 3);
                    }

                    break;
                case 'Z':
                    if (At(layout, i, "Z070000"))
                    {
                        return (i, Std.ISO8601SecondsTZ, 0, '\0', i + 7);
                    }

                    if (At(layout, i, "Z07:00:00"))
                    {
                        return (i, Std.ISO8601ColonSecondsTZ, 0, '\0', i + 9);
                    }

                    if (At(layout, i, "Z0700"))
                    {
                        return (i, Std.ISO8601TZ, 0, '\0', i + 5);
                    }

                    if (At(layout, i, "Z07:00"))
                    {
                        return (i, Std.ISO8601ColonTZ, 0, '\0', i + 6);
                    }

                    if (At(layout, i, "Z07"))
                    {
                        return (i, Std.ISO8601ShortTZ, 0, '\0', i + 3);
                    }

                    break;
                case '.' or ',':
                    // A point or comma then a run of 0s or 9s not followed by a digit: fractional seconds.
                    if (i + 1 < n && layout[i + 1] is '0' or '9')
                    {
                        var digit = layout[i + 1];
                        var j = i + 1;
                        while (j < n && layout[j] == digit)
                        {
                            j++;
                        }

                        if (!(j < n && char.IsAsciiDigit(layout[j])))
                        {
                            return (i, digit == '0' ? Std.FracSecond0 : Std.FracSecond9, j - (i + 1), c, j);
                        }
                    }

                    break;
            }
        }

        return (n, Std.None, 0, '\0', n);
    }

    private static bool At(string s, int index, string word) => index + word.Length <= s.Length && s.AsSpan(index, word.Length).SequenceEqual(word);

    private static bool StartsWithLower(string s, int index) => index < s.Length && s[index] is >= 'a' and <= 'z';

    /// <summary>Go's <c>Format</c>: the time written with this layout.</summary>
    public string Format(in GoTime time)
    {
        var writer = new CharWriter(stackalloc char[96]);
        try
        {
            Format(time, ref writer);
            return writer.ToString();
        }
        finally
        {
            writer.Dispose();
        }
    }

    private void Format(in GoTime time, ref CharWriter b)
    {
        var civil = time.Civil();
        foreach (var chunk in chunks)
        {
            b.Append(chunk.Prefix);
            switch (chunk.Std)
            {
                case Std.None:
                    break;
                case Std.Year:
                    b.AppendInt(Math.Abs(civil.Year) % 100, 2);
                    break;
                case Std.LongYear:
                    b.AppendInt(civil.Year, 4);
                    break;
                case Std.Month:
                    b.Append(ShortMonthNames[civil.Month - 1]);
                    break;
                case Std.LongMonth:
                    b.Append(LongMonthNames[civil.Month - 1]);
                    break;
                case Std.NumMonth:
                    b.AppendInt(civil.Month, 0);
                    break;
                case Std.ZeroMonth:
                    b.AppendInt(civil.Month, 2);
                    break;
                case Std.WeekDay:
                    b.Append(ShortDayNames[civil.Weekday]);
                    break;
                case Std.LongWeekDay:
                    b.Append(LongDayNames[civil.Weekday]);
                    break;
                case Std.Day:
                    b.AppendInt(civil.Day, 0);
                    break;
                case Std.UnderDay:
                    if (civil.Day < 10)
                    {
                        b.Append(' ');
                    }

                    b.AppendInt(civil.Day, 0);
                    break;
                case Std.ZeroDay:
                    b.AppendInt(civil.Day, 2);
                    break;
                case Std.UnderYearDay:
                    if (civil.YearDay < 100)
                    {
                        b.Append(civil.YearDay < 10 ? "  " : " ");
                    }

                    b.AppendInt(civil.YearDay, 0);
                    break;
                case Std.ZeroYearDay:
                    b.AppendInt(civil.YearDay, 3);
                    break;
                case Std.Hour:
                    b.AppendInt(civil.Hour, 2);
                    break;
                case Std.Hour12 or Std.ZeroHour12:
                {
                    var hour = civil.Hour % 12;
                    b.AppendInt(hour == 0 ? 12 : hour, chunk.Std == Std.ZeroHour12 ? 2 : 0);
                    break;
                }

                case Std.Minute:
                    b.AppendInt(civil.Minute, 0);
                    break;
                case Std.ZeroMinute:
                    b.AppendInt(civil.Minute, 2);
                    break;
                case Std.Second:
                    b.AppendInt(civil.Second, 0);
                    break;
                case Std.ZeroSecond:
                    b.AppendInt(civil.Second, 2);
                    break;
                case Std.PM:
                    b.Append(civil.Hour >= 12 ? "PM" : "AM");
                    break;
                case Std.LowerPM:
                    b.Append(civil.Hour >= 12 ? "pm" : "am");
                    break;
                case Std.TZ:
                    if (time.ZoneName is { } name)
                    {
                        b.Append(name);
                    }
                    else
                    {
                        var minutes = time.Offset / 60;
                        b.Append(minutes < 0 ? '-' : '+');
                        minutes = Math.Abs(minutes);
                        b.AppendInt(minutes / 60, 2);
                        b.AppendInt(minutes % 60, 2);
                    }

                    break;
                case Std.FracSecond0 or Std.FracSecond9:
                    AppendNanos(ref b, time.Nanos, chunk);
                    break;
                default:
                    AppendZone(ref b, time.Offset, chunk.Std);
                    break;
            }
        }
    }

    /// <summary>A numeric zone element (<c>-0700</c>, <c>Z07:00</c>…); the <c>Z</c> forms print <c>Z</c> for UTC.</summary>
    private static void AppendZone(ref CharWriter b, int offset, Std std)
    {
        var iso = std is Std.ISO8601TZ or Std.ISO8601ColonTZ or Std.ISO8601SecondsTZ or Std.ISO8601ShortTZ or Std.ISO8601ColonSecondsTZ;
        if (offset == 0 && iso)
        {
            b.Append('Z');
            return;
        }

        var minutes = offset / 60;
        var absolute = Math.Abs(offset);
        b.Append(minutes < 0 ? '-' : '+');
        minutes = Math.Abs(minutes);
        b.AppendInt(minutes / 60, 2);
        var colon = std is Std.ISO8601ColonTZ or Std.NumColonTZ or Std.ISO8601ColonSecondsTZ or Std.NumColonSecondsTZ;
        if (colon)
        {
            b.Append(':');
        }

        if (std is not (Std.NumShortTZ or Std.ISO8601ShortTZ))
        {
            b.AppendInt(minutes % 60, 2);
        }

        if (std is Std.ISO8601SecondsTZ or Std.NumSecondsTZ or Std.NumColonSecondsTZ or Std.ISO8601ColonSecondsTZ)
        {
            if (std is Std.NumColonSecondsTZ or Std.ISO8601ColonSecondsTZ)
            {
                b.Append(':');
            }

            b.AppendInt(absolute % 60, 2);
        }
    }

    /// <summary>Go's <c>appendNano</c>: a fraction of that many digits (at most 9); the <c>9</c> form drops trailing zeros.</summary>
    private static void AppendNanos(ref CharWriter b, int nanos, Chunk chunk)
    {
        var trim = chunk.Std == Std.FracSecond9;
        if (trim && (chunk.Digits == 0 || nanos == 0))
        {
            return;
        }

        Span<char> digits = stackalloc char[9];
        var value = nanos;
        for (var i = 8; i >= 0; i--)
        {
            digits[i] = (char)('0' + (value % 10));
            value /= 10;
        }

        var count = Math.Min(chunk.Digits, 9);
        if (trim)
        {
            while (count > 0 && digits[count - 1] == '0')
            {
                count--;
            }

            if (count == 0)
            {
                return;
            }
        }

        b.Append(chunk.Separator);
        b.Append(digits[..count]);
    }

    /// <summary>
    /// Go's <c>time.ParseInLocation</c> with this layout: text without a zone is read in <paramref name="local"/>; a
    /// numeric offset gives that fixed offset (or <paramref name="local"/> when it has that offset then); <c>Z</c> and
    /// <c>UTC</c> give UTC; another zone abbreviation gives a zone of that name at offset 0 (GMT±h at its hours), as Go
    /// does for names the local zone does not use (which abbreviations the local zone uses is not known here).
    /// </summary>
    public bool TryParse(ReadOnlySpan<char> value, TimeZoneInfo local, out GoTime result)
    {
        result = default;
        long year = 0;
        int month = -1, day = -1, hour = 0, minute = 0, second = 0, nanos = 0;
        bool pm = false, am = false, utc = false;
        int? zoneOffset = null;
        string? zoneName = null;
        for (var k = 0; k < chunks.Length; k++)
        {
            var chunk = chunks[k];
            if (!Skip(ref value, chunk.Prefix))
            {
                return false;
            }

            var ok = true;
            switch (chunk.Std)
            {
                case Std.None:
                    if (!value.IsEmpty)
                    {
                        return false;
                    }

                    break;
                case Std.Year:
                    if (value.Length < 2 || !TryAtoi(value[..2], out var shortYear))
                    {
                        return false;
                    }

                    value = value[2..];
                    year = shortYear >= 69 ? shortYear + 1900 : shortYear + 2000;
                    break;
                case Std.LongYear:
                    if (value.Length < 4 || !char.IsAsciiDigit(value[0]) || !TryAtoi(value[..4], out var longYear))
                    {
                        return false;
                    }

                    value = value[4..];
                    year = longYear;
                    break;
                case Std.Month or Std.LongMonth:
                    ok = Lookup(chunk.Std == Std.Month ? ShortMonthNames : LongMonthNames, ref value, out var monthIndex);
                    month = monthIndex + 1;
                    break;
                case Std.NumMonth or Std.ZeroMonth:
                    ok = GetNum(ref value, chunk.Std == Std.ZeroMonth, out month) && month is > 0 and <= 12;
                    break;
                case Std.WeekDay or Std.LongWeekDay:
                    ok = Lookup(chunk.Std == Std.WeekDay ? ShortDayNames : LongDayNames, ref value, out _);
                    break;
                case Std.Day or Std.UnderDay or Std.ZeroDay:
                    if (chunk.Std == Std.UnderDay && !value.IsEmpty && value[0] == ' ')
                    {
                        value = value[1..];
                    }

                    ok = GetNum(ref value, chunk.Std == Std.ZeroDay, out day);
                    break;
                case Std.Hour:
                    ok = GetNum(ref value, false, out hour) && hour is >= 0 and < 24;
                    break;
                case Std.Hour12 or Std.ZeroHour12:
                    ok = GetNum(ref value, chunk.Std == Std.ZeroHour12, out hour) && hour is >= 0 and <= 12;
                    break;
                case Std.Minute or Std.ZeroMinute:
                    ok = GetNum(ref value, chunk.Std == Std.ZeroMinute, out minute) && minute is >= 0 and < 60;
                    break;
                case Std.Second or Std.ZeroSecond:
                    ok = GetNum(ref value, chunk.Std == Std.ZeroSecond, out second) && second is >= 0 and < 60;

                    // A fraction the layout does not have is taken after the seconds, as Go does.
                    if (ok && value.Length >= 2 && value[0] is '.' or ',' && char.IsAsciiDigit(value[1])
                        && !(k + 1 < chunks.Length && chunks[k + 1].Std is Std.FracSecond0 or Std.FracSecond9))
                    {
                        var length = 2;
                        while (length < value.Length && char.IsAsciiDigit(value[length]))
                        {
                            length++;
                        }

                        ok = TryNanoseconds(value, length, out nanos);
                        value = value[length..];
                    }

                    break;
                case Std.PM or Std.LowerPM:
                {
                    if (value.Length < 2)
                    {
                        return false;
                    }

                    var upper = chunk.Std == Std.PM;
                    var marker = value[..2];
                    value = value[2..];
                    if (marker.SequenceEqual(upper ? "PM" : "pm"))
                    {
                        pm = true;
                    }
                    else if (marker.SequenceEqual(upper ? "AM" : "am"))
                    {
                        am = true;
                    }
                    else
                    {
                        return false;
                    }

                    break;
                }

                case Std.TZ:
                    if (value.StartsWith("UTC", StringComparison.Ordinal))
                    {
                        value = value[3..];
                        utc = true;
                        break;
                    }

                    var nameLength = ZoneNameLength(value);
                    if (nameLength <= 0)
                    {
                        return false;
                    }

                    zoneName = value[..nameLength].ToString();
                    value = value[nameLength..];
                    break;
                case Std.FracSecond0:
                {
                    var length = 1 + chunk.Digits;
                    if (value.Length < length)
                    {
                        return false;
                    }

                    ok = TryNanoseconds(value, length, out nanos);
                    value = value[length..];
                    break;
                }

                case Std.FracSecond9:
                {
                    if (value.Length < 2 || value[0] is not ('.' or ',') || !char.IsAsciiDigit(value[1]))
                    {
                        break;
                    }

                    var i = 0;
                    while (i + 1 < value.Length && char.IsAsciiDigit(value[i + 1]))
                    {
                        i++;
                    }

                    ok = TryNanoseconds(value, 1 + i, out nanos);
                    value = value[(1 + i)..];
                    break;
                }

                case Std.UnderYearDay or Std.ZeroYearDay:
                    return false;
                default:
                    if (chunk.Std is Std.ISO8601TZ or Std.ISO8601ShortTZ or Std.ISO8601ColonTZ or Std.ISO8601SecondsTZ or Std.ISO8601ColonSecondsTZ
                        && !value.IsEmpty && value[0] == 'Z')
                    {
                        value = value[1..];
                        utc = true;
                        break;
                    }

                    ok = TryNumericZone(ref value, chunk.Std, out var offset);
                    zoneOffset = offset;
                    break;
            }

            if (!ok)
            {
                return false;
            }
        }

        if (pm && hour < 12)
        {
            hour += 12;
        }
        else if (am && hour == 12)
        {
            hour = 0;
        }

        month = month < 0 ? 1 : month;
        day = day < 0 ? 1 : day;
        if (day < 1 || day > GoTime.DaysIn(month, year))
        {
            return false;
        }

        var wall = (GoTime.DaysFromCivil(year, month, day) * 86_400) + (hour * 3600) + (minute * 60) + second;
        if (utc)
        {
            result = GoTime.Fixed(wall, nanos, 0, "UTC");
        }
        else if (zoneOffset is { } offset)
        {
            var instant = wall - offset;
            result = zoneName is null && GoTime.OffsetAt(local, instant) == offset
                ? GoTime.InZone(instant, nanos, local)
                : GoTime.Fixed(instant, nanos, offset, zoneName);
        }
        else if (zoneName is not null)
        {
            var offsetOfName = zoneName.Length > 3 && zoneName.StartsWith("GMT", StringComparison.Ordinal)
                ? int.Parse(zoneName.AsSpan(3), System.Globalization.CultureInfo.InvariantCulture) * 3600
                : 0;
            result = GoTime.Fixed(wall - offsetOfName, nanos, offsetOfName, zoneName);
        }
        else
        {
            result = GoTime.FromWall(wall, nanos, local);
        }

        return true;
    }

    /// <summary>Go's <c>skip</c>: the literal must match; a space in it matches one or more spaces (or the end).</summary>
    private static bool Skip(ref ReadOnlySpan<char> value, string prefix)
    {
        var p = prefix.AsSpan();
        while (!p.IsEmpty)
        {
            if (p[0] == ' ')
            {
                if (!value.IsEmpty && value[0] != ' ')
                {
                    return false;
                }

                p = p.TrimStart(' ');
                value = value.TrimStart(' ');
                continue;
            }

            if (value.IsEmpty || value[0] != p[0])
            {
                return false;
            }

            p = p[1..];
            value = value[1..];
        }

        return true;
    }

    /// <summary>Go's <c>getnum</c>: one or two digits (exactly two when <paramref name="fixedWidth"/>).</summary>
    private static bool GetNum(ref ReadOnlySpan<char> value, bool fixedWidth, out int number)
    {
        number = 0;
        if (value.IsEmpty || !char.IsAsciiDigit(value[0]))
        {
            return false;
        }

        if (value.Length < 2 || !char.IsAsciiDigit(value[1]))
        {
            if (fixedWidth)
            {
                return false;
            }

            number = value[0] - '0';
            value = value[1..];
            return true;
        }

        number = ((value[0] - '0') * 10) + (value[1] - '0');
        value = value[2..];
        return true;
    }

    /// <summary>Go's <c>atoi</c>: an optional sign, then digits only.</summary>
    private static bool TryAtoi(ReadOnlySpan<char> s, out int number)
    {
        number = 0;
        var negative = false;
        if (!s.IsEmpty && s[0] is '-' or '+')
        {
            negative = s[0] == '-';
            s = s[1..];
        }

        if (s.IsEmpty)
        {
            return false;
        }

        foreach (var c in s)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            number = (number * 10) + (c - '0');
        }

        number = negative ? -number : number;
        return true;
    }

    /// <summary>Go's <c>parseNanoseconds</c>: a point or comma then digits, scaled to nanoseconds (9 digits kept).</summary>
    private static bool TryNanoseconds(ReadOnlySpan<char> value, int length, out int nanos)
    {
        nanos = 0;
        if (value[0] is not ('.' or ','))
        {
            return false;
        }

        length = Math.Min(length, 10);
        if (!TryAtoi(value[1..length], out nanos) || nanos < 0)
        {
            return false;
        }

        for (var i = 0; i < 10 - length; i++)
        {
            nanos *= 10;
        }

        return true;
    }

    /// <summary>Go's <c>lookup</c>: one of the names, compared without case.</summary>
    private static bool Lookup(string[] names, ref ReadOnlySpan<char> value, out int index)
    {
        for (index = 0; index < names.Length; index++)
        {
            var name = names[index];
            if (value.Length >= name.Length && value[..name.Length].Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                value = value[name.Length..];
                return true;
            }
        }

        return false;
    }

    /// <summary>A numeric zone (<c>+0800</c>, <c>+08:00</c>, <c>+08</c>…) as Go reads it, in seconds east of UTC.</summary>
    private static bool TryNumericZone(ref ReadOnlySpan<char> value, Std std, out int offset)
    {
        offset = 0;
        ReadOnlySpan<char> hours, minutes, seconds = "00";
        char sign;
        switch (std)
        {
            case Std.ISO8601ColonTZ or Std.NumColonTZ:
                if (value.Length < 6 || value[3] != ':')
                {
                    return false;
                }

                sign = value[0];
                hours = value[1..3];
                minutes = value[4..6];
                value = value[6..];
                break;
            case Std.NumShortTZ or Std.ISO8601ShortTZ:
                if (value.Length < 3)
                {
                    return false;
                }

                sign = value[0];
                hours = value[1..3];
                minutes = "00";
                value = value[3..];
                break;
            case Std.ISO8601ColonSecondsTZ or Std.NumColonSecondsTZ:
                if (value.Length < 9 || value[3] != ':' || value[6] != ':')
                {
                    return false;
                }

                sign = value[0];
                hours = value[1..3];
                minutes = value[4..6];
                seconds = value[7..9];
                value = value[9..];
                break;
            case Std.ISO8601SecondsTZ or Std.NumSecondsTZ:
                if (value.Length < 7)
                {
                    return false;
                }

                sign = value[0];
                hours = value[1..3];
                minutes = value[3..5];
                seconds = value[5..7];
                value = value[7..];
                break;
            default:
                if (value.Length < 5)
                {
                    return false;
                }

                sign = value[0];
                hours = value[1..3];
                minutes = value[3..5];
                value = value[5..];
                break;
        }

        if (!GetNum(ref hours, true, out var h) || !GetNum(ref minutes, true, out var m) || !GetNum(ref seconds, true, out var s)
            || h > 24 || m > 60 || s > 60)
        {
            return false;
        }

        offset = (((h * 60) + m) * 60) + s;
        switch (sign)
        {
            case '+':
                return true;
            case '-':
                offset = -offset;
                return true;
            default:
                return false;
        }
    }

    /// <summary>Go's <c>parseTimeZone</c>: how long the zone abbreviation at the start is (0 when there is none).</summary>
    private static int ZoneNameLength(ReadOnlySpan<char> value)
    {
        if (value.Length < 3)
        {
            return 0;
        }

        if (value.Length >= 4 && (value[..4].SequenceEqual("ChST") || value[..4].SequenceEqual("MeST")))
        {
            return 4;
        }

        if (value[..3].SequenceEqual("GMT"))
        {
            return value.Length == 3 ? 3 : 3 + SignedOffsetLength(value[3..]);
        }

        if (value[0] is '+' or '-')
        {
            return SignedOffsetLength(value);
        }

        var upper = 0;
        while (upper < 6 && upper < value.Length && value[upper] is >= 'A' and <= 'Z')
        {
            upper++;
        }

        return upper switch
        {
            3 => 3,
            4 when value[3] == 'T' || value[..4].SequenceEqual("WITA") => 4,
            5 when value[4] == 'T' => 5,
            _ => 0,
        };
    }

    /// <summary>Go's <c>parseSignedOffset</c>: the length of <c>+h</c>/<c>-hh</c> (hours up to 23), or 0.</summary>
    private static int SignedOffsetLength(ReadOnlySpan<char> value)
    {
        if (value.IsEmpty || value[0] is not ('+' or '-'))
        {
            return 0;
        }

        var i = 1;
        long hours = 0;
        while (i < value.Length && char.IsAsciiDigit(value[i]) && hours <= 23)
        {
            hours = (hours * 10) + (value[i] - '0');
            i++;
        }

        return i == 1 || hours > 23 ? 0 : i;
    }

    /// <summary>A small text builder on a stack buffer that falls back to pooled arrays.</summary>
    private ref struct CharWriter
    {
        private Span<char> buffer;
        private char[]? rented;
        private int length;

        public CharWriter(Span<char> initial)
        {
            buffer = initial;
            rented = null;
            length = 0;
        }

        public void Append(char c)
        {
            if (length == buffer.Length)
            {
                Grow(1);
            }

            buffer[length++] = c;
        }

        public void Append(scoped ReadOnlySpan<char> text)
        {
            if (length + text.Length > buffer.Length)
            {
                Grow(text.Length);
            }

            text.CopyTo(buffer[length..]);
            length += text.Length;
        }

        /// <summary>Go's <c>appendInt</c>: a minus for negatives, then at least <paramref name="width"/> digits.</summary>
        public void AppendInt(long value, int width)
        {
            // The common fields (months, days, hours, minutes, seconds, four-digit years) without the general loop.
            if ((ulong)value < 100 && width <= 2)
            {
                if (value >= 10 || width == 2)
                {
                    Append((char)('0' + (value / 10)));
                }

                Append((char)('0' + (value % 10)));
                return;
            }

            if ((ulong)value < 10_000 && value >= 1000 && width <= 4)
            {
                Append((char)('0' + (value / 1000)));
                Append((char)('0' + (value / 100 % 10)));
                Append((char)('0' + (value / 10 % 10)));
                Append((char)('0' + (value % 10)));
                return;
            }

            if (value < 0)
            {
                Append('-');
            }

            var magnitude = value < 0 ? (ulong)(-(value + 1)) + 1 : (ulong)value;
            Span<char> digits = stackalloc char[20];
            var i = digits.Length;
            do
            {
                digits[--i] = (char)('0' + (int)(magnitude % 10));
                magnitude /= 10;
            }
            while (magnitude != 0);

            for (var pad = digits.Length - i; pad < width; pad++)
            {
                Append('0');
            }

            Append(digits[i..]);
        }

        public override readonly string ToString() => new(buffer[..length]);

        public void Dispose()
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
                rented = null;
            }
        }

        private void Grow(int needed)
        {
            var next = ArrayPool<char>.Shared.Rent(Math.Max(buffer.Length * 2, length + needed));
            buffer[..length].CopyTo(next);
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }

            rented = next;
            buffer = next;
        }
    }
}
