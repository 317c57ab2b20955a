using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using EdgeStream.Abstractions;
using EdgeStream.Compilation;

namespace EdgeStream.Functions.Builtins;

/// <summary>A JSON path that does not parse: the reason and its 1-based position in the path.</summary>
internal sealed class JsonPathException(string reason, int position)
    : Exception($"invalid JSON path at position {position}: {reason}")
{
    public int Position { get; } = position;
}

/// <summary>
/// A compiled JSON path, with the semantics of the library eKuiper evaluates paths with (PaesslerAG/jsonpath over
/// gval): <c>$</c>, <c>.key</c>, <c>['key']</c> / <c>["key"]</c> / <c>[key]</c>, <c>[n]</c> (negative counts from
/// the end, out of range is null), <c>*</c> / <c>[*]</c>, <c>[a,b]</c>, slices <c>[start:end:step]</c>, recursive
/// descent <c>..</c>, and filters <c>[?(expr)]</c> / <c>[? expr]</c> with <c>@</c> and <c>$</c> paths, literals,
/// <c>== != &lt; &lt;= &gt; &gt;=</c>, <c>=~ !~</c> (regex), <c>&amp;&amp; || !</c>, <c>+ - * / %</c> and parentheses.
/// </summary>
/// <remarks>
/// A path with no wildcard, list, slice, filter or descent is <em>plain</em>: it gives one value, or fails (a missing
/// key, a key into a scalar). Any other path gives the array of all its matches, skipping branches that fail; objects
/// are visited in their key order.
/// </remarks>
internal sealed class JsonPath
{
    /// <summary>
    /// How many values one evaluation may visit (descents, wildcards, filters, the paths inside filters): a path read
    /// from a row, such as nested <c>$..</c> filters, could otherwise take time and memory polynomial in the
    /// document with an exponent the path chooses. Past it the evaluation fails.
    /// </summary>
    internal const int MaxVisits = 1 << 22;

    private static readonly ConcurrentDictionary<string, JsonPath> Cache = new(StringComparer.Ordinal);

    /// <summary>The visits the evaluation running on this thread has left (set by the public <see cref="TryEvaluate(Value, out Value, out string?)"/>).</summary>
    [ThreadStatic]
    private static int visitsLeft;

    private readonly Step[] steps;
    private readonly int firstAmbiguous;

    private JsonPath(string text, Step[] steps)
    {
        Text = text;
        this.steps = steps;
        firstAmbiguous = Array.FindIndex(steps, s => s.IsAmbiguous);
    }

    /// <summary>The path as written.</summary>
    public string Text { get; }

    /// <summary>Whether the path gives one value (no wildcard, list, slice, filter or descent).</summary>
    public bool IsPlain => firstAmbiguous < 0;

    /// <summary>Parses <paramref name="text"/>; throws <see cref="JsonPathException"/> with the position of a mistake.</summary>
    public static JsonPath Parse(string text)
    {
        var parser = new Parser(text);
        var path = parser.ParseRoot();
        return path;
    }

    /// <summary>A path parsed before (a small shared cache for paths that are not constants), or parsed now.</summary>
    public static JsonPath Cached(string text)
    {
        if (Cache.TryGetValue(text, out var path))
        {
            return path;
        }

        path = Parse(text);
        if (Cache.Count >= 512)
        {
            Cache.Clear();
        }

        Cache[text] = path;
        return path;
    }

    /// <summary>
    /// Evaluates the path on <paramref name="root"/>: a plain path's value (false with the reason when it fails), or
    /// the array of an ambiguous path's matches.
    /// </summary>
    public bool TryEvaluate(Value root, out Value result, out string? error)
    {
        visitsLeft = MaxVisits;
        try
        {
            return TryEvaluate(root, root, out result, out error);
        }
        catch (VisitLimitException)
        {
            result = Value.Null;
            error = $"the path visits more than {MaxVisits} values";
            return false;
        }
    }

