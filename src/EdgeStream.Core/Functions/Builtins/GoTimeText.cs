using System.Text.RegularExpressions;

namespace EdgeStream.Functions.Builtins;

/// <summary>
/// Text to time and duration as eKuiper reads them. A time string goes through eKuiper's <c>cast.ParseTime(s, "")</c>:
/// its fraction padded to 3, 6 or 9 digits, then the first of jinzhu/now's default layouts (and eKuiper's two) that
/// reads the whole text, in the engine's zone unless the text has one; fields the text leaves out are filled from
/// now as jinzhu/now does (a time alone is today's; <c>1-2</c> is this year's). A duration is Go's
/// <c>time.ParseDuration</c> syntax (<c>1h30m</c>, <c>-1.5h</c>, <c>300ms</c>).
/// </summary>
internal static partial class GoTimeText
{
    /// <summary>jinzhu/now's <c>TimeFormats</c>, then eKuiper's JSISO and ISO8601, in the order they are tried.</summary>
    private static readonly GoLayout[] DefaultLayouts =
    [
        .. new[]
        {
            "2006", "2006-1", "2006-1-2", "2006-1-2 15", "2006-1-2 15:4", "2006-1-2 15:4:5", "1-2",
            "15:4:5", "15:4", "15",
            "15:4:5 Jan 2, 2006 MST", "2006-01-02 15:04:05.999999999 -0700 MST", "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05Z07",
            "2006.1.2", "2006.1.2 15:04:05", "2006.01.02", "2006.01.02 15:04:05", "2006.01.02 15:04:05.999999999",
            "1/2/2006", "1/2/2006 15:4:5", "2006/01/02", "20060102", "2006/01/02 15:04:05",
            "Mon Jan _2 15:04:05 2006", "Mon Jan _2 15:04:05 MST 2006", "Mon Jan 02 15:04:05 -0700 2006",
            "02 Jan 06 15:04 MST", "02 Jan 06 15:04 -0700", "Monday, 02-Jan-06 15:04:05 MST",
            "Mon, 02 Jan 2006 15:04:05 MST", "Mon, 02 Jan 2006 15:04:05 -0700", "2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05.999999999Z07:00",
            "3:04PM", "Jan _2 15:04:05", "Jan _2 15:04:05.000", "Jan _2 15:04:05.000000", "Jan _2 15:04:05.000000000",
            "2006-01-02T15:04:05.000Z07:00", "2006-01-02T15:04:05",
        }.Select(GoLayout.Compile),
    ];

    /// <summary>
    /// Reads <paramref name="text"/> as a time; on failure <paramref name="error"/> is eKuiper's message. Fields the
    /// text leaves out come from <paramref name="clock"/>'s now in <paramref name="zone"/>.
    /// </summary>
    public static bool TryParseTime(string text, TimeZoneInfo zone, TimeProvider clock, out GoTime time, out string? error)
    {
        var padded = PadFractionalSeconds(text);
        foreach (var layout in DefaultLayouts)
        {
            if (layout.TryParse(padded, zone, out time))
            {
                error = null;
                time = FillFromNow(time, padded, zone, clock);
                return true;
            }
        }

        time = default;
        error = "Can't parse string as time: " + padded;
        return false;
    }

    /// <summary>
    /// jinzhu/now's completion of a parsed time: unless the text has a clock time, zero fields after the first
    /// non-zero one (from nanoseconds up) take now's; a clock time alone takes today's date.
    /// </summary>
    private static GoTime FillFromNow(GoTime parsed, string text, TimeZoneInfo zone, TimeProvider clock)
    {
        var hasTime = HasTime().IsMatch(text);
        var onlyTime = hasTime && OnlyTime().IsMatch(text);
        var civil = parsed.Civil();
        Span<long> fields = [parsed.Nanos, civil.Second, civil.Minute, civil.Hour, civil.Day, civil.Month, civil.Year];
        Span<long> current = stackalloc long[7];
        var changed = false;
        var setCurrent = false;
        for (var i = 0; i < fields.Length; i++)
        {
            if (hasTime && i <= 3)
            {
                continue;
            }

            if (fields[i] == 0)
            {
                if (setCurrent)
                {
                    Now(current, zone, clock);
                    fields[i] = current[i];
                    changed = true;
                }
            }
            else
            {
                setCurrent = true;
            }

            if (onlyTime && i is 4 or 5)
            {
                Now(current, zone, clock);
                fields[i] = current[i];
                changed = true;
            }
        }

        return changed ? parsed.WithWall(fields[6], fields[5], fields[4], fields[3], fields[2], fields[1], fields[0]) : parsed;
    }

