using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace EdgeStream.Functions.Builtins;

/// <summary>
/// A regular expression written in Go's RE2 syntax (eKuiper's <c>regexp</c> package), run on .NET's linear-time
/// <see cref="RegexOptions.NonBacktracking"/> engine so that no pattern can take exponential time. The pattern is
/// rewritten where the two dialects differ: <c>\d \w \s</c> and the <c>[[:alpha:]]</c> classes are ASCII as in Go,
/// <c>$</c> outside multi-line mode is the end of the text, <c>(?P&lt;name&gt;…)</c> names a group, <c>\Q…\E</c>,
/// <c>\x{…}</c>, <c>\pL</c> and octal escapes are spelled out, a <c>[</c> inside a class is a plain character (not a
/// .NET class subtraction), and every group is numbered left to right as Go numbers them (names are kept aside).
/// Go's <c>(?U)</c> flag is refused; <c>\b</c> keeps .NET's Unicode notion of a word character.
/// </summary>
internal sealed class GoRegex
{
    /// <summary>
    /// The longest text <see cref="ReplaceAll"/> builds (16 Mi characters): a template repeated at every match (an
    /// empty pattern matches between all characters) could otherwise multiply a row's size by itself.
    /// </summary>
    internal const int MaxReplacedLength = 1 << 24;

    private const int CacheLimit = 256;

    private static readonly ConcurrentDictionary<(string Pattern, TimeSpan Timeout), GoRegex> Cache = new();

    private readonly Dictionary<string, int> names;

    private GoRegex(Regex regex, Dictionary<string, int> names, int groups)
    {
        Regex = regex;
        this.names = names;
        GroupCount = groups;
    }

    /// <summary>The compiled .NET expression (all groups unnamed, numbered as Go numbers them).</summary>
    public Regex Regex { get; }

    /// <summary>How many groups the pattern has, the whole match (group 0) included.</summary>
    public int GroupCount { get; }

    /// <summary>The number of the group called <paramref name="name"/>, or -1.</summary>
    public int GroupNumber(string name) => names.TryGetValue(name, out var number) ? number : -1;

    /// <summary>Compiles a Go pattern; a pattern Go or the engine refuses throws <see cref="FormatException"/>.</summary>
    /// <param name="pattern">The pattern, in Go's syntax.</param>
    /// <param name="timeout">How long one match may take (<see cref="EdgeStreamLimits.MatchTimeout"/>); the default limit when null.</param>
    public static GoRegex Compile(string pattern, TimeSpan? timeout = null)
    {
        var translated = Translator.Translate(pattern);
        try
        {
            var regex = new Regex(translated.Pattern, RegexOptions.CultureInvariant | RegexOptions.NonBacktracking, timeout ?? Runtime.InputLimits.Default.MatchTimeout);
            return new GoRegex(regex, translated.Names, translated.Groups + 1);
        }
        catch (ArgumentException e)
        {
            throw new FormatException(e.Message, e);
        }
        catch (NotSupportedException e)
        {
            throw new FormatException(e.Message, e);
        }
    }

    /// <summary>
    /// The compiled pattern for a pattern that is not a constant: compiled once and kept in a bounded cache (emptied
    /// when full), a bad pattern being a row error of function <paramref name="function"/>.
    /// </summary>
    public static GoRegex Get(string function, string pattern, TimeSpan? timeout = null)
    {
        var key = (pattern, timeout ?? Runtime.InputLimits.Default.MatchTimeout);
        if (Cache.TryGetValue(key, out var cached))
        {
            return cached;
        }

        GoRegex compiled;
        try
        {
            compiled = Compile(pattern, key.Item2);
        }
        catch (FormatException e)
        {
            throw FunctionArgs.Error(function, ParseError(pattern, e));
        }

        if (Cache.Count >= CacheLimit)
        {
            Cache.Clear();
        }

        Cache[key] = compiled;
        return compiled;
    }

    /// <summary>The text of a refusal, as Go's <c>error parsing regexp</c> reads.</summary>
    public static string ParseError(string pattern, FormatException e) => $"error parsing regexp `{pattern}`: {e.Message}";

