using System.Globalization;
using System.Text;
using EdgeStream.Abstractions;
using EdgeStream.Compilation;
using static EdgeStream.Functions.Builtins.FunctionArgs;

namespace EdgeStream.Functions.Builtins;

/// <summary>
/// The conversion functions: <c>cast</c>, <c>chr</c>, <c>hex2dec</c>, <c>dec2hex</c>. Conversions follow eKuiper's
/// <c>cast.ToType</c>: strings are read as Go's <c>strconv</c> reads them (<c>"0x1f"</c> is a bigint, <c>"t"</c> a
/// boolean), floats become bigints by truncation, bytea is read from base64 text.
/// </summary>
internal static class ConversionFunctions
{
    /// <summary>The type names <c>cast</c> takes, in eKuiper's words.</summary>
    private const string CastTypes = "bigint, float, string, boolean, datetime, bytea";

    /// <summary>This category's implementations.</summary>
    public static readonly ScalarFunction[] All =
    [
        new("cast", "xs", static (args, env) => Cast(args, env), PrepareCast),
        new("chr", "x", static (args, _) => Chr(args[0]), PrepareChr),
        new("hex2dec", "s", static (args, _) => Hex2Dec(args[0])),

        // eKuiper validates dec2hex's literal as a string and then refuses one at run time; a number literal is taken here.
        new("dec2hex", "n", static (args, _) => Dec2Hex(args[0])),
    ];

    /// <summary>The targets of <c>cast</c>.</summary>
    private enum CastTarget
    {
        Bigint,
        Float,
        String,
        Boolean,
        Datetime,
        Bytea,
    }

    /// <summary>A constant type name is checked once and its conversion chosen once; a bad one fails the rule.</summary>
    private static ScalarBody? PrepareCast(PreparedCall call)
    {
        if (call.ConstantString(1) is not { } name)
        {
            return null;
        }

        if (TargetOf(name) is not { } target)
        {
            throw call.Fail(1, $"expect one of following value for the 2nd parameter: {CastTypes}");
        }

        return target switch
        {
            CastTarget.Bigint => static (args, _) => args[0].IsNull ? Value.Null : ToBigint(args[0]),
            CastTarget.Float => static (args, _) => args[0].IsNull ? Value.Null : ToFloat(args[0]),
            CastTarget.String => static (args, _) => args[0].IsNull ? Value.Null : ToText(args[0]),
            CastTarget.Boolean => static (args, _) => args[0].IsNull ? Value.Null : ToBoolean(args[0]),
            CastTarget.Datetime => static (args, env) => args[0].IsNull ? Value.Null : ToDatetime("cast", args[0], env),
            _ => static (args, _) => args[0].IsNull ? Value.Null : ToBytea(args[0]),
        };
    }

    private static CastTarget? TargetOf(string name) => name switch
    {
        "bigint" => CastTarget.Bigint,
        "float" => CastTarget.Float,
        "string" => CastTarget.String,
        "boolean" => CastTarget.Boolean,
        "datetime" => CastTarget.Datetime,
        "bytea" => CastTarget.Bytea,
        _ => null,
    };

    /// <summary><c>cast(x, type)</c> with a type that is not a constant: read on every row.</summary>
    private static Value Cast(ReadOnlySpan<Value> args, FunctionEnvironment env)
    {
        if (AnyNull(args))
        {
            return Value.Null;
        }

        if (args[1].Kind != ValueKind.String)
        {
            throw Error("cast", "expect string type for type parameter");
        }

        return CastTo("cast", args[0], args[1].AsString, env);
    }

    /// <summary>A non-null <paramref name="value"/> converted to the <c>cast</c> type <paramref name="type"/> (also <c>get_keyed_state</c>'s conversion).</summary>
    internal static Value CastTo(string name, Value value, string type, FunctionEnvironment env) => TargetOf(type) switch
    {
        CastTarget.Bigint => ToBigint(value),
        CastTarget.Float => ToFloat(value),
        CastTarget.String => ToText(value),
        CastTarget.Boolean => ToBoolean(value),
        CastTarget.Datetime => ToDatetime(name, value, env),
        CastTarget.Bytea => ToBytea(value),
        _ => throw Error(name, $"unknown type {type}, only support {CastTypes}"),
    };