    /// <summary>Counts one visit against the running evaluation's bound.</summary>
    private static void CountVisit()
    {
        if (--visitsLeft < 0)
        {
            throw new VisitLimitException();
        }
    }

    private bool TryEvaluate(Value root, Value start, out Value result, out string? error)
    {
        if (IsPlain)
        {
            var current = start;
            foreach (var step in steps)
            {
                if (!step.TrySelect(root, current, out current, out error))
                {
                    result = Value.Null;
                    return false;
                }
            }

            result = current;
            error = null;
            return true;
        }

        var matches = new List<Value>();
        Visit(root, start, 0, matches);
        result = Value.From(matches.ToArray());
        error = null;
        return true;
    }

    /// <summary>Follows the steps from <paramref name="index"/> on, adding what they reach to <paramref name="matches"/>.</summary>
    private void Visit(Value root, Value current, int index, List<Value> matches)
    {
        CountVisit();
        while (index < steps.Length && !steps[index].IsAmbiguous)
        {
            if (!steps[index].TrySelect(root, current, out current, out _))
            {
                return;
            }

            index++;
        }

        if (index == steps.Length)
        {
            matches.Add(current);
            return;
        }

        steps[index].Expand(this, root, current, index + 1, matches);
    }

    /// <summary>The children of an array (its items) or an object (its values, in key order); none for anything else.</summary>
    private static ReadOnlySpan<Value> Children(Value value, out ValueObject? obj)
    {
        obj = null;
        if (value.Kind == ValueKind.Array)
        {
            return value.AsArray;
        }

        if (value.Kind == ValueKind.Object)
        {
            obj = value.AsObject;
        }

        return [];
    }

    /// <summary>One step of a path.</summary>
    private abstract class Step
    {
        public virtual bool IsAmbiguous => false;

        /// <summary>A plain step: the value it selects from <paramref name="current"/>, or false with the reason.</summary>
        public virtual bool TrySelect(Value root, Value current, out Value result, out string? error) =>
            throw new InvalidOperationException("not a plain step");

        /// <summary>An ambiguous step: visits each value it selects with the rest of the path.</summary>
        public virtual void Expand(JsonPath path, Value root, Value current, int next, List<Value> matches) =>
            throw new InvalidOperationException("not an ambiguous step");

        /// <summary>Selects <paramref name="key"/> from <paramref name="current"/> as the library's direct selector does.</summary>
        protected static bool Select(Key key, Value current, out Value result, out string? error)
        {
            error = null;
            switch (current.Kind)
            {
                case ValueKind.Array:
                    if (key.Index is not { } index)
                    {
                        result = Value.Null;
                        error = $"could not select value, invalid key: {key.Name} is not an index";
                        return false;
                    }

                    var items = current.AsArray;
                    var at = index < 0 ? items.Length + index : index;
                    result = at >= 0 && at < items.Length ? items[at] : Value.Null;
                    return true;
                case ValueKind.Object:
                    if (current.AsObject.TryGet(key.Name, out result))
                    {
                        return true;
                    }

                    error = $"unknown key {key.Name}";
                    return false;
                default:
                    result = Value.Null;
                    error = $"unsupported value type {current.TypeName} for select, expected map[string]interface{{}}, []interface{{}} or Array";
                    return false;
            }
        }
    }

    /// <summary>A key (<c>.name</c>, <c>['name']</c>) or an index (<c>[2]</c>, which also reads key "2" of an object).</summary>
    private readonly record struct Key(string Name, long? Index);

    /// <summary><c>.name</c>, <c>['name']</c>, <c>[n]</c>.</summary>
    private sealed class DirectStep(Key key) : Step
    {
        public Key Key { get; } = key;

        public override bool TrySelect(Value root, Value current, out Value result, out string? error) => Select(Key, current, out result, out error);
    }

    /// <summary><c>*</c>, <c>[*]</c>: every item of an array, every value of an object.</summary>
    private sealed class WildcardStep : Step
    {
        public override bool IsAmbiguous => true;

