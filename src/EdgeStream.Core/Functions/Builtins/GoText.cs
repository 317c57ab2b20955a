using System.Globalization;
using System.Text;
using EdgeStream.Abstractions;

namespace EdgeStream.Functions.Builtins;

/// <summary>
/// Text as Go writes it, for the JSON and array functions: <c>encoding/json</c>'s <c>Marshal</c> (what eKuiper's
/// <c>to_json</c> gives) and <c>strconv.FormatFloat(f, 'f', -1, 64)</c> (what its <c>cast.ToString</c> gives a float).
/// </summary>
internal static class GoText
{
    private const string Hex = "0123456789abcdef";

    /// <summary>
    /// <paramref name="value"/> as Go's <c>json.Marshal</c> writes it: compact, object keys sorted, floats in their
    /// shortest form (<c>2</c>, <c>0.5</c>, <c>1e+21</c>, <c>1e-7</c>), <c>&lt; &gt; &amp;</c> escaped, bytes as
    /// base64, datetimes as RFC 3339. Null when a float is NaN or infinite (Go refuses those).
    /// </summary>
    public static string? Json(Value value)
    {
        var output = new StringBuilder();
        return WriteJson(output, value) ? output.ToString() : null;
    }

    private static bool WriteJson(StringBuilder output, Value value)
    {
        switch (value.Kind)
        {
            case ValueKind.Null:
                output.Append("null");
                return true;
            case ValueKind.Boolean:
                output.Append(value.AsBoolean ? "true" : "false");
                return true;
            case ValueKind.Integer:
                output.Append(value.AsInteger.ToString(CultureInfo.InvariantCulture));
                return true;
            case ValueKind.Float:
                return AppendJsonFloat(output, value.AsFloat);
            case ValueKind.String:
                AppendJsonString(output, value.AsString);
                return true;
            case ValueKind.Bytes:
                output.Append('"').Append(Convert.ToBase64String(value.AsBytes)).Append('"');
                return true;
            case ValueKind.Datetime:
                output.Append('"').Append(Rfc3339(value.AsDateTimeOffset)).Append('"');
                return true;
            case ValueKind.Array:
                output.Append('[');
                var items = value.AsArray;
                for (var i = 0; i < items.Length; i++)
                {
                    if (i > 0)
                    {
                        output.Append(',');
                    }

                    if (!WriteJson(output, items[i]))
                    {
                        return false;
                    }
                }

                output.Append(']');
                return true;
            default:
                var fields = value.AsObject.Fields.ToArray();
                Array.Sort(fields, static (a, b) => string.CompareOrdinal(a.Key, b.Key));
                output.Append('{');
                for (var i = 0; i < fields.Length; i++)
                {
                    if (i > 0)
                    {
                        output.Append(',');
                    }

                    AppendJsonString(output, fields[i].Key);
                    output.Append(':');
                    if (!WriteJson(output, fields[i].Value))
                    {
                        return false;
                    }
                }

                output.Append('}');
                return true;
        }
    }

    /// <summary>Go's <c>time.Time.MarshalJSON</c> of a UTC instant: RFC 3339, fraction without trailing zeros.</summary>
    private static string Rfc3339(DateTimeOffset time)
    {
        var text = time.ToString(time.Millisecond == 0 ? "yyyy-MM-dd'T'HH:mm:ss" : "yyyy-MM-dd'T'HH:mm:ss.FFF", CultureInfo.InvariantCulture);
        return time.Offset == TimeSpan.Zero ? text + "Z" : text + time.ToString("zzz", CultureInfo.InvariantCulture);
    }