    private static void Now(Span<long> current, TimeZoneInfo zone, TimeProvider clock)
    {
        if (current[5] != 0)
        {
            return;
        }

        var now = GoTime.FromUnixMilliseconds(clock.GetUtcNow().ToUnixTimeMilliseconds(), zone);
        var civil = now.Civil();
        current[0] = now.Nanos;
        current[1] = civil.Second;
        current[2] = civil.Minute;
        current[3] = civil.Hour;
        current[4] = civil.Day;
        current[5] = civil.Month;
        current[6] = civil.Year;
    }

    /// <summary>
    /// eKuiper's <c>padFractionalSeconds</c>: when the text has exactly one point, the digits after it are padded or
    /// cut to 3, 6 or 9.
    /// </summary>
    internal static string PadFractionalSeconds(string text)
    {
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        if (dot < 0 || text.IndexOf('.', dot + 1) >= 0)
        {
            return text;
        }

        var rest = text.AsSpan(dot + 1);
        var digits = 0;
        while (digits < rest.Length && char.IsDigit(rest[digits]))
        {
            digits++;
        }

        // As eKuiper: a fraction that does not start with a digit counts as no digits (and gets padded).
        var target = digits > 6 ? 9 : digits > 3 ? 6 : 3;
        if (digits == target)
        {
            return text;
        }

        var keep = Math.Min(digits, target);
        return string.Concat(text.AsSpan(0, dot + 1 + keep), new string('0', target - keep), rest[digits..]);
    }

