using System.Runtime.CompilerServices;
using EdgeStream.Abstractions;
using static EdgeStream.Functions.Builtins.FunctionArgs;

namespace EdgeStream.Functions.Builtins;

/// <summary>
/// The math functions, as eKuiper's (<c>internal/binder/function/funcs_math.go</c>). Null in gives null out; a value
/// that is not a number is an error. The trigonometric, exponential and logarithmic functions give a float, and null
/// where the result is not a number (<c>sqrt(-1)</c>, <c>acos(2)</c>, <c>ln(-1)</c>), while an infinite result stays
/// (<c>ln(0)</c> is <c>-Inf</c>). <c>ceiling</c>, <c>floor</c>, <c>round</c>, <c>power</c> and <c>mod</c> always give
/// a float; <c>sign</c> and the bit functions an integer; <c>conv</c> a string.
/// </summary>
internal static class MathFunctions
{
    /// <summary>π / 180, rounded once (as Go's constant), so <c>radians(180)</c> is exactly <c>pi()</c>.</summary>
    private const double DegreesToRadians = 0.017453292519943295769236907684886127134428718885417;

    /// <summary>180 / π, rounded once, so <c>degrees(pi())</c> is exactly 180.</summary>
    private const double RadiansToDegrees = 57.295779513082320876798154814105170332405472466564;

    /// <summary>This category's implementations.</summary>
    public static readonly ScalarFunction[] All =
    [
        new("abs", "n", static (args, _) => Abs(args[0])),
        Unary("acos", Math.Acos),
        Unary("asin", Math.Asin),
        Unary("atan", Math.Atan),
        new("atan2", "n", static (args, _) => AnyNull(args)
            ? Value.Null
            : NotNaN(Math.Atan2(Number("atan2", args[0]), Number("atan2", args[1], 2)))),
        new("bitand", "i", static (args, _) => AnyNull(args)
            ? Value.Null
            : Value.From(BitOperand("bitand", args[0], "the first operand") & BitOperand("bitand", args[1], "the second operand"))),
        new("bitnot", "i", static (args, _) => args[0].IsNull ? Value.Null : Value.From(~BitOperand("bitnot", args[0], "operand"))),
        new("bitor", "i", static (args, _) => AnyNull(args)
            ? Value.Null
            : Value.From(BitOperand("bitor", args[0], "the first operand") | BitOperand("bitor", args[1], "the second operand"))),
        new("bitxor", "i", static (args, _) => AnyNull(args)
            ? Value.Null
            : Value.From(BitOperand("bitxor", args[0], "the first operand") ^ BitOperand("bitxor", args[1], "the second operand"))),
        new("ceiling", "n", static (args, _) => args[0].IsNull ? Value.Null : Value.From(Math.Ceiling(Number("ceiling", args[0])))),
        new("conv", "xi", static (args, _) => Conv(args)),
        Unary("cos", Math.Cos),
        Unary("cosh", Math.Cosh),
        new("cot", "n", static (args, _) => args[0].IsNull ? Value.Null : Cot(Number("cot", args[0]))),
        Unary("degrees", static x => x * RadiansToDegrees),
        Unary("exp", Math.Exp),
        new("floor", "n", static (args, _) => args[0].IsNull ? Value.Null : Value.From(Math.Floor(Number("floor", args[0])))),
        Unary("ln", Math.Log),
        new("log", "n", static (args, _) => Log(args)),
        new("mod", "n", static (args, _) => AnyNull(args)
            ? Value.Null
            : Value.From(Number("mod", args[0]) % Number("mod", args[1], 2))),
        new("pi", string.Empty, static (_, _) => Value.From(Math.PI)),
        new("power", "n", static (args, _) => AnyNull(args)
            ? Value.Null
            : Value.From(Math.Pow(Number("power", args[0]), Number("power", args[1], 2)))),
        Unary("radians", static x => x * DegreesToRadians),
        new("rand", string.Empty, static (_, _) => Value.From(Random.Shared.NextDouble())),
        new("round", "n", static (args, _) => Round(args)),
        new("sign", "n", static (args, _) => args[0].IsNull ? Value.Null : Sign(args[0])),
        Unary("sin", Math.Sin),
        Unary("sinh", Math.Sinh),
        Unary("sqrt", Math.Sqrt),
        Unary("tan", Math.Tan),
        Unary("tanh", Math.Tanh),
    ];

