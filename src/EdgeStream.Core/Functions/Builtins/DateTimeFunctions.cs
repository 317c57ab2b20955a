using EdgeStream.Abstractions;
using static EdgeStream.Functions.Builtins.FunctionArgs;

namespace EdgeStream.Functions.Builtins;

/// <summary>
/// The date and time functions, as eKuiper's <c>funcs_datetime.go</c> (and <c>convert_tz</c>, <c>to_seconds</c> from
/// <c>funcs_misc.go</c>). A time argument is a datetime, Unix milliseconds (an integer, or a float truncated), or a
/// string eKuiper can read (<see cref="GoTimeText"/>); its fields are read in the engine's configured zone
/// (<see cref="FunctionEnvironment.TimeZone"/>, eKuiper's <c>basic.timezone</c>), or in the zone a string names.
/// Like eKuiper, several functions give strings, not times: <c>now</c>, <c>cur_date</c>, <c>cur_time</c>,
/// <c>date_calc</c>, <c>from_days</c>, <c>from_unix_time</c>, <c>last_day</c>. Null in gives null for
/// <c>format_time</c>, <c>from_days</c>, <c>from_unix_time</c>, <c>convert_tz</c> and <c>to_seconds</c>; the others
/// fail on null, as eKuiper's do. A datetime holds milliseconds, so <c>microsecond</c> of one is a multiple of 1000
/// and <c>now(4..6)</c> pads with zeros; a string's own sub-millisecond digits are kept while it is read.
/// </summary>
internal static class DateTimeFunctions
{
    private static readonly string[] DayNames = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

    private static readonly string[] MonthNames =
        ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

    /// <summary>
    /// <c>now(fsp)</c>'s layouts by precision 0 to 6. eKuiper appends <c>.SSS</c> to <c>ss</c>, and its pattern turns
    /// each run of <c>S</c> into a point and digits, so it prints two points (<c>10..123</c>); these print one, as its
    /// documentation says.
    /// </summary>
    private static readonly GoLayout[] NowLayouts = [.. Enumerable.Range(0, 7).Select(fsp => Pattern("yyyy-MM-dd HH:mm:ss" + new string('S', fsp)))];

    /// <summary><c>cur_time(fsp)</c>'s layouts: the time part of <see cref="NowLayouts"/>.</summary>
    private static readonly GoLayout[] TimeLayouts = [.. Enumerable.Range(0, 7).Select(fsp => Pattern("HH:mm:ss" + new string('S', fsp)))];

    /// <summary>This category's implementations.</summary>
    public static readonly ScalarFunction[] All =
    [
        new("now", "i", static (args, env) => Current(args, env, NowLayouts, "now"), static call => PrepareCurrent(call, NowLayouts)),
        new("cur_date", "x", static (_, env) => Value.From(GoLayout.Date.Format(GoTime.FromUnixMilliseconds(env.NowMs, env.TimeZone)))),
        new("cur_time", "i", static (args, env) => Current(args, env, TimeLayouts, "cur_time"), static call => PrepareCurrent(call, TimeLayouts)),
        new("format_time", "ts", static (args, env) => FormatTime(args, env, null), PrepareFormatTime),
        new("date_calc", "ts", static (args, env) => DateCalc(args, env, null), PrepareDateCalc),
        new("date_diff", "tt", static (args, env) => DateDiff(args, env)),
        new("day_name", "t", static (args, env) => Value.From(DayNames[Time("day_name", args[0], env).Civil().Weekday])),
        new("day_of_month", "t", static (args, env) => Value.From((long)Time("day_of_month", args[0], env).Civil().Day)),
        new("day_of_week", "t", static (args, env) => Value.From((long)Time("day_of_week", args[0], env).Civil().Weekday)),
        new("day_of_year", "t", static (args, env) => Value.From((long)Time("day_of_year", args[0], env).Civil().YearDay)),
        new("from_days", "n", static (args, env) => FromDays(args[0], env)),
        new("from_unix_time", "n", static (args, env) => FromUnixTime(args[0], env)),
        new("hour", "t", static (args, env) => Value.From((long)Time("hour", args[0], env).Civil().Hour)),
        new("last_day", "t", static (args, env) => LastDay(args[0], env)),
        new("microsecond", "t", static (args, env) => Value.From((long)(Time("microsecond", args[0], env).Nanos / 1000))),
        new("minute", "t", static (args, env) => Value.From((long)Time("minute", args[0], env).Civil().Minute)),
        new("month", "t", static (args, env) => Value.From((long)Time("month", args[0], env).Civil().Month)),
        new("month_name", "t", static (args, env) => Value.From(MonthNames[Time("month_name", args[0], env).Civil().Month - 1])),
        new("second", "t", static (args, env) => Value.From((long)Time("second", args[0], env).Civil().Second)),
        new("convert_tz", "ts", static (args, env) => ConvertTz(args, env, null), PrepareConvertTz),
        new("to_seconds", "t", static (args, env) => args[0].IsNull ? Value.Null : Value.From(Time("to_seconds", args[0], env).Seconds)),
    ];

