using EdgeStream.Abstractions;
using static EdgeStream.Functions.Builtins.FunctionArgs;

namespace EdgeStream.Functions.Builtins;

/// <summary>
/// The object functions. Where eKuiper walks a Go map (in no defined order: <c>keys</c>, <c>values</c>, <c>items</c>,
/// <c>obj_to_kvpair_array</c>, <c>erase</c>…), these keep the object's own order, the order its fields arrived in.
/// </summary>
internal static class ObjectFunctions
{
    /// <summary>This category's implementations.</summary>
    public static readonly ScalarFunction[] All =
    [
        new("keys", "o", static (args, _) => Keys(args[0])),
        new("values", "o", static (args, _) => Values(args[0])),
        new("object", "aa", static (args, _) => MakeObject(args)),
        new("zip", "a", static (args, _) => Zip(args[0])),
        new("items", "o", static (args, _) => Items(args[0])),
        new("object_concat", "o", static (args, _) => Concat(args)),
        new("object_construct", "sx", static (args, _) => Construct(args), PrepareConstruct),
        new("erase", "ox", static (args, _) => Erase(args)),
        new("object_size", "o", static (args, _) => Size(args[0])),
        new("object_pick", "ox", static (args, _) => Pick(args)),
        new("obj_to_kvpair_array", "o", static (args, _) => ToKeyValuePairs(args[0])),
    ];

    /// <summary><c>keys(o)</c>: the field names, in the object's order.</summary>
    private static Value Keys(Value value)
    {
        if (value.IsNull)
        {
            return Value.Null;
        }

        var obj = value.Kind == ValueKind.Object ? value.AsObject : throw Error("keys", "the argument should be map[string]interface{}");
        var result = new Value[obj.Count];
        var i = 0;
        foreach (var field in obj.Fields)
        {
            result[i++] = Value.From(field.Key);
        }

        return Value.From(result);
    }

    /// <summary><c>values(o)</c>: the field values, in the object's order.</summary>
    private static Value Values(Value value)
    {
        if (value.IsNull)
        {
            return Value.Null;
        }

        var obj = value.Kind == ValueKind.Object ? value.AsObject : throw Error("values", "the argument should be map[string]interface{}");
        var result = new Value[obj.Count];
        var i = 0;
        foreach (var field in obj.Fields)
        {
            result[i++] = field.Value;
        }

        return Value.From(result);
    }

    /// <summary><c>object(keys, values)</c>: two arrays of one length; empty ones give null, a later duplicate key wins.</summary>
    private static Value MakeObject(ReadOnlySpan<Value> args)
    {
        if (AnyNull(args))
        {
            return Value.Null;
        }

        var keys = args[0].Kind == ValueKind.Array ? args[0].AsArray : throw Error("object", "first argument should be []string");
        var values = args[1].Kind == ValueKind.Array ? args[1].AsArray : throw Error("object", "second argument should be []interface{}");
        if (keys.Length != values.Length)
        {
            throw Error("object", "the length of the arguments should be same");
        }

        if (keys.Length == 0)
        {
            return Value.Null;
        }

        var result = new ValueObject(keys.Length);
        for (var i = 0; i < keys.Length; i++)
        {
            result[keys[i].Kind == ValueKind.String ? keys[i].AsString : throw Error("object", "first argument should be []string")] = values[i];
        }

        return Value.From(result);
    }

    /// <summary><c>zip([[k, v], …])</c>: pairs into an object; null pairs are skipped, an empty array gives null.</summary>
    private static Value Zip(Value value)
    {
        if (value.IsNull)
        {
            return Value.Null;
        }

        var pairs = value.Kind == ValueKind.Array ? value.AsArray : throw Error("zip", "each argument should be [][2]interface{}");
        if (pairs.Length == 0)
        {
            return Value.Null;
        }

        var result = new ValueObject(pairs.Length);
        foreach (var item in pairs)
        {
            if (item.IsNull)
            {
                continue;
            }

            if (item.Kind != ValueKind.Array || item.AsArray.Length != 2)
            {
                throw Error("zip", "each argument should be [][2]interface{}");
            }

            var pair = item.AsArray;
            result[pair[0].Kind == ValueKind.String ? pair[0].AsString : throw Error("zip", "the first element in the list item should be string")] = pair[1];
        }

        return Value.From(result);
    }

