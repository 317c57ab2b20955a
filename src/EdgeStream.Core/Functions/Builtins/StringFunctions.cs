using System.Text;
using EdgeStream.Abstractions;
using static EdgeStream.Functions.Builtins.FunctionArgs;

namespace EdgeStream.Functions.Builtins;

/// <summary>
/// The string functions. As eKuiper's, they take any value's text (Go's <c>%v</c>) where a string is expected at run
/// time, while a number, boolean or time literal in a string position is refused at rule creation. Lengths, indexes
/// and reversal count characters (Unicode code points, as Go's runes), never UTF-16 units or UTF-8 bytes, except
/// <c>numbytes</c>.
/// </summary>
internal static class StringFunctions
{
    /// <summary>The longest text <c>lpad</c>/<c>rpad</c> build (1 Mi characters), so a hostile row cannot take the host's memory; longer is a row error.</summary>
    private const int MaxPaddedLength = 1 << 20;

    /// <summary>This category's implementations.</summary>
    public static readonly ScalarFunction[] All =
    [
        // As eKuiper: null gives null; any other value is turned into its text first (Go's %v).
        new("upper", "x", static (args, _) => args[0].IsNull ? Value.Null : Value.From(Text(args[0]).ToUpperInvariant())),
        new("lower", "x", static (args, _) => args[0].IsNull ? Value.Null : Value.From(Text(args[0]).ToLowerInvariant())),

        // A null argument adds nothing; the result is never null.
        new("concat", "s", static (args, _) => Value.From(Concat(args))),

        // A null argument gives false (startswith, endswith) or -1 (indexof).
        new("endswith", "ss", static (args, _) => AnyNull(args) ? Value.False : Value.From(Text(args[0]).EndsWith(Text(args[1]), StringComparison.Ordinal))),
        new("startswith", "ss", static (args, _) => AnyNull(args) ? Value.False : Value.From(Text(args[0]).StartsWith(Text(args[1]), StringComparison.Ordinal))),
        new("indexof", "ss", static (args, _) => Value.From(AnyNull(args) ? -1L : IndexOf(Text(args[0]), Text(args[1])))),

        // Null counts 0; an array or object counts its elements; anything else its text's characters (numbytes: UTF-8 bytes).
        new("length", "x", static (args, _) => Value.From(Length(args[0]))),
        new("numbytes", "s", static (args, _) => Value.From(args[0].IsNull ? 0L : Encoding.UTF8.GetByteCount(Text(args[0])))),

        // The rest: a null argument gives null.
        new("lpad", "si", static (args, _) => AnyNull(args) ? Value.Null : Value.From(Pad("lpad", args, left: true))),
        new("rpad", "si", static (args, _) => AnyNull(args) ? Value.Null : Value.From(Pad("rpad", args, left: false))),
        new("ltrim", "s", static (args, _) => args[0].IsNull ? Value.Null : Value.From(Text(args[0]).TrimStart())),
        new("rtrim", "s", static (args, _) => args[0].IsNull ? Value.Null : Value.From(Text(args[0]).TrimEnd())),
        new("trim", "s", static (args, _) => args[0].IsNull ? Value.Null : Value.From(Text(args[0]).Trim())),
        new("reverse", "s", static (args, _) => args[0].IsNull ? Value.Null : Value.From(Reverse(Text(args[0])))),
        new("substring", "sii", static (args, _) => AnyNull(args) ? Value.Null : Value.From(Substring(args)), PrepareSubstring),
        new("split_value", "ssi", static (args, _) => AnyNull(args) ? Value.Null : Value.From(SplitValue(args)), PrepareSplitValue),
        new("format", "nis", static (args, _) => AnyNull(args) ? Value.Null : Value.From(Format(args, null)), PrepareFormat),

        // Regular expressions (Go's RE2 syntax): a null argument gives false (regexp_matches) or null.
        new("regexp_matches", "ss", static (args, env) => AnyNull(args) ? Value.False : Value.From(GoRegex.Get("regexp_matches", Text(args[1]), env.Limits.MatchTimeout).IsMatch(Text(args[0]))), PrepareMatches),
        new("regexp_replace", "sss", static (args, env) => AnyNull(args) ? Value.Null : Value.From(GoRegex.Get("regexp_replace", Text(args[1]), env.Limits.MatchTimeout).ReplaceAll(Text(args[0]), GoReplacement.Parse(Text(args[2])))), PrepareReplace),
        new("regexp_substr", "ss", static (args, env) => AnyNull(args) ? Value.Null : Value.From(GoRegex.Get("regexp_substr", Text(args[1]), env.Limits.MatchTimeout).FindString(Text(args[0]))), PrepareSubstr),
    ];