    /// <summary>
    /// eKuiper's <c>cast.InterfaceToTime</c>: a datetime or Unix milliseconds in the configured zone, or a string read
    /// as a time; anything else (null included) is an error.
    /// </summary>
    internal static GoTime Time(string name, Value value, FunctionEnvironment env) => value.Kind switch
    {
        ValueKind.Datetime => GoTime.FromUnixMilliseconds(value.AsDatetimeMs, value.DatetimeZone ?? env.TimeZone),
        ValueKind.Integer => GoTime.FromUnixMilliseconds(value.AsInteger, env.TimeZone),
        ValueKind.Float => GoTime.FromUnixMilliseconds(GoInt64(value.AsFloat), env.TimeZone),
        ValueKind.String => GoTimeText.TryParseTime(value.AsString, env.TimeZone, env.Time, out var time, out var error)
            ? time
            : throw Error(name, error!),
        _ => throw Error(name, "unsupported type to convert to timestamp " + Text(value)),
    };

    /// <summary>Go's float64 to int64 conversion on amd64: truncation, and the minimum for NaN or out of range.</summary>
    private static long GoInt64(double value) =>
        double.IsNaN(value) || value >= 9.2233720368547758E18 || value < -9.2233720368547758E18 ? long.MinValue : (long)value;

    /// <summary>eKuiper's <c>cast.ToStringAlways</c>: null is empty, anything else its Go <c>%v</c> text.</summary>
    private static string GoText(Value value) => value.IsNull ? string.Empty : Text(value);

    /// <summary>eKuiper's <c>cast.ToInt(x, STRICT)</c>: an integer, or a float without a fraction.</summary>
    private static long StrictInteger(string name, Value value) => value.Kind switch
    {
        ValueKind.Integer => value.AsInteger,
        ValueKind.Float when value.AsFloat == Math.Floor(value.AsFloat) && Math.Abs(value.AsFloat) < 9.2e18 => (long)value.AsFloat,
        _ => throw Error(name, $"cannot convert {value.Describe()} to int"),
    };

    /// <summary>An eKuiper pattern known to be valid.</summary>
    private static GoLayout Pattern(string pattern) => GoLayout.FromPattern(pattern, out _)!;

    /// <summary><c>now([fsp])</c> and <c>cur_time([fsp])</c>: the engine's clock in its zone, with 1 to 6 fraction digits (else none).</summary>
    private static Value Current(ReadOnlySpan<Value> args, FunctionEnvironment env, GoLayout[] layouts, string name)
    {
        var fsp = args.Length == 0 ? 0 : Integer(name, args[0]);
        var layout = layouts[fsp is >= 1 and <= 6 ? fsp : 0];
        return Value.From(layout.Format(GoTime.FromUnixMilliseconds(env.NowMs, env.TimeZone)));
    }