        public override void Expand(JsonPath path, Value root, Value current, int next, List<Value> matches)
        {
            var children = Children(current, out var obj);
            foreach (var child in children)
            {
                path.Visit(root, child, next, matches);
            }

            if (obj is not null)
            {
                foreach (var (_, child) in obj.Fields)
                {
                    path.Visit(root, child, next, matches);
                }
            }
        }
    }

    /// <summary><c>[a, b, …]</c>: each key that can be selected, in order.</summary>
    private sealed class ListStep(Key[] keys) : Step
    {
        public override bool IsAmbiguous => true;

        public override void Expand(JsonPath path, Value root, Value current, int next, List<Value> matches)
        {
            foreach (var key in keys)
            {
                if (Select(key, current, out var child, out _))
                {
                    path.Visit(root, child, next, matches);
                }
            }
        }
    }

    /// <summary><c>[start:end:step]</c> over an array: negative bounds count from the end, a negative step walks back.</summary>
    private sealed class SliceStep(long start, long end, long step) : Step
    {
        public override bool IsAmbiguous => true;

        public override void Expand(JsonPath path, Value root, Value current, int next, List<Value> matches)
        {
            if (current.Kind != ValueKind.Array)
            {
                return;
            }

            var items = current.AsArray;
            var from = Clamp(start, items.Length);
            var to = Clamp(end, items.Length);
            if (from > to)
            {
                return;
            }

            var by = step == 0 ? 1 : step;
            if (by > 0)
            {
                // The next index is computed without overflow: a step near long.MaxValue ends the walk.
                for (var i = from; i < to; i = by >= to - i ? to : i + by)
                {
                    path.Visit(root, items[i], next, matches);
                }
            }
            else
            {
                for (var i = to - 1; i >= from; i = -by > i - from ? from - 1 : i + by)
                {
                    path.Visit(root, items[i], next, matches);
                }
            }
        }

        private static long Clamp(long bound, int length) => bound < 0 ? Math.Max(0, length + bound) : Math.Min(bound, length);
    }

    /// <summary><c>[?(expr)]</c>: the items (or object values) for which the condition is true.</summary>
    private sealed class FilterStep(Expr condition) : Step
    {
        public override bool IsAmbiguous => true;

        public override void Expand(JsonPath path, Value root, Value current, int next, List<Value> matches)
        {
            var children = Children(current, out var obj);
            foreach (var child in children)
            {
                Test(path, root, child, next, matches);
            }

            if (obj is not null)
            {
                foreach (var (_, child) in obj.Fields)
                {
                    Test(path, root, child, next, matches);
                }
            }
        }

        private void Test(JsonPath path, Value root, Value child, int next, List<Value> matches)
        {
            CountVisit();
            if (condition.TryEvaluate(root, child, out var verdict) && verdict.Kind == ValueKind.Boolean && verdict.AsBoolean)
            {
                path.Visit(root, child, next, matches);
            }
        }
    }

    /// <summary><c>..</c>: the value itself and every value below it, depth first.</summary>
    private sealed class DescentStep : Step
    {
        public override bool IsAmbiguous => true;

        public override void Expand(JsonPath path, Value root, Value current, int next, List<Value> matches)
        {
            CountVisit();
            path.Visit(root, current, next, matches);
            var children = Children(current, out var obj);
            foreach (var child in children)
            {
                Expand(path, root, child, next, matches);
            }

            if (obj is not null)
            {
                foreach (var (_, child) in obj.Fields)
                {
                    Expand(path, root, child, next, matches);
                }
            }
        }
    }

    /// <summary>A filter expression. Evaluation fails (the item is skipped) on a missing key or an operand of the wrong type.</summary>
    private abstract class Expr
    {
        public abstract bool TryEvaluate(Value root, Value current, out Value result);
    }

    private sealed class LiteralExpr(Value value) : Expr
    {
        public Value Value { get; } = value;

        public override bool TryEvaluate(Value root, Value current, out Value result)
        {
            result = Value;
            return true;
        }
    }