    /// <summary>A one-number function giving a float, or null where the result is not a number.</summary>
    private static ScalarFunction Unary(string name, Func<double, double> function) =>
        new(name, "n", (args, _) => args[0].IsNull ? Value.Null : NotNaN(function(Number(name, args[0]))));

    /// <summary>The float, or null when it is NaN (eKuiper gives nil for a result that is not a number).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Value NotNaN(double result) => double.IsNaN(result) ? Value.Null : Value.From(result);

    /// <summary><c>abs(x)</c>: an integer stays an integer, a float a float.</summary>
    private static Value Abs(Value x) => x.Kind switch
    {
        ValueKind.Null => Value.Null,
        ValueKind.Integer when x.AsInteger == long.MinValue => throw Error("abs", $"the absolute value of {x.AsInteger} overflows int64"),
        ValueKind.Integer => Value.From(Math.Abs(x.AsInteger)),
        _ => Value.From(Math.Abs(Number("abs", x))),
    };

    /// <summary>An operand of a bit function: an integer, or a float with no fraction (eKuiper's strict int cast).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long BitOperand(string name, Value value, string which) => value.Kind switch
    {
        ValueKind.Integer => value.AsInteger,
        ValueKind.Float when value.AsFloat == Math.Floor(value.AsFloat) && Math.Abs(value.AsFloat) < 9.2e18 => (long)value.AsFloat,
        _ => throw Error(name, $"Expect int type for {which} but got {value.Describe()}"),
    };

    /// <summary><c>cot(x)</c>: cos / sin; an infinite result (at 0) is an error, as eKuiper's out-of-range error.</summary>
    private static Value Cot(double x)
    {
        var result = Math.Cos(x) / Math.Sin(x);
        return double.IsInfinity(result) ? throw Error("cot", "out-of-range error") : NotNaN(result);
    }

    /// <summary><c>sign(x)</c>: the integer -1, 0 or 1 (0 for NaN, as Go's comparisons).</summary>
    private static Value Sign(Value x)
    {
        if (x.Kind == ValueKind.Integer)
        {
            return Value.From((long)Math.Sign(x.AsInteger));
        }

        var v = Number("sign", x);
        return Value.From(v > 0 ? 1L : v < 0 ? -1L : 0L);
    }

    /// <summary><c>log(x)</c> is the decimal logarithm, <c>log(b, x)</c> the base-b one (ln x / ln b); NaN gives null.</summary>
    private static Value Log(ReadOnlySpan<Value> args)
    {
        if (AnyNull(args))
        {
            return Value.Null;
        }

        var first = Number("log", args[0]);
        return args.Length == 1 ? NotNaN(Math.Log10(first)) : NotNaN(Math.Log(Number("log", args[1], 2)) / Math.Log(first));
    }

    /// <summary>10^0 to 10^22: every one is an exact double, so round's usual scales need no Math.Pow.</summary>
    private static readonly double[] PowersOfTen = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

    /// <summary>
    /// <c>round(x [, scale])</c>: a float, half away from zero, to <c>scale</c> decimals (0 by default; negative rounds
    /// to tens, hundreds…). A float scale is truncated, as eKuiper's cast.
    /// </summary>
    private static Value Round(ReadOnlySpan<Value> args)
    {
        if (AnyNull(args))
        {
            return Value.Null;
        }

        var x = Number("round", args[0]);
        var scale = args.Length > 1 ? Scale(args[1]) : 0;
        if (scale == 0)
        {
            return Value.From(Math.Round(x, MidpointRounding.AwayFromZero));
        }

        var factor = scale is > 0 and < 23 ? PowersOfTen[scale] : Math.Pow(10, scale); // 10^1..10^22 are exact doubles
        var scaled = x * factor;
        if (double.IsInfinity(scaled) || double.IsInfinity(factor))
        {
            // So large (or so many decimals) that x has no digits left to round away: eKuiper's exact fallback gives x.
            return Value.From(x);
        }

        // A factor that underflows to 0 (scale below -323) rounds everything to 0.
        return Value.From(factor == 0 ? x * 0.0 : Math.Round(scaled, MidpointRounding.AwayFromZero) / factor);
    }

    /// <summary>round's scale: an integer, or a float truncated toward zero.</summary>
    private static long Scale(Value value) => value.Kind switch
    {
        ValueKind.Integer => value.AsInteger,
        ValueKind.Float when double.IsNaN(value.AsFloat) => 0,
        ValueKind.Float => (long)Math.Clamp(Math.Truncate(value.AsFloat), -10_000, 10_000),
        _ => throw Error("round", $"The second argument must be an integer but got {value.Describe()}"),
    };