    /// <summary>A value as Go's <c>%T(%v)</c> prints it in eKuiper's conversion errors: <c>string(abc)</c>.</summary>
    internal static string GoDescribe(Value value) => $"{value.TypeName}({Text(value)})";

    private static EvaluationException Unsupported(string reason) => Error("cast", "not supported type conversion, got error " + reason);

    /// <summary>To bigint: integers as they are, floats truncated toward zero, booleans 1/0, strings as Go's <c>ParseInt(s, 0, 64)</c>.</summary>
    private static Value ToBigint(Value value)
    {
        switch (value.Kind)
        {
            case ValueKind.Integer:
                return value;
            case ValueKind.Float when TruncateToLong(value.AsFloat) is { } truncated:
                return Value.From(truncated);
            case ValueKind.Boolean:
                return Value.From(value.AsBoolean ? 1L : 0L);
            case ValueKind.String when TryParseGoInt(value.AsString, out var parsed):
                return Value.From(parsed);
            default:
                throw Unsupported($"cannot convert {GoDescribe(value)} to int");
        }
    }

    /// <summary>A float truncated toward zero, or null when it is not finite or does not fit 64 bits.</summary>
    internal static long? TruncateToLong(double value)
    {
        var truncated = Math.Truncate(value);
        return truncated is >= -9.223372036854775808e18 and < 9.223372036854775808e18 ? (long)truncated : null;
    }

    /// <summary>To float: numbers, booleans 1/0, strings as Go's <c>ParseFloat(s, 64)</c>.</summary>
    private static Value ToFloat(Value value) => value.Kind switch
    {
        ValueKind.Float => value,
        ValueKind.Integer => Value.From((double)value.AsInteger),
        ValueKind.Boolean => Value.From(value.AsBoolean ? 1.0 : 0.0),
        ValueKind.String when TryParseGoFloat(value.AsString, out var parsed) => Value.From(parsed),
        _ => throw Unsupported($"cannot convert {GoDescribe(value)} to float64"),
    };

    /// <summary>To string: bytes as UTF-8 text, numbers and booleans as Go writes them (floats never in exponent form), datetimes as Go's <c>Time.String</c>.</summary>
    private static Value ToText(Value value) => value.Kind switch
    {
        ValueKind.String => value,
        ValueKind.Bytes => Value.From(Encoding.UTF8.GetString(value.AsBytes)),
        ValueKind.Boolean => Value.From(value.AsBoolean ? "true" : "false"),
        ValueKind.Integer => Value.From(value.AsInteger.ToString(CultureInfo.InvariantCulture)),
        ValueKind.Float => Value.From(GoText.FixedFloat(value.AsFloat)),
        ValueKind.Datetime => Value.From(Text(value)),
        _ => throw Unsupported($"cannot convert {GoDescribe(value)} to string"),
    };

    /// <summary>To boolean: numbers are true when not zero, strings as Go's <c>ParseBool</c> (1, t, T, TRUE, true, True and the false forms).</summary>
    private static Value ToBoolean(Value value)
    {
        switch (value.Kind)
        {
            case ValueKind.Boolean:
                return value;
            case ValueKind.Integer:
                return Value.From(value.AsInteger != 0);
            case ValueKind.Float:
                return Value.From(value.AsFloat != 0);
            case ValueKind.String:
                return value.AsString switch
                {
                    "1" or "t" or "T" or "TRUE" or "true" or "True" => Value.True,
                    "0" or "f" or "F" or "FALSE" or "false" or "False" => Value.False,
                    var s => throw Unsupported($"strconv.ParseBool: parsing \"{s}\": invalid syntax"),
                };
            default:
                throw Unsupported($"cannot convert {GoDescribe(value)} to bool");
        }
    }

    /// <summary>To bytea: bytes as they are, a string read as standard (padded) base64.</summary>
    private static Value ToBytea(Value value)
    {
        switch (value.Kind)
        {
            case ValueKind.Bytes:
                return value;
            case ValueKind.String:
                var text = value.AsString;
                return TryFromGoBase64(text, out var bytes)
                    ? Value.From(bytes)
                    : throw Error("cast", $"illegal string {text}, must be base64 encoded string");
            default:
                throw Error("cast", $"cannot convert {GoDescribe(value)} to bytea");
        }
    }