    private static ScalarBody? PrepareCurrent(PreparedCall call, GoLayout[] layouts)
    {
        if (call.Count == 0 || call.Constant(0) is not { Kind: ValueKind.Integer } constant)
        {
            return call.Count == 0 ? (_, env) => Value.From(layouts[0].Format(GoTime.FromUnixMilliseconds(env.NowMs, env.TimeZone))) : null;
        }

        var fsp = constant.AsInteger;
        var layout = layouts[fsp is >= 1 and <= 6 ? fsp : 0];
        return (_, env) => Value.From(layout.Format(GoTime.FromUnixMilliseconds(env.NowMs, env.TimeZone)));
    }

    /// <summary>
    /// <c>format_time(t, pattern)</c>: the time in eKuiper's pattern letters. A constant pattern is compiled once
    /// (a bad one refused at rule creation); a pattern from the row is compiled when it changes.
    /// </summary>
    private static Value FormatTime(ReadOnlySpan<Value> args, FunctionEnvironment env, PatternCache? cache)
    {
        if (AnyNull(args))
        {
            return Value.Null;
        }

        var time = Time("format_time", args[0], env);
        var layout = cache is null ? CompilePattern("format_time", GoText(args[1])) : cache.Get(GoText(args[1]));
        return Value.From(layout.Format(time));
    }

    private static GoLayout CompilePattern(string name, string pattern) =>
        GoLayout.FromPattern(pattern, out var error) ?? throw Error(name, error!);

    private static ScalarBody PrepareFormatTime(PreparedCall call)
    {
        if (call.ConstantString(1) is { } pattern)
        {
            var layout = GoLayout.FromPattern(pattern, out var error) ?? throw call.Fail(1, error!);
            return (args, env) =>
            {
                if (args[0].IsNull)
                {
                    return Value.Null;
                }

                return Value.From(layout.Format(Time("format_time", args[0], env)));
            };
        }

        var cache = new PatternCache();
        return (args, env) => FormatTime(args, env, cache);
    }

    /// <summary>The last pattern a call site compiled (a pattern read from the rows is usually the same each time).</summary>
    private sealed class PatternCache
    {
        private Entry? last;

        public GoLayout Get(string pattern)
        {
            var entry = last;
            if (entry is not null && string.Equals(entry.Pattern, pattern, StringComparison.Ordinal))
            {
                return entry.Layout;
            }

            var layout = CompilePattern("format_time", pattern);
            last = new Entry(pattern, layout);
            return layout;
        }

        private sealed record Entry(string Pattern, GoLayout Layout);
    }

    /// <summary>
    /// <c>date_calc(t, duration)</c>: the time moved by a Go duration (a leading <c>-</c> subtracts), as a
    /// <c>yyyy-MM-dd HH:mm:ss</c> string in the time's zone. A constant duration is read once (a bad one refused at
    /// rule creation).
    /// </summary>
    private static Value DateCalc(ReadOnlySpan<Value> args, FunctionEnvironment env, long? constantNanoseconds)
    {
        var time = Time("date_calc", args[0], env);
        long nanoseconds;
        if (constantNanoseconds is { } constant)
        {
            nanoseconds = constant;
        }
        else if (!TryDuration(GoText(args[1]), out nanoseconds, out var error))
        {
            throw Error("date_calc", error!);
        }

        return Value.From(GoLayout.DateTime.Format(time.AddNanoseconds(nanoseconds)));
    }

    /// <summary>eKuiper's duration argument: a leading <c>-</c> is taken off and negates what Go reads from the rest.</summary>
    private static bool TryDuration(string text, out long nanoseconds, out string? error)
    {
        var negative = text.StartsWith('-');
        if (!GoTimeText.TryParseDuration(negative ? text[1..] : text, out nanoseconds, out error))
        {
            return false;
        }

        nanoseconds = negative ? unchecked(-nanoseconds) : nanoseconds;
        return true;
    }

    private static ScalarBody? PrepareDateCalc(PreparedCall call)
    {
        if (call.ConstantString(1) is not { } text)
        {
            return null;
        }

        if (!TryDuration(text, out var nanoseconds, out var error))
        {
            throw call.Fail(1, error!);
        }

        return (args, env) => DateCalc(args, env, nanoseconds);
    }