    /// <summary><c>@…</c> (from the item tested) or <c>$…</c> (from the document).</summary>
    private sealed class PathExpr(JsonPath path, bool fromRoot) : Expr
    {
        public override bool TryEvaluate(Value root, Value current, out Value result) =>
            path.TryEvaluate(root, fromRoot ? root : current, out result, out _);
    }

    private sealed class NotExpr(Expr operand) : Expr
    {
        public override bool TryEvaluate(Value root, Value current, out Value result)
        {
            if (operand.TryEvaluate(root, current, out var v) && v.Kind == ValueKind.Boolean)
            {
                result = Value.From(!v.AsBoolean);
                return true;
            }

            result = Value.Null;
            return false;
        }
    }

    private sealed class NegateExpr(Expr operand) : Expr
    {
        public override bool TryEvaluate(Value root, Value current, out Value result)
        {
            if (operand.TryEvaluate(root, current, out var v) && v.IsNumber)
            {
                result = v.Kind == ValueKind.Integer && v.AsInteger != long.MinValue ? Value.From(-v.AsInteger) : Value.From(-v.AsDouble);
                return true;
            }

            result = Value.Null;
            return false;
        }
    }

    /// <summary><c>&amp;&amp;</c> and <c>||</c>: both sides booleans, the right one evaluated only when needed.</summary>
    private sealed class LogicExpr(Expr left, Expr right, bool and) : Expr
    {
        public override bool TryEvaluate(Value root, Value current, out Value result)
        {
            result = Value.Null;
            if (!left.TryEvaluate(root, current, out var l) || l.Kind != ValueKind.Boolean)
            {
                return false;
            }

            if (l.AsBoolean != and)
            {
                result = l;
                return true;
            }

            if (!right.TryEvaluate(root, current, out var r) || r.Kind != ValueKind.Boolean)
            {
                return false;
            }

            result = r;
            return true;
        }
    }

    /// <summary>
    /// <c>=~</c> and <c>!~</c>: a string matched against a regular expression in Go's syntax (gval's operator), on the
    /// linear-time engine of <see cref="GoRegex"/> (a path may come from a row: no pattern can take exponential time);
    /// compiled once when it is a literal, else through <see cref="GoRegex"/>'s bounded cache.
    /// </summary>
    private sealed class MatchExpr(Expr subject, Expr pattern, bool negate) : Expr
    {
        private readonly GoRegex? constant = pattern is LiteralExpr { Value.Kind: ValueKind.String } literal
            ? GoRegex.Compile(literal.Value.AsString)
            : null;

        public override bool TryEvaluate(Value root, Value current, out Value result)
        {
            result = Value.Null;
            if (!subject.TryEvaluate(root, current, out var s) || s.Kind != ValueKind.String)
            {
                return false;
            }

            GoRegex regex;
            if (constant is not null)
            {
                regex = constant;
            }
            else if (pattern.TryEvaluate(root, current, out var p) && p.Kind == ValueKind.String)
            {
                try
                {
                    regex = GoRegex.Get("json_path", p.AsString);
                }
                catch (EvaluationException)
                {
                    return false;
                }
            }
            else
            {
                return false;
            }

            result = Value.From(regex.IsMatch(s.AsString) != negate);
            return true;
        }
    }

    private enum BinaryOp
    {
        Equal,
        NotEqual,
        Less,
        LessOrEqual,
        Greater,
        GreaterOrEqual,
        Add,
        Subtract,
        Multiply,
        Divide,
        Modulo,
    }