    /// <summary><c>items(o)</c>: <c>[[key, value], …]</c>; an empty object gives null.</summary>
    private static Value Items(Value value)
    {
        if (value.IsNull)
        {
            return Value.Null;
        }

        var obj = value.Kind == ValueKind.Object ? value.AsObject : throw Error("items", "first argument should be map[string]interface{}");
        if (obj.Count == 0)
        {
            return Value.Null;
        }

        var result = new Value[obj.Count];
        var i = 0;
        foreach (var field in obj.Fields)
        {
            result[i++] = Value.From([Value.From(field.Key), field.Value]);
        }

        return Value.From(result);
    }

    /// <summary><c>object_concat(o1, o2, …)</c>: the fields of all, a later object's value winning; null arguments are skipped.</summary>
    private static Value Concat(ReadOnlySpan<Value> args)
    {
        var result = new ValueObject();
        foreach (var arg in args)
        {
            if (arg.IsNull)
            {
                continue;
            }

            if (arg.Kind != ValueKind.Object)
            {
                throw Error("object_concat", $"the argument should be map[string]interface{{}}, got {Text(arg)}");
            }

            foreach (var field in arg.AsObject.Fields)
            {
                result[field.Key] = field.Value;
            }
        }

        return Value.From(result);
    }

    /// <summary><c>object_construct</c> takes key-value pairs: an odd count is refused when the rule is created.</summary>
    private static ScalarBody? PrepareConstruct(PreparedCall call)
    {
        if (call.Count % 2 != 0)
        {
            throw call.Fail(-1, "the args must be key value pairs");
        }

        for (var i = 0; i < call.Count; i += 2)
        {
            if (call.Constant(i) is { Kind: not (ValueKind.String or ValueKind.Null) } key)
            {
                throw call.Fail(i, $"Expect string type for parameter {i + 1}, not {key.Describe()}");
            }
        }

        return null;
    }

    /// <summary><c>object_construct(k1, v1, …)</c>: a pair whose key or value is null is left out.</summary>
    private static Value Construct(ReadOnlySpan<Value> args)
    {
        var result = new ValueObject(args.Length / 2);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            var (key, value) = (args[i], args[i + 1]);
            if (key.IsNull || value.IsNull)
            {
                continue;
            }

            result[key.Kind switch
            {
                ValueKind.String => key.AsString,
                ValueKind.Bytes => System.Text.Encoding.UTF8.GetString(key.AsBytes),
                _ => throw Error("object_construct", $"key {Text(key)} is not a string"),
            }] = value;
        }