    /// <summary>
    /// <c>conv(n, from_base, to_base)</c>, as MySQL's: the text of <c>n</c> (any value, as Go's %v) read in
    /// <c>from_base</c>, written in <c>to_base</c>, upper case. Bases run from 2 to 36 (any other gives null); a
    /// negative <c>from_base</c> reads <c>n</c> as a signed 64-bit number (clamped), a negative <c>to_base</c> writes
    /// a signed result. Leading white space is skipped and reading stops at the first character that is not a digit of
    /// the base; no digits at all is 0. Wider than 64 bits is an error. Negative numbers wrap as unsigned 64-bit.
    /// </summary>
    private static Value Conv(ReadOnlySpan<Value> args)
    {
        if (AnyNull(args))
        {
            return Value.Null;
        }

        var from = ConvBase(args[1]);
        var to = ConvBase(args[2]);
        var signed = from < 0;
        var signedResult = to < 0;
        from = Math.Abs(from);
        to = Math.Abs(to);
        if (from is < 2 or > 36 || to is < 2 or > 36)
        {
            return Value.Null;
        }

        var digits = ValidPrefix(Text(args[0]).AsSpan().Trim(), (int)from);
        if (digits.IsEmpty)
        {
            return Value.From("0");
        }

        var negative = digits[0] == '-';
        if (negative)
        {
            digits = digits[1..];
        }

        if (!TryParseUnsigned(digits, (int)from, out var value))
        {
            throw Error("conv", $"the value \"{digits}\" in base {from} is out of the 64-bit range");
        }

        if (signed)
        {
            // Read as a signed number: clamp to int64's range.
            value = negative ? Math.Min(value, 1UL << 63) : Math.Min(value, (ulong)long.MaxValue);
        }

        if (negative)
        {
            value = unchecked(0UL - value);
        }

        var resultNegative = signedResult && (long)value < 0;
        if (resultNegative)
        {
            value = unchecked(0UL - value);
        }

        return Value.From(FormatUnsigned(value, (int)to, resultNegative));
    }

    /// <summary>A base argument of <c>conv</c>: an integer, a float truncated; anything else is no base (null result).</summary>
    private static long ConvBase(Value value) => value.Kind switch
    {
        ValueKind.Integer => value.AsInteger,
        ValueKind.Float when Math.Abs(value.AsFloat) < 100 => (long)value.AsFloat,
        _ => 0,
    };

    /// <summary>
    /// The longest start of <paramref name="text"/> that reads as a number in <paramref name="radix"/>: an optional
    /// sign then digits (letters in either case). A leading <c>+</c> is dropped; a lone sign gives nothing.
    /// </summary>
    private static ReadOnlySpan<char> ValidPrefix(ReadOnlySpan<char> text, int radix)
    {
        var valid = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c is '+' or '-')
            {
                if (i != 0)
                {
                    break;
                }

                continue;
            }

            var digit = DigitValue(c);
            if (digit < 0 || digit >= radix)
            {
                break;
            }

            valid = i + 1;
        }

        return valid > 1 && text[0] == '+' ? text[1..valid] : text[..valid];
    }

    /// <summary>An ASCII digit or letter's value (0–35), or -1.</summary>
    private static int DigitValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'z' => c - 'a' + 10,
        >= 'A' and <= 'Z' => c - 'A' + 10,
        _ => -1,
    };

    /// <summary>Reads unsigned digits (already checked) in <paramref name="radix"/>; false when wider than 64 bits.</summary>
    private static bool TryParseUnsigned(ReadOnlySpan<char> digits, int radix, out ulong value)
    {
        value = 0;
        foreach (var c in digits)
        {
            var digit = (ulong)DigitValue(c);
            if (value > (ulong.MaxValue - digit) / (ulong)radix)
            {
                return false;
            }

            value = (value * (ulong)radix) + digit;
        }

        return true;
    }

    /// <summary>Writes <paramref name="value"/> in <paramref name="radix"/> with upper-case letters.</summary>
    private static string FormatUnsigned(ulong value, int radix, bool negative)
    {
        const string Digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        Span<char> buffer = stackalloc char[65];
        var at = buffer.Length;
        do
        {
            buffer[--at] = Digits[(int)(value % (ulong)radix)];
            value /= (ulong)radix;
        }
        while (value != 0);

        if (negative)
        {
            buffer[--at] = '-';
        }

        return new string(buffer[at..]);
    }
}
