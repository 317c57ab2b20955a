using EdgeStream.Abstractions;
using static EdgeStream.Functions.Builtins.FunctionArgs;

namespace EdgeStream.Functions.Builtins;

/// <summary>
/// The array functions. Positions are 0-based, -1 when absent. Elements are equal as eKuiper's Go values are: same
/// type and value (<c>1</c> is not <c>1.0</c>); arrays and objects compare by content (where Go would fail).
/// </summary>
internal static class ArrayFunctions
{
    /// <summary>The most elements <c>repeat</c> and <c>sequence</c> build (a guard against a typo exhausting memory).</summary>
    internal const int MaxBuiltLength = 1_000_000;

    /// <summary>
    /// The most a <c>repeat</c> result may hold counting every level (the copies share one value, but what reads them
    /// does not: <c>array_flatten(repeat(repeat(1, 1000000), 1000000))</c> would build 10^12 elements), in units of
    /// about 16 bytes: a value, or 8 characters of a string, or 16 bytes of a binary.
    /// </summary>
    internal const long MaxBuiltWeight = 1 << 24;

    private const string FirstNotArray = "first argument should be array of interface{}";
    private const string SecondNotArray = "second argument should be array of interface{}";
    private const string ElementsNotArrays = "array elements should be array";

    /// <summary>This category's implementations.</summary>
    public static readonly ScalarFunction[] All =
    [
        new("array_create", "x", static (args, _) => Create(args)),
        new("cardinality", "x", static (args, _) => Value.From(args[0].Kind switch
        {
            ValueKind.Array => args[0].AsArray.Length,
            ValueKind.Bytes => args[0].AsBytes.Length,
            _ => 0L,
        })),
        new("array_cardinality", "a", static (args, _) => args[0].IsNull ? Value.From(0L) : Value.From(CountNonNull(Array1("array_cardinality", args[0])))),
        new("array_position", "ax", static (args, _) => args[0].IsNull ? Value.From(-1L) : Value.From(IndexOf(Array1("array_position", args[0]), args[1]))),
        new("array_last_position", "ax", static (args, _) => args[0].IsNull ? Value.From(-1L) : Value.From(LastIndexOf(Array1("array_last_position", args[0]), args[1]))),
        new("array_contains", "ax", static (args, _) => Value.From(!args[0].IsNull && IndexOf(Array1("array_contains", args[0]), args[1]) >= 0)),
        new("array_contains_any", "aa", static (args, _) => ContainsAny(args[0], args[1])),
        new("array_remove", "ax", static (args, _) => args[0].IsNull ? Value.Null : Remove(Array1("array_remove", args[0]), args[1])),
        new("element_at", "xx", static (args, _) => ElementAt(args[0], args[1])),
        new("array_intersect", "aa", static (args, _) => AnyNull(args) ? Value.Null : Intersect(Array1("array_intersect", args[0]), Array2("array_intersect", args[1]))),
        new("array_union", "aa", static (args, _) => Union(args[0], args[1])),
        new("array_except", "aa", static (args, _) => Except(args[0], args[1])),
        new("array_distinct", "a", static (args, _) => args[0].IsNull ? Value.Null : Distinct(Array1("array_distinct", args[0]))),
        new("array_max", "a", static (args, _) => args[0].IsNull ? Value.Null : Extreme("array_max", Array1("array_max", args[0]), max: true)),
        new("array_min", "a", static (args, _) => args[0].IsNull ? Value.Null : Extreme("array_min", Array1("array_min", args[0]), max: false)),
        new("array_flatten", "a", static (args, _) => args[0].IsNull ? Value.Null : Flatten(Array1("array_flatten", args[0]))),
        new("array_concat", "a", static (args, _) => Concat(args)),
        new("array_join", "ass", static (args, _) => AnyNull(args) ? Value.Null : Join(args)),
        new("array_shuffle", "a", static (args, _) => args[0].IsNull ? Value.Null : Shuffle(Array1("array_shuffle", args[0]))),
        new("array_sort", "a", static (args, _) => args[0].IsNull ? Value.Null : Sort(args[0])),
        new("array_map", "sa", static (args, env) => AnyNull(args) ? Value.Null : Map(ResolveMapped(args[0]), args[1], env), PrepareMap),
        new("repeat", "xi", static (args, _) => AnyNull(args) ? Value.Null : Repeat(args[0], args[1])),
        new("sequence", "i", static (args, _) => AnyNull(args) ? Value.Null : Sequence(args)),
        new("kvpair_array_to_obj", "a", static (args, _) => args[0].IsNull ? Value.Null : KvPairsToObject(Array1("kvpair_array_to_obj", args[0]))),
    ];