    /// <summary>Whether the pattern matches somewhere in <paramref name="input"/>.</summary>
    /// <exception cref="Compilation.EvaluationException">The match took longer than its timeout.</exception>
    public bool IsMatch(string input)
    {
        try
        {
            return Regex.IsMatch(input);
        }
        catch (RegexMatchTimeoutException e)
        {
            throw TookTooLong(e, input.Length);
        }
    }

    /// <summary>Go's <c>FindString</c>: the first match, or the empty string.</summary>
    /// <exception cref="Compilation.EvaluationException">The match took longer than its timeout.</exception>
    public string FindString(string input)
    {
        try
        {
            var match = Regex.Match(input);
            return match.Success ? match.Value : string.Empty;
        }
        catch (RegexMatchTimeoutException e)
        {
            throw TookTooLong(e, input.Length);
        }
    }

    private static Compilation.EvaluationException TookTooLong(RegexMatchTimeoutException e, int length) =>
        new($"a regular expression match on {length} characters took longer than {e.MatchTimeout.TotalMilliseconds} ms (EdgeStreamLimits.MatchTimeout)");

    /// <summary>
    /// Go's <c>ReplaceAllString</c>: every non-overlapping match replaced by <paramref name="replacement"/> expanded,
    /// an empty match right after a previous match being skipped (Go's rule; .NET would replace it too).
    /// </summary>
    /// <exception cref="Compilation.EvaluationException">The match took longer than its timeout, or the result is too long.</exception>
    public string ReplaceAll(string input, GoReplacement replacement)
    {
        try
        {
            return Replace(input, replacement);
        }
        catch (RegexMatchTimeoutException e)
        {
            throw TookTooLong(e, input.Length);
        }
    }

    private string Replace(string input, GoReplacement replacement)
    {
        var match = Regex.Match(input);
        if (!match.Success)
        {
            return input;
        }

        var builder = new StringBuilder(input.Length + 16);
        var copied = 0;
        var lastEnd = 0;
        for (; match.Success; match = match.NextMatch())
        {
            var end = match.Index + match.Length;
            if (end > lastEnd || match.Index == 0)
            {
                builder.Append(input, copied, match.Index - copied);
                replacement.AppendTo(builder, match, this);
                copied = end;
                if (builder.Length > MaxReplacedLength - (input.Length - copied))
                {
                    throw FunctionArgs.Error("regexp_replace", $"the result would be longer than {MaxReplacedLength} characters");
                }
            }

            lastEnd = end;
        }

        builder.Append(input, copied, input.Length - copied);
        return builder.ToString();
    }

    /// <summary>Go's RE2 pattern rewritten for .NET.</summary>
    private static class Translator
    {
        private static readonly (int Low, int High)[] Digit = [('0', '9')];
        private static readonly (int Low, int High)[] Word = [('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')];
        private static readonly (int Low, int High)[] Space = [('\t', '\n'), ('\f', '\r'), (' ', ' ')];

        private static readonly Dictionary<string, (int Low, int High)[]> Posix = new(StringComparer.Ordinal)
        {
            ["alnum"] = [('0', '9'), ('A', 'Z'), ('a', 'z')],
            ["alpha"] = [('A', 'Z'), ('a', 'z')],
            ["ascii"] = [(0, 0x7F)],
            ["blank"] = [('\t', '\t'), (' ', ' ')],
            ["cntrl"] = [(0, 0x1F), (0x7F, 0x7F)],
            ["digit"] = [('0', '9')],
            ["graph"] = [('!', '~')],
            ["lower"] = [('a', 'z')],
            ["print"] = [(' ', '~')],
            ["punct"] = [('!', '/'), (':', '@'), ('[', '`'), ('{', '~')],
            ["space"] = [('\t', '\r'), (' ', ' ')],
            ["upper"] = [('A', 'Z')],
            ["word"] = [('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')],
            ["xdigit"] = [('0', '9'), ('A', 'F'), ('a', 'f')],
        };