    /// <summary>
    /// Go's <c>base64.StdEncoding.DecodeString</c>: standard padded base64, where only line breaks are skipped (.NET
    /// would also skip spaces and tabs, which Go refuses).
    /// </summary>
    internal static bool TryFromGoBase64(string text, out byte[] bytes)
    {
        bytes = [];
        if (text.AsSpan().IndexOfAny(' ', '\t') >= 0)
        {
            return false;
        }

        var buffer = new byte[(text.Length / 4 * 3) + 3];
        if (!Convert.TryFromBase64String(text, buffer, out var written))
        {
            return false;
        }

        bytes = buffer.AsSpan(0, written).ToArray();
        return true;
    }

    /// <summary>
    /// A time as eKuiper's <c>cast.InterfaceToTime</c> reads one: a datetime as it is, a number as Unix milliseconds
    /// (a float truncated), a string in one of the layouts of <see cref="GoTimeText.TryParseTime"/>, in the rule's zone unless it
    /// names an offset.
    /// </summary>
    internal static Value ToDatetime(string name, Value value, FunctionEnvironment env) => value.Kind switch
    {
        ValueKind.Datetime => value,
        ValueKind.Integer => Value.FromDatetime(value.AsInteger),
        ValueKind.Float when TruncateToLong(value.AsFloat) is { } ms => Value.FromDatetime(ms),
        ValueKind.String when GoTimeText.TryParseTime(value.AsString, env.TimeZone, env.Time, out var time, out _) => Value.FromDatetime(time.UnixMilliseconds),
        ValueKind.String => throw Error(name, $"can't parse string as time: {value.AsString}"),
        _ => throw Error(name, $"unsupported type to convert to timestamp {Text(value)}"),
    };

    /// <summary>Refuses a float, boolean or datetime literal, as eKuiper's validation of <c>chr</c> does.</summary>
    private static ScalarBody? PrepareChr(PreparedCall call) =>
        call.Constant(0) is { Kind: ValueKind.Float or ValueKind.Boolean or ValueKind.Datetime } v
            ? throw call.Fail(0, $"expect int type for parameter 1, not {v.Describe()}")
            : null;

    /// <summary>
    /// <c>chr(x)</c> as eKuiper runs it: the result is a Go <c>rune</c>, a 32-bit code point, so a number gives itself
    /// (a float truncated, wrapped to 32 bits) and a one-byte string gives its character's code.
    /// </summary>
    private static Value Chr(Value value)
    {
        switch (value.Kind)
        {
            case ValueKind.Null:
                return Value.Null;
            case ValueKind.Integer:
                return Value.From((long)unchecked((int)value.AsInteger));
            case ValueKind.Float when TruncateToLong(value.AsFloat) is { } truncated:
                return Value.From((long)unchecked((int)truncated));
            case ValueKind.String:
                var text = value.AsString;
                if (Encoding.UTF8.GetByteCount(text) > 1)
                {
                    throw Error("chr", "Parameter length cannot larger than 1.");
                }

                return text.Length == 1 ? Value.From((long)text[0]) : throw Error("chr", "Parameter cannot be an empty string.");
            default:
                throw Error("chr", "Only bigint, float and string type can be convert to char type.");
        }
    }

    /// <summary><c>hex2dec(s)</c>: a hexadecimal string (an optional leading <c>0x</c>, an optional sign) as a bigint.</summary>
    private static Value Hex2Dec(Value value)
    {
        if (value.IsNull)
        {
            return Value.Null;
        }

        if (value.Kind != ValueKind.String)
        {
            throw Error("hex2dec", $"invalid input type: {Text(value)} please input hex string");
        }

        var hex = value.AsString.StartsWith("0x", StringComparison.Ordinal) ? value.AsString[2..] : value.AsString;
        return TryParseGoIntBase(hex, 16, out var parsed) ? Value.From(parsed) : throw Error("hex2dec", $"invalid hexadecimal value: {hex}");
    }