    /// <summary><c>date_diff(t1, t2)</c>: <c>t2 - t1</c> as Go's <c>time.Duration</c>, integer nanoseconds.</summary>
    private static Value DateDiff(ReadOnlySpan<Value> args, FunctionEnvironment env)
    {
        var from = Time("date_diff", args[0], env);
        return Value.From(Time("date_diff", args[1], env).Subtract(from));
    }

    /// <summary>
    /// <c>from_days(n)</c>: day <c>n</c> counted from 1970-01-01 as day 1, as a <c>yyyy-MM-dd</c> string (0 gives
    /// null; Go's nanosecond arithmetic wraps for days beyond about ±106 751, as eKuiper's does).
    /// </summary>
    private static Value FromDays(Value value, FunctionEnvironment env)
    {
        if (value.IsNull)
        {
            return Value.Null;
        }

        var days = StrictInteger("from_days", value);
        if (days == 0)
        {
            return Value.Null;
        }

        var nanoseconds = unchecked((days - 1) * 86_400_000_000_000L);
        var time = GoTime.InZone(0, 0, env.TimeZone).AddNanoseconds(nanoseconds);
        return Value.From(GoLayout.Date.Format(time));
    }

    /// <summary><c>from_unix_time(seconds)</c>: a <c>yyyy-MM-dd HH:mm:ss</c> string in the configured zone (0 gives null).</summary>
    private static Value FromUnixTime(Value value, FunctionEnvironment env)
    {
        if (value.IsNull)
        {
            return Value.Null;
        }

        var seconds = StrictInteger("from_unix_time", value);
        return seconds == 0 ? Value.Null : Value.From(GoLayout.DateTime.Format(GoTime.InZone(seconds, 0, env.TimeZone)));
    }

    /// <summary><c>last_day(t)</c>: the last day of the time's month, as a <c>yyyy-MM-dd</c> string.</summary>
    private static Value LastDay(Value value, FunctionEnvironment env)
    {
        var civil = Time("last_day", value, env).Civil();
        var last = GoTime.Fixed(0, 0, 0, "UTC").WithWall(civil.Year, civil.Month + 1, 0, 0, 0, 0, 0);
        return Value.From(GoLayout.Date.Format(last));
    }

    /// <summary>
    /// <c>convert_tz(t, zone)</c>: the time in another zone. The instant does not change; the datetime remembers the
    /// zone, so the functions that read its fields (<c>hour</c>, <c>format_time</c>…) and its JSON use it. The zone name is
    /// checked as Go's <c>time.LoadLocation</c> would (<c>""</c> and <c>UTC</c> are UTC, <c>Local</c> the machine's).
    /// </summary>
    private static Value ConvertTz(ReadOnlySpan<Value> args, FunctionEnvironment env, TimeZoneInfo? constantZone)
    {
        if (AnyNull(args))
        {
            return Value.Null;
        }

        var time = Time("convert_tz", args[0], env);
        var zone = constantZone ?? LoadLocation(GoText(args[1])) ?? throw Error("convert_tz", "unknown time zone " + GoText(args[1]));
        return Value.FromDatetime(time.UnixMilliseconds, zone);
    }

    private static ScalarBody? PrepareConvertTz(PreparedCall call)
    {
        if (call.ConstantString(1) is not { } name)
        {
            return null;
        }

        var zone = LoadLocation(name) ?? throw call.Fail(1, "unknown time zone " + name);
        return (args, env) => ConvertTz(args, env, zone);
    }

    /// <summary>A zone by IANA name as Go's <c>time.LoadLocation</c> finds it, or null.</summary>
    internal static TimeZoneInfo? LoadLocation(string name)
    {
        if (name.Length == 0 || name == "UTC")
        {
            return TimeZoneInfo.Utc;
        }

        if (name == "Local")
        {
            return TimeZoneInfo.Local;
        }

        return name.Contains("..", StringComparison.Ordinal) || name[0] is '/' or '\\' || !TimeZoneInfo.TryFindSystemTimeZoneById(name, out var zone)
            ? null
            : zone;
    }
}