    /// <summary><c>concat(x, …)</c>: the texts of the arguments one after the other, a null adding nothing.</summary>
    private static string Concat(ReadOnlySpan<Value> args)
    {
        switch (args.Length)
        {
            case 1:
                return TextOrEmpty(args[0]);
            case 2:
                return string.Concat(TextOrEmpty(args[0]), TextOrEmpty(args[1]));
            case 3:
                return string.Concat(TextOrEmpty(args[0]), TextOrEmpty(args[1]), TextOrEmpty(args[2]));
            default:
                var builder = new StringBuilder();
                foreach (var arg in args)
                {
                    builder.Append(TextOrEmpty(arg));
                }

                return builder.ToString();
        }
    }

    private static string TextOrEmpty(Value value) => value.IsNull ? string.Empty : Text(value);

    /// <summary><c>length(x)</c>: 0 for null, the element count of an array or object, else the characters of the text.</summary>
    private static long Length(Value value) => value.Kind switch
    {
        ValueKind.Null => 0,
        ValueKind.Array => value.AsArray.Length,
        ValueKind.Object => value.AsObject.Count,
        _ => CodePoints.Count(Text(value)),
    };

    /// <summary><c>indexof(s, sub)</c>: the character index of the first <paramref name="sub"/>, or -1.</summary>
    private static long IndexOf(string s, string sub)
    {
        var at = s.IndexOf(sub, StringComparison.Ordinal);
        return at < 0 ? -1 : CodePoints.Count(s.AsSpan(0, at));
    }

    /// <summary><c>lpad(s, n)</c> / <c>rpad(s, n)</c>: <c>n</c> spaces before or after the text.</summary>
    private static string Pad(string name, ReadOnlySpan<Value> args, bool left)
    {
        var s = Text(args[0]);
        var n = Integer(name, args[1], 2);
        if (n < 0)
        {
            throw Error(name, $"the number of spaces must not be negative, got {n}");
        }

        if (n > MaxPaddedLength - s.Length)
        {
            throw Error(name, $"the padded text would be longer than {MaxPaddedLength} characters");
        }

        return string.Create(s.Length + (int)n, (s, left), static (span, state) =>
        {
            var (text, padLeft) = state;
            var spaces = span.Length - text.Length;
            span.Fill(' ');
            text.AsSpan().CopyTo(padLeft ? span[spaces..] : span);
        });
    }

    /// <summary><c>reverse(s)</c>: the characters in reverse order, a surrogate pair kept as one character.</summary>
    private static string Reverse(string s) => s.Length < 2 ? s : string.Create(s.Length, s, static (span, source) =>
    {
        var end = span.Length;
        for (var i = 0; i < source.Length; i++)
        {
            if (char.IsHighSurrogate(source[i]) && i + 1 < source.Length && char.IsLowSurrogate(source[i + 1]))
            {
                span[end - 2] = source[i];
                span[end - 1] = source[i + 1];
                end -= 2;
                i++;
            }
            else
            {
                span[--end] = source[i];
            }
        }
    });

    /// <summary>
    /// <c>substring(s, start [, end])</c>: characters from <c>start</c> up to, not including, <c>end</c> (0-based);
    /// a start past the end gives the empty string, an end past it the rest; a negative index or a start after the
    /// end is an error.
    /// </summary>
    private static string Substring(ReadOnlySpan<Value> args)
    {
        var s = Text(args[0]);
        var start = Integer("substring", args[1], 2);
        if (start < 0)
        {
            throw Error("substring", "start index must be a positive number");
        }

        var length = CodePoints.Count(s);
        var end = (long)length;
        if (args.Length > 2)
        {
            end = Integer("substring", args[2], 3);
            if (end < 0)
            {
                throw Error("substring", "end index must be a positive number");
            }

            if (start > end)
            {
                throw Error("substring", "start index must be smaller than end index");
            }
        }

        if (start > length)
        {
            return string.Empty;
        }

        end = Math.Min(end, length);
        var from = CodePoints.Offset(s, (int)start);
        return s[from..CodePoints.Offset(s, (int)end)];
    }