    /// <summary>Comparisons (numbers by value, strings by ordinal) and arithmetic (numbers, as floats; <c>+</c> also joins strings).</summary>
    private sealed class BinaryExpr(Expr left, Expr right, BinaryOp op) : Expr
    {
        public override bool TryEvaluate(Value root, Value current, out Value result)
        {
            result = Value.Null;
            if (!left.TryEvaluate(root, current, out var l) || !right.TryEvaluate(root, current, out var r))
            {
                return false;
            }

            switch (op)
            {
                case BinaryOp.Equal or BinaryOp.NotEqual:
                    var same = l.IsNumber && r.IsNumber ? Compare(l, r) == 0 : l.Equals(r);
                    result = Value.From(same == (op == BinaryOp.Equal));
                    return true;
                case BinaryOp.Less or BinaryOp.LessOrEqual or BinaryOp.Greater or BinaryOp.GreaterOrEqual:
                    int order;
                    if (l.IsNumber && r.IsNumber)
                    {
                        if (double.IsNaN(l.AsDouble) || double.IsNaN(r.AsDouble))
                        {
                            result = Value.False;
                            return true;
                        }

                        order = Compare(l, r);
                    }
                    else if (l.Kind == ValueKind.String && r.Kind == ValueKind.String)
                    {
                        order = string.CompareOrdinal(l.AsString, r.AsString);
                    }
                    else
                    {
                        return false;
                    }

                    result = Value.From(op switch
                    {
                        BinaryOp.Less => order < 0,
                        BinaryOp.LessOrEqual => order <= 0,
                        BinaryOp.Greater => order > 0,
                        _ => order >= 0,
                    });
                    return true;
                case BinaryOp.Add when l.Kind == ValueKind.String && r.Kind == ValueKind.String:
                    result = Value.From(l.AsString + r.AsString);
                    return true;
                default:
                    if (!l.IsNumber || !r.IsNumber)
                    {
                        return false;
                    }

                    var (a, b) = (l.AsDouble, r.AsDouble);
                    result = Value.From(op switch
                    {
                        BinaryOp.Add => a + b,
                        BinaryOp.Subtract => a - b,
                        BinaryOp.Multiply => a * b,
                        BinaryOp.Divide => a / b,
                        _ => a % b,
                    });
                    return true;
            }
        }

        private static int Compare(Value l, Value r) =>
            l.Kind == ValueKind.Integer && r.Kind == ValueKind.Integer ? l.AsInteger.CompareTo(r.AsInteger) : l.AsDouble.CompareTo(r.AsDouble);
    }

    /// <summary>A recursive-descent parser over the path text; whitespace between tokens is skipped, as the library's scanner does.</summary>
    private sealed class Parser(string text)
    {
        /// <summary>How deep filters, parentheses and prefix operators may nest: a path read from a row never overflows the stack.</summary>
        private const int MaxDepth = 128;

        private int position;
        private int depth;

        public JsonPath ParseRoot()
        {
            SkipSpace();
            if (!TryTake('$'))
            {
                throw Error("a JSON path starts with $");
            }

            var path = ParseSteps();
            SkipSpace();
            if (position < text.Length)
            {
                throw Error($"unexpected `{text[position]}`");
            }

            return path;
        }

        /// <summary>The steps after <c>$</c> or <c>@</c>, up to the first character that does not continue a path.</summary>
        private JsonPath ParseSteps()
        {
            Enter();
            try
            {
                return ParseStepsCore();
            }
            finally
            {
                depth--;
            }
        }

        private JsonPath ParseStepsCore()
        {
            var start = position;
            var steps = new List<Step>();
            while (true)
            {
                var save = position;
                SkipSpace();
                if (TryTake('.'))
                {
                    if (TryTake('.'))
                    {
                        steps.Add(new DescentStep());
                        ParseAfterDescent(steps);
                        continue;
                    }

                    SkipSpace();
                    if (TryTake('*'))
                    {
                        steps.Add(new WildcardStep());
                    }
                    else if (TryIdentifier(out var name))
                    {
                        steps.Add(new DirectStep(new Key(name, null)));
                    }
                    else
                    {
                        throw Error("expected a key, `*` or `.` after `.`");
                    }
                }
                else if (Peek() == '[')
                {
                    steps.Add(ParseBracket(allowSlice: true));
                }
                else
                {
                    position = save;
                    return new JsonPath(text[Math.Max(0, start - 1)..position], [.. steps]);
                }
            }
        }