        return Value.From(result);
    }

    /// <summary><c>erase(o, k | [k, …])</c>: a copy without the key(s); array elements are taken as their text.</summary>
    private static Value Erase(ReadOnlySpan<Value> args)
    {
        if (AnyNull(args))
        {
            return Value.Null;
        }

        var obj = args[0].Kind == ValueKind.Object
            ? args[0].AsObject
            : throw Error("erase", $"the first argument should be map[string]interface{{}}, got {Text(args[0])}");
        HashSet<string> erased;
        switch (args[1].Kind)
        {
            case ValueKind.String:
                erased = new HashSet<string>(StringComparer.Ordinal) { args[1].AsString };
                break;
            case ValueKind.Array:
                var keys = args[1].AsArray;
                erased = new HashSet<string>(keys.Length, StringComparer.Ordinal);
                for (var i = 0; i < keys.Length; i++)
                {
                    erased.Add(KeyText(keys[i], args[1], i));
                }

                break;
            default:
                throw Error("erase", "the argument should be slice or string");
        }

        var result = new ValueObject(obj.Count);
        foreach (var field in obj.Fields)
        {
            if (!erased.Contains(field.Key))
            {
                result[field.Key] = field.Value;
            }
        }

        return Value.From(result);
    }

    /// <summary>An array element as a key, as eKuiper's <c>cast.ToStringSlice(…, CONVERT_ALL)</c>: scalars as their text, null as "".</summary>
    private static string KeyText(Value key, Value array, int index) => key.Kind switch
    {
        ValueKind.Null => string.Empty,
        ValueKind.String or ValueKind.Boolean or ValueKind.Integer or ValueKind.Float or ValueKind.Bytes or ValueKind.Datetime =>
            ConversionText(key),
        _ => throw Error("erase", $"cannot convert {ConversionFunctions.GoDescribe(array)} to string slice for the {index} element: cannot convert {ConversionFunctions.GoDescribe(key)} to string"),
    };

    private static string ConversionText(Value key) => key.Kind switch
    {
        ValueKind.String => key.AsString,
        ValueKind.Bytes => System.Text.Encoding.UTF8.GetString(key.AsBytes),
        ValueKind.Float => GoText.FixedFloat(key.AsFloat),
        _ => Text(key),
    };

    /// <summary><c>object_size(o)</c>: how many fields; null gives 0.</summary>
    private static Value Size(Value value) => value.Kind switch
    {
        ValueKind.Null => Value.From(0L),
        ValueKind.Object => Value.From((long)value.AsObject.Count),
        _ => throw Error("object_size", $"the first argument should be map[string]any, got {Text(value)}"),
    };

    /// <summary>
    /// <c>object_pick(o, k, …)</c> or <c>object_pick(o, [k, …])</c>: a new object with only those keys (those present);
    /// a dotted key <c>a.b</c> picks a nested field and keeps its path. Non-string keys are skipped, as eKuiper does;
    /// a second argument that is neither a string nor an array picks nothing.
    /// </summary>
    private static Value Pick(ReadOnlySpan<Value> args)
    {
        if (args[0].IsNull)
        {
            return Value.Null;
        }

        var obj = args[0].Kind == ValueKind.Object
            ? args[0].AsObject
            : throw Error("object_pick", $"the first argument should be a map, got {Text(args[0])}");
        var result = new ValueObject();
        switch (args[1].Kind)
        {
            case ValueKind.Array:
                foreach (var key in args[1].AsArray)
                {
                    if (key.Kind == ValueKind.String)
                    {
                        PickInto(result, obj, key.AsString);
                    }
                }

                break;
            case ValueKind.String:
                foreach (var key in args[1..])
                {
                    if (key.Kind == ValueKind.String)
                    {
                        PickInto(result, obj, key.AsString);
                    }
                }

                break;
        }

        return Value.From(result);
    }

    /// <summary>Copies <paramref name="key"/> (a dotted path for a nested field) from <paramref name="source"/> into <paramref name="result"/>.</summary>
    private static void PickInto(ValueObject result, ValueObject source, string key)
    {
        if (!key.Contains('.', StringComparison.Ordinal))
        {
            if (source.TryGet(key, out var value))
            {
                result[key] = value;
            }

            return;
        }

        var path = key.Split('.');
        var container = source;
        for (var i = 0; i < path.Length - 1; i++)
        {
            if (!container.TryGet(path[i], out var next) || next.Kind != ValueKind.Object)
            {
                return;
            }

            container = next.AsObject;
        }

        if (!container.TryGet(path[^1], out var picked))
        {
            return;
        }

        var target = result;
        for (var i = 0; i < path.Length - 1; i++)
        {
            if (target.TryGet(path[i], out var existing) && existing.Kind == ValueKind.Object)
            {
                // A copy, so a field picked whole from the input is never changed in place.
                var copy = new ValueObject(existing.AsObject.Count + 1);
                foreach (var field in existing.AsObject.Fields)
                {
                    copy[field.Key] = field.Value;
                }

                target[path[i]] = Value.From(copy);
                target = copy;
            }
            else
            {
                var created = new ValueObject(1);
                target[path[i]] = Value.From(created);
                target = created;
            }
        }

        target[path[^1]] = picked;
    }

    /// <summary><c>obj_to_kvpair_array(o)</c>: <c>[{"key": k, "value": v}, …]</c>.</summary>
    private static Value ToKeyValuePairs(Value value)
    {
        if (value.IsNull)
        {
            return Value.Null;
        }

        var obj = value.Kind == ValueKind.Object
            ? value.AsObject
            : throw Error("obj_to_kvpair_array", $"the first argument should be map[string]interface{{}}, got {Text(value)}");
        var result = new Value[obj.Count];
        var i = 0;
        foreach (var field in obj.Fields)
        {
            var pair = new ValueObject(2)
            {
                ["key"] = Value.From(field.Key),
                ["value"] = field.Value,
            };
            result[i++] = Value.From(pair);
        }

        return Value.From(result);
    }
}