    /// <summary>A JSON string as Go's encoder writes it (HTML-safe, U+2028/U+2029 escaped, lone surrogates replaced).</summary>
    private static void AppendJsonString(StringBuilder output, string text)
    {
        output.Append('"');
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            switch (c)
            {
                case '"':
                    output.Append("\\\"");
                    continue;
                case '\\':
                    output.Append("\\\\");
                    continue;
                case '\n':
                    output.Append("\\n");
                    continue;
                case '\r':
                    output.Append("\\r");
                    continue;
                case '\t':
                    output.Append("\\t");
                    continue;
                case '\b':
                    output.Append("\\b");
                    continue;
                case '\f':
                    output.Append("\\f");
                    continue;
            }

            if (c < 0x20 || c is '<' or '>' or '&' or '\u2028' or '\u2029')
            {
                output.Append("\\u").Append(Hex[c >> 12]).Append(Hex[(c >> 8) & 0xF]).Append(Hex[(c >> 4) & 0xF]).Append(Hex[c & 0xF]);
            }
            else if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                output.Append(c).Append(text[++i]);
            }
            else if (char.IsSurrogate(c))
            {
                output.Append("\\ufffd");
            }
            else
            {
                output.Append(c);
            }
        }

        output.Append('"');
    }

    /// <summary>A float as Go's JSON encoder writes it; false for NaN and infinities.</summary>
    private static bool AppendJsonFloat(StringBuilder output, double value)
    {
        if (!double.IsFinite(value))
        {
            return false;
        }

        var magnitude = Math.Abs(value);
        if (magnitude != 0 && (magnitude < 1e-6 || magnitude >= 1e21))
        {
            Decompose(value, out var digits, out var exponent);
            if (value < 0)
            {
                output.Append('-');
            }

            output.Append(digits[0]);
            if (digits.Length > 1)
            {
                output.Append('.').Append(digits, 1, digits.Length - 1);
            }

            var e = exponent - 1;
            output.Append('e').Append(e < 0 ? '-' : '+');
            var power = Math.Abs(e).ToString(CultureInfo.InvariantCulture);

            // Go writes at least two exponent digits, and its JSON encoder trims e-07 to e-7.
            output.Append(e >= 0 && power.Length < 2 ? "0" + power : power);
            return true;
        }

        output.Append(FixedFloat(value));
        return true;
    }

    /// <summary>Go's <c>strconv.FormatFloat(value, 'f', -1, 64)</c>: the shortest digits, never an exponent.</summary>
    public static string FixedFloat(double value)
    {
        if (double.IsNaN(value))
        {
            return "NaN";
        }

        if (double.IsInfinity(value))
        {
            return value > 0 ? "+Inf" : "-Inf";
        }

        if (value == 0)
        {
            return double.IsNegative(value) ? "-0" : "0";
        }

        Decompose(value, out var digits, out var exponent);
        var output = new StringBuilder(digits.Length + Math.Abs(exponent) + 3);
        if (value < 0)
        {
            output.Append('-');
        }

        if (exponent <= 0)
        {
            output.Append("0.").Append('0', -exponent).Append(digits);
        }
        else if (exponent >= digits.Length)
        {
            output.Append(digits).Append('0', exponent - digits.Length);
        }
        else
        {
            output.Append(digits, 0, exponent).Append('.').Append(digits, exponent, digits.Length - exponent);
        }

        return output.ToString();
    }

    /// <summary>
    /// The shortest round-trip digits of a non-zero finite <paramref name="value"/> (no sign, no leading or trailing
    /// zeros) and the decimal exponent placing the point: |value| = 0.<paramref name="digits"/> × 10^<paramref name="exponent"/>.
    /// </summary>
    private static void Decompose(double value, out string digits, out int exponent)
    {
        var text = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
        var e = text.IndexOfAny(['E', 'e']);
        var mantissa = e < 0 ? text : text[..e];
        var power = e < 0 ? 0 : int.Parse(text.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        var point = mantissa.IndexOf('.', StringComparison.Ordinal);
        var whole = point < 0 ? mantissa : mantissa.Remove(point, 1);
        var pointAt = (point < 0 ? mantissa.Length : point) + power;
        var leading = 0;
        while (leading < whole.Length - 1 && whole[leading] == '0')
        {
            leading++;
        }

        digits = whole[leading..].TrimEnd('0');
        exponent = pointAt - leading;
        if (digits.Length == 0)
        {
            digits = "0";
        }
    }
}