        /// <summary>What may follow <c>..</c>: a key, <c>*</c>, or a bracket (not a slice).</summary>
        private void ParseAfterDescent(List<Step> steps)
        {
            SkipSpace();
            if (TryTake('*'))
            {
                steps.Add(new WildcardStep());
            }
            else if (TryIdentifier(out var name))
            {
                steps.Add(new DirectStep(new Key(name, null)));
            }
            else if (Peek() == '[')
            {
                var step = ParseBracket(allowSlice: false);

                // After `..` a single key in brackets still selects from every value reached, skipping failures.
                steps.Add(step is DirectStep direct ? new ListStep([direct.Key]) : step);
            }
            else
            {
                throw Error("expected a key, `*` or `[` after `..`");
            }
        }

        /// <summary><c>[*]</c>, <c>[?expr]</c>, <c>[start:end:step]</c>, <c>[key]</c> or <c>[key, key…]</c>.</summary>
        private Step ParseBracket(bool allowSlice)
        {
            Expect('[');
            SkipSpace();
            if (TryTake('*'))
            {
                SkipSpace();
                Expect(']');
                return new WildcardStep();
            }

            if (TryTake('?'))
            {
                var condition = ParseExpression();
                SkipSpace();
                Expect(']');
                return new FilterStep(condition);
            }

            if (Peek() == ':' || LooksLikeSlice())
            {
                if (!allowSlice)
                {
                    throw Error("a slice cannot follow `..`");
                }

                return ParseSlice();
            }

            var keys = new List<Key> { ParseKey() };
            SkipSpace();
            while (TryTake(','))
            {
                keys.Add(ParseKey());
                SkipSpace();
            }

            Expect(']');
            return keys.Count == 1 ? new DirectStep(keys[0]) : new ListStep([.. keys]);
        }

        /// <summary>Whether the bracket content ahead is an (optionally negative) integer followed by <c>:</c>.</summary>
        private bool LooksLikeSlice()
        {
            var i = position;
            if (i < text.Length && text[i] == '-')
            {
                i++;
            }

            var digits = i;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                i++;
            }

            while (i < text.Length && char.IsWhiteSpace(text[i]))
            {
                i++;
            }

            return i > digits && i < text.Length && text[i] == ':';
        }

        private SliceStep ParseSlice()
        {
            long?[] bounds = [null, null, null];
            var part = 0;
            while (true)
            {
                SkipSpace();
                if (Peek() is not (':' or ']'))
                {
                    bounds[part] = ParseInteger();
                    SkipSpace();
                }

                if (TryTake(']'))
                {
                    break;
                }

                Expect(':');
                if (++part > 2)
                {
                    throw Error("a slice has at most three parts [start:end:step]");
                }
            }

            return new SliceStep(bounds[0] ?? 0, bounds[1] ?? int.MaxValue, bounds[2] ?? 1);
        }

        /// <summary>A key in brackets: an integer (an index), a quoted string, or a bare name.</summary>
        private Key ParseKey()
        {
            SkipSpace();
            var c = Peek();
            if (c is '\'' or '"')
            {
                var name = ParseString();
                return new Key(name, null);
            }

            if (c == '-' || char.IsAsciiDigit(c))
            {
                var index = ParseInteger();
                return new Key(index.ToString(CultureInfo.InvariantCulture), index);
            }

            if (TryIdentifier(out var bare))
            {
                return new Key(bare, null);
            }

            throw Error("expected an index, a quoted key or a name in brackets");
        }