    /// <summary>The first argument as an array; anything else is eKuiper's error.</summary>
    private static Value[] Array1(string name, Value value) =>
        value.Kind == ValueKind.Array ? value.AsArray : throw Error(name, FirstNotArray);

    /// <summary>The second argument as an array; anything else (null included) is eKuiper's error.</summary>
    private static Value[] Array2(string name, Value value) =>
        value.Kind == ValueKind.Array ? value.AsArray : throw Error(name, SecondNotArray);

    /// <summary><c>array_create(v, …)</c>: the non-null arguments; null when there are none.</summary>
    private static Value Create(ReadOnlySpan<Value> args)
    {
        var count = CountNonNull(args);
        if (count == 0)
        {
            return Value.Null;
        }

        var items = new Value[count];
        var n = 0;
        foreach (var arg in args)
        {
            if (!arg.IsNull)
            {
                items[n++] = arg;
            }
        }

        return Value.From(items);
    }

    private static long CountNonNull(ReadOnlySpan<Value> items)
    {
        var count = 0;
        foreach (var item in items)
        {
            if (!item.IsNull)
            {
                count++;
            }
        }

        return count;
    }

    private static long IndexOf(Value[] items, Value value)
    {
        for (var i = 0; i < items.Length; i++)
        {
            if (items[i].Equals(value))
            {
                return i;
            }
        }

        return -1;
    }