        /// <summary>The rewritten pattern, the group names with their numbers, and the number of groups.</summary>
        public static (string Pattern, Dictionary<string, int> Names, int Groups) Translate(string pattern)
        {
            var output = new StringBuilder(pattern.Length + 16);
            var names = new Dictionary<string, int>(StringComparer.Ordinal);
            var groups = 0;
            var multiline = false;
            var scopes = new Stack<bool>();
            var i = 0;
            while (i < pattern.Length)
            {
                var c = pattern[i];
                switch (c)
                {
                    case '\\':
                        i = Escape(pattern, i, output, inClass: false);
                        break;
                    case '[':
                        i = Class(pattern, i, output);
                        break;
                    case '(':
                        i = Group(pattern, i, output, names, scopes, ref groups, ref multiline);
                        break;
                    case ')':
                        if (scopes.Count == 0)
                        {
                            throw new FormatException("unexpected )");
                        }

                        multiline = scopes.Pop();
                        output.Append(')');
                        i++;
                        break;
                    case '$':
                        output.Append(multiline ? "$" : @"\z");
                        i++;
                        break;
                    default:
                        if (char.IsHighSurrogate(c) && i + 1 < pattern.Length && char.IsLowSurrogate(pattern[i + 1]))
                        {
                            // One character in Go: keep the pair together under a following repetition.
                            output.Append("(?:").Append(c).Append(pattern[i + 1]).Append(')');
                            i += 2;
                        }
                        else
                        {
                            output.Append(c);
                            i++;
                        }

                        break;
                }
            }

            if (scopes.Count > 0)
            {
                throw new FormatException("missing closing )");
            }

            return (output.ToString(), names, groups);
        }

        /// <summary>
        /// An opening parenthesis: a plain, named or non-capturing group (its flags saved for its end), or a flag
        /// setting that lasts to the end of the enclosing group.
        /// </summary>
        private static int Group(string pattern, int i, StringBuilder output, Dictionary<string, int> names, Stack<bool> scopes, ref int groups, ref bool multiline)
        {
            if (i + 1 >= pattern.Length || pattern[i + 1] != '?')
            {
                scopes.Push(multiline);
                groups++;
                output.Append('(');
                return i + 1;
            }

            var rest = pattern.AsSpan(i + 2);
            if (rest.StartsWith("P<") || (rest.StartsWith("<") && !rest.StartsWith("<=") && !rest.StartsWith("<!")))
            {
                var start = i + 2 + (rest[0] == 'P' ? 2 : 1);
                var close = pattern.IndexOf('>', start);
                if (close < 0)
                {
                    throw new FormatException("invalid named capture");
                }

                var name = pattern[start..close];
                if (name.Length == 0 || !IsWord(name))
                {
                    throw new FormatException($"invalid named capture: {name}");
                }

                groups++;
                if (!names.TryAdd(name, groups))
                {
                    throw new FormatException($"duplicate capture group name: {name}");
                }

                scopes.Push(multiline);
                output.Append('(');
                return close + 1;
            }

            // Flags: (?flags) or (?flags:re), flags among i m s U with an optional '-'.
            var j = i + 2;
            var negate = false;
            var sawFlag = false;
            var m = multiline;
            while (j < pattern.Length && pattern[j] is not (')' or ':'))
            {
                switch (pattern[j])
                {
                    case 'i' or 's':
                        sawFlag = true;
                        break;
                    case 'm':
                        m = !negate;
                        sawFlag = true;
                        break;
                    case 'U':
                        throw new FormatException("the U (ungreedy) flag is not supported");
                    case '-' when !negate:
                        negate = true;
                        break;
                    default:
                        throw new FormatException($"invalid or unsupported Perl syntax: `{pattern[i..Math.Min(pattern.Length, j + 1)]}`");
                }

                j++;
            }

            if (j >= pattern.Length || (negate && pattern[j - 1] == '-') || (!sawFlag && pattern[j] == ')'))
            {
                throw new FormatException($"invalid or unsupported Perl syntax: `{pattern[i..Math.Min(pattern.Length, j + 1)]}`");
            }

            if (pattern[j] == ':')
            {
                scopes.Push(multiline);
            }

            output.Append(pattern, i, j - i + 1);
            multiline = m;
            return j + 1;
        }