    /// <summary><c>dec2hex(n)</c>: an integer (or a float without a fraction) as <c>0x</c> and lower-case hex; a negative one as <c>0x-…</c>, as Go formats it.</summary>
    private static Value Dec2Hex(Value value)
    {
        long number;
        switch (value.Kind)
        {
            case ValueKind.Null:
                return Value.Null;
            case ValueKind.Integer:
                number = value.AsInteger;
                break;
            case ValueKind.Float when TruncateToLong(value.AsFloat) is { } truncated && truncated == value.AsFloat:
                number = truncated;
                break;
            default:
                throw Error("dec2hex", $"cannot convert {GoDescribe(value)} to int");
        }

        if (number >= 0)
        {
            return Value.From("0x" + number.ToString("x", CultureInfo.InvariantCulture));
        }

        var magnitude = number == long.MinValue ? 1UL << 63 : (ulong)-number;
        return Value.From("0x-" + magnitude.ToString("x", CultureInfo.InvariantCulture));
    }

    /// <summary>Go's <c>strconv.ParseInt(s, 0, 64)</c>: an optional sign, a <c>0x</c>/<c>0o</c>/<c>0b</c>/<c>0</c> base prefix, underscores between digits.</summary>
    internal static bool TryParseGoInt(string text, out long value)
    {
        value = 0;
        var s = text.AsSpan();
        if (s.IsEmpty)
        {
            return false;
        }

        var negative = s[0] == '-';
        var body = s[0] is '+' or '-' ? s[1..] : s;
        if (body.IsEmpty)
        {
            return false;
        }

        var numberBase = 10;
        if (body[0] == '0' && body.Length > 1)
        {
            switch (body.Length >= 3 ? char.ToLowerInvariant(body[1]) : '\0')
            {
                case 'b':
                    numberBase = 2;
                    body = body[2..];
                    break;
                case 'o':
                    numberBase = 8;
                    body = body[2..];
                    break;
                case 'x':
                    numberBase = 16;
                    body = body[2..];
                    break;
                default:
                    numberBase = 8;
                    body = body[1..];
                    break;
            }
        }

        if (s.Contains('_') && !UnderscoresOk(s))
        {
            return false;
        }

        return TryAccumulate(body, numberBase, negative, allowUnderscores: true, out value);
    }

    /// <summary>Go's <c>strconv.ParseInt(s, base, 64)</c> for a fixed base: an optional sign, digits only.</summary>
    internal static bool TryParseGoIntBase(string text, int numberBase, out long value)
    {
        value = 0;
        var s = text.AsSpan();
        var negative = s.Length > 0 && s[0] == '-';
        var body = s.Length > 0 && s[0] is '+' or '-' ? s[1..] : s;
        return TryAccumulate(body, numberBase, negative, allowUnderscores: false, out value);
    }

    private static bool TryAccumulate(ReadOnlySpan<char> digits, int numberBase, bool negative, bool allowUnderscores, out long value)
    {
        value = 0;
        if (digits.IsEmpty)
        {
            return false;
        }

        var limit = negative ? 1UL << 63 : (ulong)long.MaxValue;
        ulong magnitude = 0;
        foreach (var c in digits)
        {
            if (c == '_' && allowUnderscores)
            {
                continue;
            }

            var digit = c switch
            {
                >= '0' and <= '9' => c - '0',
                >= 'a' and <= 'z' => c - 'a' + 10,
                >= 'A' and <= 'Z' => c - 'A' + 10,
                _ => 99,
            };
            if (digit >= numberBase || magnitude > (limit - (ulong)digit) / (ulong)numberBase)
            {
                return false;
            }

            magnitude = (magnitude * (ulong)numberBase) + (ulong)digit;
        }

        value = negative ? unchecked((long)(0 - magnitude)) : (long)magnitude;
        return true;
    }

    /// <summary>Go's rule for underscores in a number: only between digits, or between a base prefix and a digit.</summary>
    private static bool UnderscoresOk(ReadOnlySpan<char> s)
    {
        var saw = '^';
        var i = 0;
        if (s.Length >= 1 && s[0] is '+' or '-')
        {
            s = s[1..];
        }

        var hex = false;
        if (s.Length >= 2 && s[0] == '0' && char.ToLowerInvariant(s[1]) is 'b' or 'o' or 'x')
        {
            i = 2;
            saw = '0';
            hex = char.ToLowerInvariant(s[1]) == 'x';
        }

        for (; i < s.Length; i++)
        {
            var c = s[i];
            if (char.IsAsciiDigit(c) || (hex && char.IsAsciiHexDigit(c)))
            {
                saw = '0';
                continue;
            }

            if (c == '_')
            {
                if (saw != '0')
                {
                    return false;
                }

                saw = '_';
                continue;
            }

            if (saw == '_')
            {
                return false;
            }

            saw = '!';
        }

        return saw != '_';
    }