        private long ParseInteger()
        {
            var start = position;
            TryTake('-');
            while (position < text.Length && char.IsAsciiDigit(text[position]))
            {
                position++;
            }

            if (!long.TryParse(text.AsSpan(start, position - start), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            {
                position = start;
                throw Error("expected an integer");
            }

            return value;
        }

        /// <summary>A quoted string (<c>'…'</c> or <c>"…"</c>) with backslash escapes.</summary>
        private string ParseString()
        {
            var quote = text[position];
            var start = position++;
            var output = new StringBuilder();
            while (position < text.Length && text[position] != quote)
            {
                var c = text[position++];
                if (c != '\\')
                {
                    output.Append(c);
                    continue;
                }

                if (position >= text.Length)
                {
                    break;
                }

                var e = text[position++];
                switch (e)
                {
                    case 'n':
                        output.Append('\n');
                        break;
                    case 't':
                        output.Append('\t');
                        break;
                    case 'r':
                        output.Append('\r');
                        break;
                    case 'b':
                        output.Append('\b');
                        break;
                    case 'f':
                        output.Append('\f');
                        break;
                    case 'u' when position + 4 <= text.Length && ushort.TryParse(text.AsSpan(position, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code):
                        output.Append((char)code);
                        position += 4;
                        break;
                    default:
                        output.Append(e);
                        break;
                }
            }

            if (position >= text.Length)
            {
                position = start;
                throw Error("unterminated string");
            }

            position++;
            return output.ToString();
        }

        /// <summary>A name as Go's scanner reads an identifier: a letter or <c>_</c>, then letters, digits, <c>_</c>.</summary>
        private bool TryIdentifier(out string name)
        {
            var start = position;
            if (position < text.Length && (char.IsLetter(text[position]) || text[position] == '_'))
            {
                position++;
                while (position < text.Length && (char.IsLetterOrDigit(text[position]) || text[position] == '_'))
                {
                    position++;
                }
            }

            name = text[start..position];
            return position > start;
        }

        // Filter expressions, loosest first: || then && then comparisons then + - then * / % then unary.
        private Expr ParseExpression()
        {
            var left = ParseAnd();
            while (TryOperator("||"))
            {
                left = new LogicExpr(left, ParseAnd(), and: false);
            }

            return left;
        }

        private Expr ParseAnd()
        {
            var left = ParseComparison();
            while (TryOperator("&&"))
            {
                left = new LogicExpr(left, ParseComparison(), and: true);
            }

            return left;
        }

        private Expr ParseComparison()
        {
            var left = ParseAdditive();
            SkipSpace();
            var at = position;
            string[] operators = ["==", "!=", "<=", ">=", "=~", "!~", "<", ">"];
            foreach (var op in operators)
            {
                if (!TryOperator(op))
                {
                    continue;
                }

                var right = ParseAdditive();
                try
                {
                    return op switch
                    {
                        "==" => new BinaryExpr(left, right, BinaryOp.Equal),
                        "!=" => new BinaryExpr(left, right, BinaryOp.NotEqual),
                        "<=" => new BinaryExpr(left, right, BinaryOp.LessOrEqual),
                        ">=" => new BinaryExpr(left, right, BinaryOp.GreaterOrEqual),
                        "<" => new BinaryExpr(left, right, BinaryOp.Less),
                        ">" => new BinaryExpr(left, right, BinaryOp.Greater),
                        "=~" => new MatchExpr(left, right, negate: false),
                        _ => new MatchExpr(left, right, negate: true),
                    };
                }
                catch (FormatException e)
                {
                    position = at;
                    throw Error($"bad regular expression: {e.Message}");
                }
            }

            return left;
        }

        private Expr ParseAdditive()
        {
            var left = ParseMultiplicative();
            while (true)
            {
                SkipSpace();
                if (TryTake('+'))
                {
                    left = new BinaryExpr(left, ParseMultiplicative(), BinaryOp.Add);
                }
                else if (TryTake('-'))
                {
                    left = new BinaryExpr(left, ParseMultiplicative(), BinaryOp.Subtract);
                }
                else
                {
                    return left;
                }
            }
        }

        private Expr ParseMultiplicative()
        {
            var left = ParseUnary();
            while (true)
            {
                SkipSpace();
                if (TryTake('*'))
                {
                    left = new BinaryExpr(left, ParseUnary(), BinaryOp.Multiply);
                }
                else if (TryTake('/'))
                {
                    left = new BinaryExpr(left, ParseUnary(), BinaryOp.Divide);
                }
                else if (TryTake('%'))
                {
                    left = new BinaryExpr(left, ParseUnary(), BinaryOp.Modulo);
                }
                else
                {
                    return left;
                }
            }
        }

        private Expr ParseUnary()
        {
            Enter();
            try
            {
                return ParseUnaryCore();
            }
            finally
            {
                depth--;
            }
        }

        private void Enter()
        {
            if (++depth > MaxDepth)
            {
                throw Error($"the path nests deeper than {MaxDepth} levels");
            }
        }

        private Expr ParseUnaryCore()
        {
            SkipSpace();
            if (Peek() == '!' && (position + 1 >= text.Length || text[position + 1] != '='))
            {
                position++;
                return new NotExpr(ParseUnary());
            }

            if (Peek() == '-' && !(position + 1 < text.Length && char.IsAsciiDigit(text[position + 1])))
            {
                position++;
                return new NegateExpr(ParseUnary());
            }

            return ParsePrimary();
        }

        private Expr ParsePrimary()
        {
            SkipSpace();
            var c = Peek();
            if (TryTake('('))
            {
                var inner = ParseExpression();
                SkipSpace();
                Expect(')');
                return inner;
            }

            if (TryTake('@'))
            {
                return new PathExpr(ParseSteps(), fromRoot: false);
            }

            if (TryTake('$'))
            {
                return new PathExpr(ParseSteps(), fromRoot: true);
            }

            if (c is '\'' or '"')
            {
                return new LiteralExpr(Value.From(ParseString()));
            }

            if (c == '-' || char.IsAsciiDigit(c))
            {
                return new LiteralExpr(ParseNumber());
            }

            var at = position;
            if (TryIdentifier(out var word))
            {
                switch (word)
                {
                    case "true":
                        return new LiteralExpr(Value.True);
                    case "false":
                        return new LiteralExpr(Value.False);
                    case "null" or "nil":
                        return new LiteralExpr(Value.Null);
                }

                position = at;
                throw Error($"unknown name `{word}` in a filter (use @.{word} for a key of the item)");
            }

            throw Error(position >= text.Length ? "unexpected end of the path" : $"unexpected `{c}` in a filter");
        }

        private Value ParseNumber()
        {
            var start = position;
            TryTake('-');
            while (position < text.Length && (char.IsAsciiDigit(text[position]) || text[position] is '.' or 'e' or 'E'
                || (text[position] is '+' or '-' && text[position - 1] is 'e' or 'E')))
            {
                position++;
            }

            var span = text.AsSpan(start, position - start);
            if (span.IndexOfAny('.', 'e', 'E') < 0 && long.TryParse(span, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
            {
                return Value.From(integer);
            }

            if (double.TryParse(span, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            {
                return Value.From(number);
            }

            position = start;
            throw Error("bad number");
        }

        private bool TryOperator(string op)
        {
            SkipSpace();
            if (string.CompareOrdinal(text, position, op, 0, op.Length) != 0)
            {
                return false;
            }

            // `<` must not eat the start of `<=`, nor `=` the start of `==`: the longer forms are tried first.
            position += op.Length;
            return true;
        }

        private char Peek() => position < text.Length ? text[position] : '\0';

        private bool TryTake(char c)
        {
            if (position < text.Length && text[position] == c)
            {
                position++;
                return true;
            }

            return false;
        }

        private void Expect(char c)
        {
            SkipSpace();
            if (!TryTake(c))
            {
                throw Error(position >= text.Length ? $"expected `{c}` before the end" : $"expected `{c}`, found `{text[position]}`");
            }
        }

        private void SkipSpace()
        {
            while (position < text.Length && char.IsWhiteSpace(text[position]))
            {
                position++;
            }
        }

        private JsonPathException Error(string reason) => new(reason, position + 1);
    }
}

/// <summary>Thrown when an evaluation passes <see cref="JsonPath.MaxVisits"/>; caught where the evaluation started.</summary>
internal sealed class VisitLimitException() : Exception("too many values visited");