    private static long LastIndexOf(Value[] items, Value value)
    {
        for (var i = items.Length - 1; i >= 0; i--)
        {
            if (items[i].Equals(value))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary><c>array_contains_any(a1, a2)</c>: false when a1 is null; a2 must be an array.</summary>
    private static Value ContainsAny(Value first, Value second)
    {
        if (first.IsNull)
        {
            return Value.False;
        }

        var a = Array1("array_contains_any", first);
        var b = Array2("array_contains_any", second);
        foreach (var x in a)
        {
            if (IndexOf(b, x) >= 0)
            {
                return Value.True;
            }
        }

        return Value.False;
    }

    /// <summary><c>array_remove(a, v)</c>: a copy without the elements equal to v.</summary>
    private static Value Remove(Value[] items, Value value)
    {
        var kept = new List<Value>(items.Length);
        foreach (var item in items)
        {
            if (!item.Equals(value))
            {
                kept.Add(item);
            }
        }

        return Value.From(kept.ToArray());
    }

    /// <summary>
    /// <c>element_at(a, i)</c>: the i-th element (negative from the end), an error out of range; <c>element_at(o, k)</c>:
    /// the value at key k, null when absent. Null in gives null.
    /// </summary>
    private static Value ElementAt(Value container, Value at)
    {
        if (container.IsNull || at.IsNull)
        {
            return Value.Null;
        }

        switch (container.Kind)
        {
            case ValueKind.Array:
                var items = container.AsArray;
                long index = at.Kind switch
                {
                    ValueKind.Integer => at.AsInteger,
                    ValueKind.Float when at.AsFloat == Math.Truncate(at.AsFloat) && Math.Abs(at.AsFloat) < 9.2e18 => (long)at.AsFloat,
                    _ => throw Error("element_at", $"cannot convert {at.Describe()} to int"),
                };
                if (index >= items.Length || index < -items.Length)
                {
                    throw Error("element_at", "index out of range");
                }

                return items[index >= 0 ? index : items.Length + index];
            case ValueKind.Object:
                return at.Kind == ValueKind.String
                    ? container.AsObject[at.AsString]
                    : throw Error("element_at", "second argument should be string");
            default:
                throw Error("element_at", "first argument should be []interface{} or map[string]interface{}");
        }
    }

    /// <summary><c>array_intersect(a1, a2)</c>: the elements of a2 also in a1, each once, in a2's order.</summary>
    private static Value Intersect(Value[] first, Value[] second)
    {
        var set = new HashSet<Value>(first);
        var result = new List<Value>(Math.Min(first.Length, second.Length));
        foreach (var item in second)
        {
            if (set.Remove(item))
            {
                result.Add(item);
            }
        }

        return Value.From(result.ToArray());
    }

    /// <summary><c>array_union(a1, a2)</c>: the elements of both, each once, in order; a null array counts as empty.</summary>
    private static Value Union(Value first, Value second)
    {
        var a = first.IsNull ? [] : Array1("array_union", first);
        var b = second.IsNull ? [] : Array2("array_union", second);
        var seen = new HashSet<Value>();
        var result = new List<Value>(a.Length + b.Length);
        foreach (var item in a)
        {
            if (seen.Add(item))
            {
                result.Add(item);
            }
        }

        foreach (var item in b)
        {
            if (seen.Add(item))
            {
                result.Add(item);
            }
        }

        return Value.From(result.ToArray());
    }

    /// <summary><c>array_except(a1, a2)</c>: the elements of a1 not in a2, each once; null when a1 is null, a2 null counts as empty.</summary>
    private static Value Except(Value first, Value second)
    {
        if (first.IsNull)
        {
            return Value.Null;
        }

        var a = Array1("array_except", first);
        var b = second.IsNull ? [] : Array2("array_except", second);
        var seen = new HashSet<Value>(b);
        var result = new List<Value>(a.Length);
        foreach (var item in a)
        {
            if (seen.Add(item))
            {
                result.Add(item);
            }
        }

        return Value.From(result.ToArray());
    }

    /// <summary>
    /// <c>array_distinct(a)</c>: the first of each run of equal scalars (null, booleans, numbers, strings); other
    /// elements (arrays, objects, datetimes, bytes) are kept as they are, as eKuiper keeps what Go cannot hash.
    /// </summary>
    private static Value Distinct(Value[] items)
    {
        var seen = new HashSet<Value>();
        var result = new List<Value>(items.Length);
        foreach (var item in items)
        {
            var hashable = item.Kind is ValueKind.Null or ValueKind.Boolean or ValueKind.Integer or ValueKind.Float or ValueKind.String;
            if (!hashable || seen.Add(item))
            {
                result.Add(item);
            }
        }

        return Value.From(result.ToArray());
    }

    /// <summary>
    /// <c>array_max</c> / <c>array_min</c>, as eKuiper's: nulls are skipped and the first other element sets the
    /// type. After an integer, floats count truncated and anything else is an error; after a float only floats, after
    /// a string only strings. Null for an empty (or all-null) array.
    /// </summary>
    private static Value Extreme(string name, Value[] items, bool max)
    {
        var first = Value.Null;
        foreach (var item in items)
        {
            if (!item.IsNull)
            {
                first = item;
                break;
            }
        }

        switch (first.Kind)
        {
            case ValueKind.Null:
                return Value.Null;
            case ValueKind.Integer:
                var best = first.AsInteger;
                foreach (var item in items)
                {
                    long x = item.Kind switch
                    {
                        ValueKind.Null => best,
                        ValueKind.Integer => item.AsInteger,
                        ValueKind.Float => TruncateToLong(item.AsFloat),
                        _ => throw Error(name, $"requires int64 but found {item.Describe()}"),
                    };
                    best = max ? Math.Max(best, x) : Math.Min(best, x);
                }

                return Value.From(best);
            case ValueKind.Float:
                var bestFloat = first.AsFloat;
                foreach (var item in items)
                {
                    if (item.IsNull)
                    {
                        continue;
                    }

                    if (item.Kind != ValueKind.Float)
                    {
                        throw Error(name, $"requires float64 but found {item.Describe()}");
                    }

                    // Go's `max < v` / `min > v`: a NaN never replaces the current value.
                    if (max ? bestFloat < item.AsFloat : bestFloat > item.AsFloat)
                    {
                        bestFloat = item.AsFloat;
                    }
                }

                return Value.From(bestFloat);
            case ValueKind.String:
                var bestText = first.AsString;
                foreach (var item in items)
                {
                    if (item.IsNull)
                    {
                        continue;
                    }

                    if (item.Kind != ValueKind.String)
                    {
                        throw Error(name, $"requires string but found {item.Describe()}");
                    }

                    var order = string.CompareOrdinal(item.AsString, bestText);
                    if (max ? order > 0 : order < 0)
                    {
                        bestText = item.AsString;
                    }
                }

                return Value.From(bestText);
            default:
                throw Error(name, $"found invalid arg {first.Describe()}");
        }
    }

    /// <summary>Go's <c>int64(f)</c>: toward zero (saturating where Go's result is undefined).</summary>
    private static long TruncateToLong(double value) => double.IsNaN(value) ? long.MinValue : (long)Math.Clamp(Math.Truncate(value), long.MinValue, long.MaxValue);

    /// <summary><c>array_flatten(a)</c>: array elements spliced in, others kept; null when nothing results (Go's nil slice).</summary>
    private static Value Flatten(Value[] items)
    {
        var result = new List<Value>(items.Length);
        foreach (var item in items)
        {
            if (item.Kind == ValueKind.Array)
            {
                result.AddRange(item.AsArray);
            }
            else
            {
                result.Add(item);
            }
        }

        return result.Count == 0 ? Value.Null : Value.From(result.ToArray());
    }

    /// <summary><c>array_concat(a, …)</c>: the arrays one after another, nulls skipped; null when nothing results (Go's nil slice).</summary>
    private static Value Concat(ReadOnlySpan<Value> args)
    {
        var length = 0;
        foreach (var arg in args)
        {
            if (arg.IsNull)
            {
                continue;
            }

            if (arg.Kind != ValueKind.Array)
            {
                throw Error("array_concat", ElementsNotArrays);
            }

            length += arg.AsArray.Length;
        }

        if (length == 0)
        {
            return Value.Null;
        }

        var result = new Value[length];
        var n = 0;
        foreach (var arg in args)
        {
            if (!arg.IsNull)
            {
                arg.AsArray.CopyTo(result, n);
                n += arg.AsArray.Length;
            }
        }

        return Value.From(result);
    }

    /// <summary>
    /// <c>array_join(a, delimiter [, null_replacement])</c>: the elements' text joined; a null element is left out, or
    /// replaced when a non-empty replacement is given. Arrays and objects cannot be joined.
    /// </summary>
    private static Value Join(ReadOnlySpan<Value> args)
    {
        var items = Array1("array_join", args[0]);
        var delimiter = args[1].Kind == ValueKind.String ? args[1].AsString : throw Error("array_join", "second argument should be string");
        var replacement = string.Empty;
        if (args.Length > 2)
        {
            replacement = args[2].Kind == ValueKind.String ? args[2].AsString : throw Error("array_join", "third argument should be string");
        }

        var parts = new List<string>(items.Length);
        foreach (var item in items)
        {
            switch (item.Kind)
            {
                case ValueKind.Null:
                    if (replacement.Length != 0)
                    {
                        parts.Add(replacement);
                    }

                    break;
                case ValueKind.Array or ValueKind.Object:
                    throw Error("array_join", "array elements should be string");
                default:
                    parts.Add(ElementText(item));
                    break;
            }
        }

        return Value.From(string.Join(delimiter, parts));
    }

    /// <summary>An element's text as eKuiper's <c>cast.ToString</c> converts it: floats without an exponent, bytes as UTF-8.</summary>
    private static string ElementText(Value item) => item.Kind switch
    {
        ValueKind.String => item.AsString,
        ValueKind.Float => GoText.FixedFloat(item.AsFloat),
        ValueKind.Bytes => System.Text.Encoding.UTF8.GetString(item.AsBytes),
        _ => Text(item),
    };

    /// <summary><c>array_shuffle(a)</c>: a shuffled copy.</summary>
    private static Value Shuffle(Value[] items)
    {
        var copy = (Value[])items.Clone();
        Random.Shared.Shuffle(copy);
        return Value.From(copy);
    }

    /// <summary>
    /// <c>array_sort(a)</c>: a copy ordered as eKuiper orders it — by each element's text (Go's <c>%v</c>), compared
    /// byte-wise, so <c>[3, 10, 2]</c> gives <c>[10, 2, 3]</c> and numbers come before letters. Equal texts keep their order.
    /// </summary>
    private static Value Sort(Value array)
    {
        if (array.Kind != ValueKind.Array)
        {
            throw Error("array_sort", ElementsNotArrays);
        }

        var items = array.AsArray;
        if (items.Length <= 1)
        {
            return array;
        }

        var keys = new string[items.Length];
        var order = new int[items.Length];
        for (var i = 0; i < items.Length; i++)
        {
            keys[i] = Text(items[i]);
            order[i] = i;
        }

        System.Array.Sort(order, (a, b) =>
        {
            var c = string.CompareOrdinal(keys[a], keys[b]);
            return c != 0 ? c : a.CompareTo(b);
        });
        var sorted = new Value[items.Length];
        for (var i = 0; i < order.Length; i++)
        {
            sorted[i] = items[order[i]];
        }

        return Value.From(sorted);
    }

    /// <summary>A constant function name is resolved once, here: an unknown name, a non-scalar or one not taking one argument is refused.</summary>
    private static ScalarBody? PrepareMap(PreparedCall call)
    {
        if (call.ConstantString(0) is not { } name)
        {
            return null;
        }

        var function = TryResolveMapped(name, out var reason) ?? throw call.Fail(0, reason!);
        return (args, env) => AnyNull(args) ? Value.Null : Map(function, args[1], env);
    }

    /// <summary>The built-in scalar function a (non-constant) name stands for; an error when there is none that takes one argument.</summary>
    private static ScalarFunction ResolveMapped(Value name)
    {
        if (name.Kind != ValueKind.String)
        {
            throw Error("array_map", "first argument should be string");
        }

        return TryResolveMapped(name.AsString, out var reason) ?? throw Error("array_map", reason!);
    }

    private static ScalarFunction? TryResolveMapped(string name, out string? reason)
    {
        reason = null;
        if (FunctionRegistry.Builtins.TryGet(name, out var info))
        {
            if (info.Kind != FunctionKind.Scalar)
            {
                reason = "first argument should be a scalar function.";
                return null;
            }

            if (!info.Accepts(1))
            {
                reason = $"validate {name} arguments failed";
                return null;
            }
        }

        if (BuiltinScalars.TryGet(name, out var function))
        {
            return function;
        }

        reason = $"unknown built-in function: {name}.";
        return null;
    }

    /// <summary><c>array_map(function_name, a)</c>: the function applied to each element; its first failure fails the call.</summary>
    private static Value Map(ScalarFunction function, Value array, FunctionEnvironment env)
    {
        var items = array.Kind == ValueKind.Array ? array.AsArray : throw Error("array_map", SecondNotArray);
        var mapped = new Value[items.Length];
        for (var i = 0; i < items.Length; i++)
        {
            mapped[i] = function.Body(new ReadOnlySpan<Value>(in items[i]), env);
        }

        return Value.From(mapped);
    }

    /// <summary><c>repeat(v, n)</c>: an array of n copies of v.</summary>
    private static Value Repeat(Value value, Value count)
    {
        if (count.Kind != ValueKind.Integer)
        {
            throw Error("repeat", "second argument should be int");
        }

        var n = count.AsInteger;
        if (n < 0 || n > MaxBuiltLength)
        {
            throw Error("repeat", n < 0 ? "second argument should not be negative" : $"the count must be at most {MaxBuiltLength}");
        }

        if (n > 0 && Weight(value, (MaxBuiltWeight / n) + 1) > MaxBuiltWeight / n)
        {
            throw Error("repeat", $"the result would hold more than {MaxBuiltWeight} values counting nested ones");
        }

        var items = new Value[n];
        System.Array.Fill(items, value);
        return Value.From(items);
    }

    /// <summary>The size of <paramref name="value"/> in <see cref="MaxBuiltWeight"/>'s units, counted no further than just past <paramref name="limit"/>.</summary>
    private static long Weight(Value value, long limit)
    {
        long weight = 1;
        switch (value.Kind)
        {
            case ValueKind.String:
                weight += value.AsString.Length / 8;
                break;
            case ValueKind.Bytes:
                weight += value.AsBytes.Length / 16;
                break;
            case ValueKind.Array:
                foreach (var item in value.AsArray)
                {
                    weight += Weight(item, limit - weight);
                    if (weight > limit)
                    {
                        break;
                    }
                }

                break;
            case ValueKind.Object:
                foreach (var field in value.AsObject.Fields)
                {
                    weight += (field.Key.Length / 8) + Weight(field.Value, limit - weight);
                    if (weight > limit)
                    {
                        break;
                    }
                }

                break;
        }

        return weight;
    }

    /// <summary>
    /// <c>sequence(start, stop [, step])</c>: start, start+step, … while not past stop; the step defaults to 1 or -1
    /// toward stop, must not be zero, and must point toward stop.
    /// </summary>
    private static Value Sequence(ReadOnlySpan<Value> args)
    {
        var start = args[0].Kind == ValueKind.Integer ? args[0].AsInteger : throw Error("sequence", "first argument should be int");
        var stop = args[1].Kind == ValueKind.Integer ? args[1].AsInteger : throw Error("sequence", "second argument should be int");
        long step;
        if (args.Length > 2)
        {
            step = args[2].Kind == ValueKind.Integer ? args[2].AsInteger : throw Error("sequence", "third argument should be int");
            if (step == 0)
            {
                throw Error("sequence", "invalid step: should not be zero");
            }
        }
        else
        {
            step = start < stop ? 1 : -1;
        }

        var n = (((Int128)stop - start) / step) + 1;
        if (n <= 0)
        {
            throw Error("sequence", "invalid step: it leads away from stop");
        }

        if (n > MaxBuiltLength)
        {
            throw Error("sequence", $"the sequence must have at most {MaxBuiltLength} elements");
        }

        var items = new Value[(int)n];
        for (var i = 0; i < items.Length; i++)
        {
            items[i] = Value.From(start + (i * step));
        }

        return Value.From(items);
    }

    /// <summary><c>kvpair_array_to_obj(a)</c>: each <c>{"key": k, "value": v}</c> item (exactly those two fields, k a string) becomes field k.</summary>
    private static Value KvPairsToObject(Value[] items)
    {
        var result = new ValueObject(items.Length);
        foreach (var item in items)
        {
            if (item.Kind != ValueKind.Object)
            {
                throw Error("kvpair_array_to_obj", "array item should be map[string]interface{}");
            }

            var pair = item.AsObject;
            if (pair.Count != 2 || !pair.TryGet("key", out var key) || !pair.TryGet("value", out var value) || key.Kind != ValueKind.String)
            {
                throw Error("kvpair_array_to_obj", "array item should be key-value pair");
            }

            result[key.AsString] = value;
        }

        return Value.From(result);
    }
}