    /// <summary>eKuiper refuses a negative constant index, or a constant end before a constant start, at rule creation.</summary>
    private static ScalarBody? PrepareSubstring(PreparedCall call)
    {
        if (call.Constant(1) is { Kind: ValueKind.Integer } start && start.AsInteger < 0)
        {
            throw call.Fail(1, "the start index must not be negative");
        }

        if (call.Count > 2 && call.Constant(2) is { Kind: ValueKind.Integer } end)
        {
            if (end.AsInteger < 0)
            {
                throw call.Fail(2, "the end index must not be negative");
            }

            if (call.Constant(1) is { Kind: ValueKind.Integer } first && end.AsInteger < first.AsInteger)
            {
                throw call.Fail(2, "the end index must not be smaller than the start index");
            }
        }

        return null;
    }

    /// <summary>
    /// <c>split_value(s, separator, index)</c>: part <c>index</c> of the text split at every separator (from the end
    /// when negative: -1 is the last); an empty separator splits between characters; an index out of range is an error.
    /// </summary>
    private static string SplitValue(ReadOnlySpan<Value> args)
    {
        var s = Text(args[0]);
        var separator = Text(args[1]);
        var index = Integer("split_value", args[2], 3);
        if (separator.Length == 0)
        {
            var characters = CodePoints.Count(s);
            var k = Resolve(index, characters);
            var from = CodePoints.Offset(s, (int)k);
            return s[from..CodePoints.Offset(s, (int)k + 1)];
        }

        var parts = 1;
        for (var at = s.IndexOf(separator, StringComparison.Ordinal); at >= 0; at = s.IndexOf(separator, at + separator.Length, StringComparison.Ordinal))
        {
            parts++;
        }

        var target = Resolve(index, parts);
        var start = 0;
        for (var i = 0; i < target; i++)
        {
            start = s.IndexOf(separator, start, StringComparison.Ordinal) + separator.Length;
        }

        var stop = s.IndexOf(separator, start, StringComparison.Ordinal);
        return stop < 0 ? s[start..] : s[start..stop];
    }

    /// <summary>As eKuiper, a negative constant index is refused at rule creation (a negative index from a row counts from the end).</summary>
    private static ScalarBody? PrepareSplitValue(PreparedCall call)
    {
        if (call.Constant(2) is { Kind: ValueKind.Integer } index && index.AsInteger < 0)
        {
            throw call.Fail(2, "the index should not be a negative integer");
        }

        return null;
    }

    /// <summary>A split index checked against <paramref name="size"/> parts, a negative one counted from the end.</summary>
    private static long Resolve(long index, int size)
    {
        if (index > size - 1 || index < -size)
        {
            throw Error("split_value", $"{index} out of index array (size = {size})");
        }

        return index < 0 ? size + index : index;
    }

    /// <summary>
    /// <c>format(x, decimals [, locale])</c>: the number rounded to <c>decimals</c> places as text, grouped and
    /// punctuated for <c>locale</c> when one is given (<paramref name="locale"/>: the constant locale, already checked).
    /// </summary>
    private static string Format(ReadOnlySpan<Value> args, LocaleNumbers? locale)
    {
        var x = Number("format", args[0]);
        var decimals = Integer("format", args[1], 2);
        if (decimals < 0)
        {
            throw Error("format", "the decimal places must greater or equal than 0");
        }

        if (decimals > NumberFormatting.MaxDecimals)
        {
            throw Error("format", $"the decimal places must not be more than {NumberFormatting.MaxDecimals}");
        }

        if (args.Length < 3)
        {
            return NumberFormatting.Fixed(x, (int)decimals);
        }

        if (locale is null)
        {
            var name = FunctionArgs.String("format", args[2], 3);
            locale = NumberFormatting.Find(name) ?? throw Error("format", $"not support for the specific locale:{name}");
        }

        return NumberFormatting.Localized(x, (int)decimals, locale);
    }