        /// <summary>A bracketed class, its Go-only parts rewritten (POSIX names, ASCII shorthands, a plain <c>[</c>).</summary>
        private static int Class(string pattern, int i, StringBuilder output)
        {
            output.Append('[');
            i++;
            if (i < pattern.Length && pattern[i] == '^')
            {
                output.Append('^');
                i++;
            }

            if (i < pattern.Length && pattern[i] == ']')
            {
                output.Append(@"\]");
                i++;
            }

            while (i < pattern.Length && pattern[i] != ']')
            {
                var c = pattern[i];
                if (c == '[' && i + 1 < pattern.Length && pattern[i + 1] == ':')
                {
                    var close = pattern.IndexOf(":]", i + 2, StringComparison.Ordinal);
                    if (close > 0)
                    {
                        var name = pattern[(i + 2)..close];
                        var negated = name.StartsWith('^');
                        if (!Posix.TryGetValue(negated ? name[1..] : name, out var ranges))
                        {
                            throw new FormatException($"invalid character class range: `{pattern[i..(close + 2)]}`");
                        }

                        AppendRanges(output, ranges, negated);
                        i = close + 2;
                        continue;
                    }
                }

                switch (c)
                {
                    case '\\':
                        i = Escape(pattern, i, output, inClass: true);
                        break;
                    case '[':
                        output.Append(@"\[");
                        i++;
                        break;
                    default:
                        output.Append(c);
                        i++;
                        break;
                }
            }

            if (i >= pattern.Length)
            {
                throw new FormatException("missing closing ]");
            }

            output.Append(']');
            return i + 1;
        }

        /// <summary>A backslash escape, in or out of a class.</summary>
        private static int Escape(string pattern, int i, StringBuilder output, bool inClass)
        {
            if (i + 1 >= pattern.Length)
            {
                throw new FormatException("trailing backslash at end of expression");
            }

            var c = pattern[i + 1];
            switch (c)
            {
                case 'd' or 'D' or 'w' or 'W' or 's' or 'S':
                    var ranges = char.ToLowerInvariant(c) switch { 'd' => Digit, 'w' => Word, _ => Space };
                    if (!inClass)
                    {
                        output.Append('[');
                    }

                    AppendRanges(output, ranges, char.IsUpper(c));
                    if (!inClass)
                    {
                        output.Append(']');
                    }

                    return i + 2;
                case 'p' or 'P':
                    return Property(pattern, i, output);
                case 'Q':
                    var end = pattern.IndexOf(@"\E", i + 2, StringComparison.Ordinal);
                    var literal = end < 0 ? pattern[(i + 2)..] : pattern[(i + 2)..end];
                    foreach (var ch in literal)
                    {
                        AppendLiteral(output, ch);
                    }

                    return end < 0 ? pattern.Length : end + 2;
                case 'x':
                    return Hex(pattern, i, output, inClass);
                case >= '0' and <= '7':
                    return Octal(pattern, i, output);
                case 'A' or 'z' or 'b' or 'B' when !inClass:
                    output.Append('\\').Append(c);
                    return i + 2;
                case 'a' or 'f' or 'n' or 'r' or 't' or 'v':
                    output.Append('\\').Append(c);
                    return i + 2;
                default:
                    if (c < 0x80 && !char.IsAsciiLetterOrDigit(c))
                    {
                        AppendLiteral(output, c);
                        return i + 2;
                    }

                    throw new FormatException($"invalid escape sequence: `\\{c}`");
            }
        }

