using System.Text;
using System.Text.Json;
using EdgeStream.Abstractions;
using EdgeStream.Runtime.Json;
using static EdgeStream.Functions.Builtins.FunctionArgs;

namespace EdgeStream.Functions.Builtins;

/// <summary>
/// The JSON functions: <c>to_json</c> and <c>parse_json</c>, and the JSON path functions, which take an object, an
/// array or a JSON string and a path (<see cref="JsonPath"/>). A constant path is parsed once, when the rule is created.
/// </summary>
internal static class JsonFunctions
{
    /// <summary>This category's implementations.</summary>
    public static readonly ScalarFunction[] All =
    [
        // As eKuiper: null gives the text "null"; otherwise Go's json.Marshal (keys sorted, 2.0 written 2).
        new("to_json", "x", static (args, _) => ToJson(args[0])),
        new("parse_json", "s", static (args, _) => ParseJson(args[0])),
        new("json_path_exists", "xs", static (args, _) => Exists(args[0], PathOrNull(args[1])), static call => PreparePath(call, PathFunction.Exists)),
        new("json_path_query", "xs", static (args, _) => Query("json_path_query", args[0], Path("json_path_query", args[1])), static call => PreparePath(call, PathFunction.Query)),
        new("json_path_query_first", "xs", static (args, _) => First(args[0], Path("json_path_query_first", args[1])), static call => PreparePath(call, PathFunction.First)),
    ];

    private enum PathFunction
    {
        Exists,
        Query,
        First,
    }

    /// <summary>A constant path is parsed here, once (a bad one is an error at its position in the SQL).</summary>
    private static ScalarBody? PreparePath(PreparedCall call, PathFunction function)
    {
        if (call.ConstantString(1) is not { } text)
        {
            return null;
        }

        JsonPath path;
        try
        {
            path = JsonPath.Parse(text);
        }
        catch (JsonPathException e)
        {
            throw call.Fail(1, e.Message);
        }

        return function switch
        {
            PathFunction.Exists => (args, _) => Exists(args[0], path),
            PathFunction.Query => (args, _) => Query("json_path_query", args[0], path),
            _ => (args, _) => First(args[0], path),
        };
    }

    /// <summary><c>to_json(x)</c>: the JSON text of any value; NaN and infinities cannot be written.</summary>
    private static Value ToJson(Value value)
    {
        if (value.IsNull)
        {
            return Value.From("null");
        }

        return GoText.Json(value) is { } json ? Value.From(json) : throw Error("to_json", $"fail to convert {Text(value)} to json");
    }

    /// <summary>
    /// <c>parse_json(s)</c>: null, or the text <c>null</c>, give null; a string (or bytes) is parsed, integers staying
    /// integers and numbers with a point or an exponent becoming floats.
    /// </summary>
    private static Value ParseJson(Value value)
    {
        switch (value.Kind)
        {
            case ValueKind.Null:
                return Value.Null;
            case ValueKind.String when value.AsString == "null":
                return Value.Null;
            case ValueKind.String:
            case ValueKind.Bytes:
                var utf8 = value.Kind == ValueKind.String ? Encoding.UTF8.GetBytes(value.AsString) : value.AsBytes;
                return TryParse(utf8, out var parsed, out var error) ? parsed : throw Error("parse_json", $"fail to parse json: {error}");
            default:
                throw Error("parse_json", $"fail to convert {Text(value)} to string");
        }
    }

    private static bool TryParse(ReadOnlySpan<byte> utf8, out Value value, out string? error)
    {
        try
        {
            value = JsonValueReader.Parse(utf8);
            error = null;
            return true;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            value = Value.Null;
            error = e.Message;
            return false;
        }
    }

    /// <summary>The path argument parsed (cached when it is not a constant); a non-string or a bad path is an error.</summary>
    private static JsonPath Path(string name, Value path)
    {
        if (path.Kind != ValueKind.String)
        {
            throw Error(name, $"invalid jsonPath, must be a string but got {Text(path)}");
        }

        try
        {
            return JsonPath.Cached(path.AsString);
        }
        catch (JsonPathException e)
        {
            throw Error(name, e.Message);
        }
    }

    /// <summary>The path argument parsed, or null when it is not a string or does not parse (json_path_exists gives false).</summary>
    private static JsonPath? PathOrNull(Value path)
    {
        if (path.Kind != ValueKind.String)
        {
            return null;
        }

        try
        {
            return JsonPath.Cached(path.AsString);
        }
        catch (JsonPathException)
        {
            return null;
        }
    }

    /// <summary>What a path runs on: an object or an array as it is, a string parsed as JSON; anything else fails.</summary>
    private static bool TryDocument(Value data, out Value document, out string? error)
    {
        switch (data.Kind)
        {
            case ValueKind.Object or ValueKind.Array:
                document = data;
                error = null;
                return true;
            case ValueKind.String:
                if (TryParse(Encoding.UTF8.GetBytes(data.AsString), out document, out _))
                {
                    error = null;
                    return true;
                }

                error = $"data '{data.AsString}' is not a valid json string";
                return false;
            case ValueKind.Null:
                document = Value.Null;
                error = "invalid data nil for jsonpath";
                return false;
            default:
                document = Value.Null;
                error = $"invalid data {Text(data)} for jsonpath";
                return false;
        }
    }

    /// <summary><c>json_path_query(x, path)</c>: a plain path's value (failing on a missing key), or the array of all matches.</summary>
    private static Value Query(string name, Value data, JsonPath path)
    {
        if (!TryDocument(data, out var document, out var error) || !path.TryEvaluate(document, out var result, out error))
        {
            throw Error(name, error!);
        }

        return result;
    }

    /// <summary><c>json_path_query_first(x, path)</c>: the first item of the query's result, which must be a non-empty array.</summary>
    private static Value First(Value data, JsonPath path)
    {
        var result = Query("json_path_query_first", data, path);
        if (result.Kind != ValueKind.Array)
        {
            throw Error("json_path_query_first", $"query result ({Text(result)}) is not an array");
        }

        var items = result.AsArray;
        return items.Length > 0 ? items[0] : throw Error("json_path_query_first", "query result ([]) is empty");
    }

    /// <summary>
    /// <c>json_path_exists(x, path)</c>: whether the path reaches something — false on any failure, on null, and on an
    /// empty array.
    /// </summary>
    private static Value Exists(Value data, JsonPath? path)
    {
        if (path is null || !TryDocument(data, out var document, out _) || !path.TryEvaluate(document, out var result, out _))
        {
            return Value.False;
        }

        return Value.From(result.Kind switch
        {
            ValueKind.Null => false,
            ValueKind.Array => result.AsArray.Length > 0,
            ValueKind.Bytes => result.AsBytes.Length > 0,
            _ => true,
        });
    }
}