    /// <summary>A constant locale is looked up once (an unknown one refused here), a negative constant precision too.</summary>
    private static ScalarBody? PrepareFormat(PreparedCall call)
    {
        if (call.Constant(1) is { Kind: ValueKind.Integer } decimals && (decimals.AsInteger < 0 || decimals.AsInteger > NumberFormatting.MaxDecimals))
        {
            throw call.Fail(1, $"the decimal places must be between 0 and {NumberFormatting.MaxDecimals}");
        }

        if (call.ConstantString(2) is not { } name)
        {
            return null;
        }

        var locale = NumberFormatting.Find(name) ?? throw call.Fail(2, $"not support for the specific locale:{name}");
        return (args, _) => AnyNull(args) ? Value.Null : Value.From(Format(args, locale));
    }

    /// <summary>A constant pattern compiled once (a bad one refused here), or null.</summary>
    private static GoRegex? ConstantPattern(PreparedCall call)
    {
        if (call.ConstantString(1) is not { } pattern)
        {
            return null;
        }

        try
        {
            return GoRegex.Compile(pattern, call.Environment.Limits.MatchTimeout);
        }
        catch (FormatException e)
        {
            throw call.Fail(1, GoRegex.ParseError(pattern, e));
        }
    }

    private static ScalarBody? PrepareMatches(PreparedCall call) => ConstantPattern(call) is { } regex
        ? (args, _) => AnyNull(args) ? Value.False : Value.From(regex.IsMatch(Text(args[0])))
        : null;

    private static ScalarBody? PrepareSubstr(PreparedCall call) => ConstantPattern(call) is { } regex
        ? (args, _) => AnyNull(args) ? Value.Null : Value.From(regex.FindString(Text(args[0])))
        : null;

    private static ScalarBody? PrepareReplace(PreparedCall call)
    {
        var regex = ConstantPattern(call);
        var replacement = call.ConstantString(2) is { } template ? GoReplacement.Parse(template) : null;
        return (regex, replacement) switch
        {
            (null, null) => null,
            (not null, not null) => (args, _) => AnyNull(args) ? Value.Null : Value.From(regex.ReplaceAll(Text(args[0]), replacement)),
            (not null, null) => (args, _) => AnyNull(args) ? Value.Null : Value.From(regex.ReplaceAll(Text(args[0]), GoReplacement.Parse(Text(args[2])))),
            (null, not null) => (args, env) => AnyNull(args) ? Value.Null : Value.From(GoRegex.Get("regexp_replace", Text(args[1]), env.Limits.MatchTimeout).ReplaceAll(Text(args[0]), replacement)),
        };
    }
}

/// <summary>Counting and indexing a string by Unicode code points (a surrogate pair is one), as Go counts runes.</summary>
internal static class CodePoints
{
    /// <summary>How many code points <paramref name="s"/> holds (an unpaired surrogate counts as one).</summary>
    public static int Count(ReadOnlySpan<char> s)
    {
        var first = s.IndexOfAnyInRange('\uD800', '\uDBFF');
        if (first < 0)
        {
            return s.Length;
        }

        var count = s.Length;
        for (var i = first; i < s.Length - 1; i++)
        {
            if (char.IsHighSurrogate(s[i]) && char.IsLowSurrogate(s[i + 1]))
            {
                count--;
                i++;
            }
        }

        return count;
    }

    /// <summary>The UTF-16 offset of code point <paramref name="index"/> (the length when it is the end or beyond).</summary>
    public static int Offset(string s, int index)
    {
        var first = s.AsSpan().IndexOfAnyInRange('\uD800', '\uDBFF');
        if (first < 0 || index <= first)
        {
            return Math.Min(index, s.Length);
        }

        var offset = first;
        for (var k = first; k < index && offset < s.Length; k++)
        {
            offset += char.IsHighSurrogate(s[offset]) && offset + 1 < s.Length && char.IsLowSurrogate(s[offset + 1]) ? 2 : 1;
        }

        return offset;
    }
}