        /// <summary><c>\pL</c>, <c>\p{Greek}</c>, <c>\p{^L}</c>, <c>\PL</c>: a Unicode class in .NET's spelling.</summary>
        private static int Property(string pattern, int i, StringBuilder output)
        {
            var negated = pattern[i + 1] == 'P';
            if (i + 2 >= pattern.Length)
            {
                throw new FormatException("invalid character class range");
            }

            string name;
            int next;
            if (pattern[i + 2] == '{')
            {
                var close = pattern.IndexOf('}', i + 3);
                if (close < 0)
                {
                    throw new FormatException("invalid character class range");
                }

                name = pattern[(i + 3)..close];
                next = close + 1;
                if (name.StartsWith('^'))
                {
                    negated = !negated;
                    name = name[1..];
                }
            }
            else
            {
                name = pattern[i + 2].ToString();
                next = i + 3;
            }

            if (name.Length == 0 || !IsWord(name))
            {
                throw new FormatException($"invalid character class range: `{pattern[i..next]}`");
            }

            output.Append(negated ? @"\P{" : @"\p{").Append(name).Append('}');
            return next;
        }

        /// <summary><c>\xHH</c> or <c>\x{H…}</c>.</summary>
        private static int Hex(string pattern, int i, StringBuilder output, bool inClass)
        {
            int value;
            int next;
            if (i + 2 < pattern.Length && pattern[i + 2] == '{')
            {
                var close = pattern.IndexOf('}', i + 3);
                if (close < 0 || !int.TryParse(pattern.AsSpan(i + 3, close - i - 3), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value) || value > 0x10FFFF)
                {
                    throw new FormatException("invalid escape sequence: `\\x{`");
                }

                next = close + 1;
            }
            else
            {
                if (i + 4 > pattern.Length || !int.TryParse(pattern.AsSpan(i + 2, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value))
                {
                    throw new FormatException("invalid escape sequence: `\\x`");
                }

                next = i + 4;
            }

            if (value > 0xFFFF)
            {
                if (inClass)
                {
                    throw new FormatException("characters beyond U+FFFF are not supported in a character class");
                }

                var pair = char.ConvertFromUtf32(value);
                output.Append(CultureInfo.InvariantCulture, $@"(?:\u{(int)pair[0]:X4}\u{(int)pair[1]:X4})");
            }
            else
            {
                output.Append(CultureInfo.InvariantCulture, $@"\u{value:X4}");
            }

            return next;
        }

        /// <summary>Go's octal escape: <c>\0</c> with up to two more digits, or two or three digits from <c>\1</c>.</summary>
        private static int Octal(string pattern, int i, StringBuilder output)
        {
            var j = i + 1;
            if (pattern[j] != '0' && (j + 1 >= pattern.Length || pattern[j + 1] is < '0' or > '7'))
            {
                throw new FormatException($"invalid escape sequence: `\\{pattern[j]}`");
            }

            var value = 0;
            var digits = 0;
            while (j < pattern.Length && digits < 3 && pattern[j] is >= '0' and <= '7')
            {
                value = (value * 8) + (pattern[j] - '0');
                j++;
                digits++;
            }

            output.Append(CultureInfo.InvariantCulture, $@"\u{value:X4}");
            return j;
        }

        /// <summary>A set of ASCII ranges, or its complement, as the inside of a .NET class.</summary>
        private static void AppendRanges(StringBuilder output, (int Low, int High)[] ranges, bool negated)
        {
            if (!negated)
            {
                foreach (var (low, high) in ranges)
                {
                    AppendRange(output, low, high);
                }

                return;
            }

            var next = 0;
            foreach (var (low, high) in ranges)
            {
                if (low > next)
                {
                    AppendRange(output, next, low - 1);
                }

                next = high + 1;
            }

            AppendRange(output, next, 0xFFFF);
        }

        private static void AppendRange(StringBuilder output, int low, int high)
        {
            output.Append(CultureInfo.InvariantCulture, $@"\u{low:X4}");
            if (high != low)
            {
                output.Append(CultureInfo.InvariantCulture, $@"-\u{high:X4}");
            }
        }

        private static void AppendLiteral(StringBuilder output, char c)
        {
            if (char.IsAsciiLetterOrDigit(c) || c == '_' || c > 0x7F)
            {
                output.Append(c);
            }
            else
            {
                output.Append(CultureInfo.InvariantCulture, $@"\u{(int)c:X4}");
            }
        }

        private static bool IsWord(string name)
        {
            foreach (var c in name)
            {
                if (!char.IsAsciiLetterOrDigit(c) && c != '_')
                {
                    return false;
                }
            }

            return true;
        }
    }
}

/// <summary>
/// A replacement in Go's template syntax (<c>Regexp.Expand</c>): <c>$1</c>, <c>${1}</c>, <c>$name</c>,
/// <c>${name}</c>, <c>$$</c> for a dollar. A name is the longest run of letters, digits and underscores (so
/// <c>$1x</c> is the group called <c>1x</c>); a group that does not exist gives the empty string; a <c>$</c> not
/// followed by a valid reference is kept as written.
/// </summary>
internal sealed class GoReplacement
{
    private readonly Part[] parts;