    /// <summary>
    /// Go's <c>strconv.ParseFloat(s, 64)</c>: decimal (<c>1.5</c>, <c>.5</c>, <c>1e3</c>) and hexadecimal
    /// (<c>0x1p-2</c>) forms, <c>inf</c>/<c>infinity</c>/<c>nan</c> in any case, underscores between digits; a value
    /// beyond the float range is refused.
    /// </summary>
    internal static bool TryParseGoFloat(string text, out double value)
    {
        value = 0;
        var s = text.AsSpan();
        if (s.IsEmpty)
        {
            return false;
        }

        var signed = s[0] is '+' or '-';
        var negative = s[0] == '-';
        var body = signed ? s[1..] : s;
        if (body.Equals("inf", StringComparison.OrdinalIgnoreCase) || body.Equals("infinity", StringComparison.OrdinalIgnoreCase))
        {
            value = negative ? double.NegativeInfinity : double.PositiveInfinity;
            return true;
        }

        if (!signed && body.Equals("nan", StringComparison.OrdinalIgnoreCase))
        {
            value = double.NaN;
            return true;
        }

        if (s.Contains('_') && !UnderscoresOk(s))
        {
            return false;
        }

        Span<char> buffer = body.Length <= 128 ? stackalloc char[body.Length] : new char[body.Length];
        var length = 0;
        foreach (var c in body)
        {
            if (c != '_')
            {
                buffer[length++] = c;
            }
        }

        var clean = buffer[..length];
        double magnitude;
        if (clean.Length > 2 && clean[0] == '0' && clean[1] is 'x' or 'X')
        {
            if (!TryParseHexFloat(clean[2..], out magnitude))
            {
                return false;
            }
        }
        else if (!IsDecimalFloat(clean)
            || !double.TryParse(clean, NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out magnitude))
        {
            return false;
        }

        if (double.IsInfinity(magnitude))
        {
            return false;
        }

        value = negative ? -magnitude : magnitude;
        return true;
    }

    /// <summary>Digits with at most one point (at least one digit), then an optional exponent with digits.</summary>
    private static bool IsDecimalFloat(ReadOnlySpan<char> s)
    {
        var i = 0;
        var digits = 0;
        while (i < s.Length && char.IsAsciiDigit(s[i]))
        {
            i++;
            digits++;
        }

        if (i < s.Length && s[i] == '.')
        {
            i++;
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                i++;
                digits++;
            }
        }

        if (digits == 0)
        {
            return false;
        }

        if (i < s.Length && s[i] is 'e' or 'E')
        {
            i++;
            if (i < s.Length && s[i] is '+' or '-')
            {
                i++;
            }

            var exponentDigits = 0;
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                i++;
                exponentDigits++;
            }

            if (exponentDigits == 0)
            {
                return false;
            }
        }

        return i == s.Length;
    }

    /// <summary>A hexadecimal float's mantissa and binary exponent (after <c>0x</c>): <c>1.8p3</c> is 12; the <c>p</c> exponent is required.</summary>
    private static bool TryParseHexFloat(ReadOnlySpan<char> s, out double value)
    {
        value = 0;
        ulong mantissa = 0;
        var exponent = 0;
        var digits = 0;
        var afterPoint = false;
        var i = 0;
        for (; i < s.Length; i++)
        {
            var c = s[i];
            if (c == '.' && !afterPoint)
            {
                afterPoint = true;
                continue;
            }

            if (!char.IsAsciiHexDigit(c))
            {
                break;
            }

            digits++;
            if (mantissa >> 58 == 0)
            {
                mantissa = (mantissa << 4) | (uint)(char.IsAsciiDigit(c) ? c - '0' : (c | 0x20) - 'a' + 10);
                exponent -= afterPoint ? 4 : 0;
            }
            else
            {
                exponent += afterPoint ? 0 : 4;
            }
        }

        if (digits == 0 || i >= s.Length || s[i] is not ('p' or 'P'))
        {
            return false;
        }

        if (!int.TryParse(s[(i + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var binaryExponent))
        {
            return false;
        }

        value = Math.ScaleB(mantissa, exponent + binaryExponent);
        return true;
    }
}