    /// <summary>
    /// Go's <c>time.ParseDuration</c>: an optional sign, then numbers (with an optional fraction) each with a unit
    /// (<c>ns</c>, <c>us</c>, <c>µs</c>, <c>ms</c>, <c>s</c>, <c>m</c>, <c>h</c>); <c>0</c> alone is zero. On failure
    /// <paramref name="error"/> is Go's message.
    /// </summary>
    public static bool TryParseDuration(string text, out long nanoseconds, out string? error)
    {
        nanoseconds = 0;
        error = null;
        const ulong Limit = 1UL << 63;
        var s = text.AsSpan();
        var negative = false;
        if (!s.IsEmpty && s[0] is '-' or '+')
        {
            negative = s[0] == '-';
            s = s[1..];
        }

        if (s.SequenceEqual("0"))
        {
            return true;
        }

        if (s.IsEmpty)
        {
            return Invalid(text, out error);
        }

        ulong total = 0;
        while (!s.IsEmpty)
        {
            if (!(s[0] == '.' || char.IsAsciiDigit(s[0])))
            {
                return Invalid(text, out error);
            }

            // The integer part.
            ulong whole = 0;
            var i = 0;
            for (; i < s.Length && char.IsAsciiDigit(s[i]); i++)
            {
                if (whole > Limit / 10)
                {
                    return Invalid(text, out error);
                }

                whole = (whole * 10) + (ulong)(s[i] - '0');
                if (whole > Limit)
                {
                    return Invalid(text, out error);
                }
            }

            var hasWhole = i > 0;
            s = s[i..];

            // The fraction: digits past what fits are ignored.
            ulong fraction = 0;
            var scale = 1.0;
            var hasFraction = false;
            if (!s.IsEmpty && s[0] == '.')
            {
                s = s[1..];
                var overflow = false;
                var j = 0;
                for (; j < s.Length && char.IsAsciiDigit(s[j]); j++)
                {
                    if (overflow)
                    {
                        continue;
                    }

                    if (fraction > (Limit - 1) / 10)
                    {
                        overflow = true;
                        continue;
                    }

                    var next = (fraction * 10) + (ulong)(s[j] - '0');
                    if (next > Limit)
                    {
                        overflow = true;
                        continue;
                    }

                    fraction = next;
                    scale *= 10;
                }

                hasFraction = j > 0;
                s = s[j..];
            }

            if (!hasWhole && !hasFraction)
            {
                return Invalid(text, out error);
            }

            // The unit: everything up to the next number.
            var u = 0;
            while (u < s.Length && !(s[u] == '.' || char.IsAsciiDigit(s[u])))
            {
                u++;
            }

            if (u == 0)
            {
                error = "time: missing unit in duration " + Quote(text);
                return false;
            }

            var unitText = s[..u];
            s = s[u..];
            ulong unit = unitText switch
            {
                "ns" => 1,
                "us" or "\u00b5s" or "\u03bcs" => 1_000,
                "ms" => 1_000_000,
                "s" => 1_000_000_000,
                "m" => 60_000_000_000,
                "h" => 3_600_000_000_000,
                _ => 0,
            };
            if (unit == 0)
            {
                error = "time: unknown unit " + Quote(unitText.ToString()) + " in duration " + Quote(text);
                return false;
            }

            if (whole > Limit / unit)
            {
                return Invalid(text, out error);
            }

            whole *= unit;
            if (fraction > 0)
            {
                whole += (ulong)(fraction * (unit / scale));
                if (whole > Limit)
                {
                    return Invalid(text, out error);
                }
            }

            total += whole;
            if (total > Limit)
            {
                return Invalid(text, out error);
            }
        }

        if (negative)
        {
            nanoseconds = unchecked(-(long)total);
            return true;
        }

        if (total > Limit - 1)
        {
            return Invalid(text, out error);
        }

        nanoseconds = (long)total;
        return true;
    }

    private static bool Invalid(string text, out string? error)
    {
        error = "time: invalid duration " + Quote(text);
        return false;
    }

    /// <summary>Go's <c>time.quote</c>: in double quotes, <c>"</c> and <c>\</c> escaped, other bytes outside printable ASCII as <c>\xNN</c>.</summary>
    private static string Quote(string text)
    {
        var b = new System.Text.StringBuilder(text.Length + 2).Append('"');
        Span<byte> bytes = stackalloc byte[4];
        foreach (var c in text)
        {
            if (c < ' ' || c >= 0x80)
            {
                var count = System.Text.Encoding.UTF8.GetBytes([c], bytes);
                foreach (var x in bytes[..count])
                {
                    b.Append("\\x").Append(x.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
                }
            }
            else
            {
                if (c is '"' or '\\')
                {
                    b.Append('\\');
                }

                b.Append(c);
            }
        }

        return b.Append('"').ToString();
    }

    /// <summary>jinzhu/now's <c>hasTimeRegexp</c> (Go's <c>\s</c>, <c>\d</c> and <c>$</c> spelled out).</summary>
    [GeneratedRegex(@"([\t\n\f\r ]+|^[\t\n\f\r ]*|T)[0-9]{1,2}((:[0-9]{1,2})*|((:[0-9]{1,2}){2}\.([0-9]{3}|[0-9]{6}|[0-9]{9})))([\t\n\f\r ]*\z|[Z+-])", RegexOptions.CultureInvariant)]
    private static partial Regex HasTime();

    /// <summary>jinzhu/now's <c>onlyTimeRegexp</c>.</summary>
    [GeneratedRegex(@"^[\t\n\f\r ]*[0-9]{1,2}((:[0-9]{1,2})*|((:[0-9]{1,2}){2}\.([0-9]{3}|[0-9]{6}|[0-9]{9})))[\t\n\f\r ]*\z", RegexOptions.CultureInvariant)]
    private static partial Regex OnlyTime();
}