    private GoReplacement(Part[] parts) => this.parts = parts;

    /// <summary>Parses a replacement template.</summary>
    public static GoReplacement Parse(string template)
    {
        if (!template.Contains('$', StringComparison.Ordinal))
        {
            return new GoReplacement([new Part(template, -1, null)]);
        }

        var parts = new List<Part>();
        var literal = new StringBuilder();
        var i = 0;
        while (i < template.Length)
        {
            var c = template[i];
            if (c != '$' || i + 1 >= template.Length)
            {
                literal.Append(c);
                i++;
                continue;
            }

            if (template[i + 1] == '$')
            {
                literal.Append('$');
                i += 2;
                continue;
            }

            string? name = null;
            var next = i + 1;
            if (template[i + 1] == '{')
            {
                var close = template.IndexOf('}', i + 2);
                if (close > i + 2 && IsName(template.AsSpan(i + 2, close - i - 2)))
                {
                    name = template[(i + 2)..close];
                    next = close + 1;
                }
            }
            else
            {
                var j = i + 1;
                while (j < template.Length && (char.IsLetterOrDigit(template[j]) || template[j] == '_'))
                {
                    j++;
                }

                if (j > i + 1)
                {
                    name = template[(i + 1)..j];
                    next = j;
                }
            }

            if (name is null)
            {
                literal.Append('$');
                i++;
                continue;
            }

            if (literal.Length > 0)
            {
                parts.Add(new Part(literal.ToString(), -1, null));
                literal.Clear();
            }

            parts.Add(new Part(null, Number(name), name));
            i = next;
        }

        if (literal.Length > 0)
        {
            parts.Add(new Part(literal.ToString(), -1, null));
        }

        return new GoReplacement([.. parts]);
    }

    /// <summary>Appends this template expanded for <paramref name="match"/>.</summary>
    public void AppendTo(StringBuilder builder, Match match, GoRegex regex)
    {
        foreach (var part in parts)
        {
            if (part.Literal is not null)
            {
                builder.Append(part.Literal);
                continue;
            }

            var number = part.Number >= 0 ? part.Number : regex.GroupNumber(part.Name!);
            if (number >= 0 && number < regex.GroupCount)
            {
                var group = match.Groups[number];
                if (group.Success)
                {
                    builder.Append(group.ValueSpan);
                }
            }
        }
    }

    /// <summary>Go's reading of a reference: all ASCII digits without a leading zero is a number, else a name.</summary>
    private static int Number(string name)
    {
        if (name.Length > 1 && name[0] == '0')
        {
            return -1;
        }

        var number = 0;
        foreach (var c in name)
        {
            if (c is < '0' or > '9' || number >= 100_000_000)
            {
                return -1;
            }

            number = (number * 10) + (c - '0');
        }

        return number;
    }

    private static bool IsName(ReadOnlySpan<char> name)
    {
        foreach (var c in name)
        {
            if (!char.IsLetterOrDigit(c) && c != '_')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A literal piece, or a group reference by number (or -1) and name.</summary>
    private readonly record struct Part(string? Literal, int Number, string? Name);
}
