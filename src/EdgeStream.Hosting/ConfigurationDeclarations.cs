using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;

namespace EdgeStream.Hosting;

/// <summary>One stream or rule to declare at startup, with where it came from (a configuration path or "code").</summary>
internal sealed record Declaration(string Origin, string? Statement, Func<RuleDefinition>? Rule);

/// <summary>
/// Reads the <c>EdgeStream</c> configuration section: <c>Streams</c> and <c>Tables</c> (each a <c>CREATE</c>
/// statement, or eKuiper's <c>{"sql": "…"}</c>; keyed by name or in an array), <c>Rules</c> (eKuiper's rule JSON
/// shape, in an array or keyed by id), and <c>Sinks</c> (<c>Sinks:{type}:{resourceId}</c>: properties an action takes
/// with <c>"resourceId": "…"</c>, as eKuiper's sink configuration keys).
/// </summary>
internal static class ConfigurationDeclarations
{
    private static readonly string[] Known = ["Streams", "Tables", "Rules", "Sinks"];

    public static IEnumerable<Declaration> Read(IConfiguration section)
    {
        foreach (var child in section.GetChildren())
        {
            if (!Known.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                yield return new Declaration(Path(child), null, () => throw new FormatException(
                    $"unknown key `{child.Key}`; EdgeStream reads {string.Join(", ", Known)}"));
            }
        }

        foreach (var name in new[] { "Streams", "Tables" })
        {
            foreach (var entry in section.GetSection(name).GetChildren())
            {
                var statement = entry.Value ?? entry["sql"] ?? entry["Sql"];
                yield return statement is { Length: > 0 }
                    ? new Declaration(Path(entry), statement, null)
                    : new Declaration(Path(entry), null, () => throw new FormatException("a stream needs its CREATE statement, as a string or as {\"sql\": \"…\"}"));
            }
        }

        var sinks = section.GetSection("Sinks");
        foreach (var entry in section.GetSection("Rules").GetChildren())
        {
            var key = entry.Key;
            yield return new Declaration(Path(entry), null, () => RuleFrom(entry, key, sinks));
        }
    }

    private static string Path(IConfigurationSection section) => section.Path;

    private static RuleDefinition RuleFrom(IConfigurationSection entry, string key, IConfigurationSection sinks)
    {
        var json = new JsonObject();
        foreach (var child in entry.GetChildren())
        {
            json[child.Key] = child.Key switch
            {
                "options" or "triggered" => ToJson(child, typed: true),
                "actions" => Actions(child, sinks),
                _ => ToJson(child, typed: false),
            };
        }

        if (!json.ContainsKey("id") && !int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            json["id"] = key; // "Rules": { "rule1": { … } }
        }

        return RuleDefinition.FromJson(json.ToJsonString());
    }

    /// <summary>The rule's actions; an action's <c>resourceId</c> brings in the properties under <c>Sinks:{type}:{id}</c> (its own win).</summary>
    private static JsonArray Actions(IConfigurationSection actions, IConfigurationSection sinks)
    {
        var list = new JsonArray();
        foreach (var action in actions.GetChildren())
        {
            var converted = new JsonObject();
            foreach (var sink in action.GetChildren())
            {
                var properties = ToJson(sink, typed: false) as JsonObject ?? new JsonObject();
                if (properties["resourceId"]?.GetValue<string>() is { } resource)
                {
                    var shared = sinks.GetSection(sink.Key).GetSection(resource);
                    if (!shared.Exists())
                    {
                        throw new FormatException($"action `{sink.Key}` names resourceId `{resource}`, but there is no {sinks.Path}:{sink.Key}:{resource} section");
                    }

                    properties.Remove("resourceId");
                    foreach (var (name, value) in (JsonObject)ToJson(shared, typed: false)!)
                    {
                        if (!properties.ContainsKey(name))
                        {
                            properties[name] = value?.DeepClone();
                        }
                    }
                }

                converted[sink.Key] = properties;
            }

            list.Add((JsonNode)converted);
        }

        return list;
    }

    /// <summary>
    /// A configuration section as JSON: children numbered 0…n-1 make an array, other children an object. Values are
    /// strings; with <paramref name="typed"/>, <c>true</c>/<c>false</c> and numbers written canonically become JSON
    /// booleans and numbers (configuration keeps every value as text).
    /// </summary>
    internal static JsonNode? ToJson(IConfigurationSection section, bool typed)
    {
        var children = section.GetChildren().ToList();
        if (children.Count == 0)
        {
            return section.Value is not { } value ? null : typed ? Typed(value) : JsonValue.Create(value);
        }

        var indexes = children.Select(c => int.TryParse(c.Key, NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : -1).ToList();
        if (indexes.Order().SequenceEqual(Enumerable.Range(0, children.Count)))
        {
            var array = new JsonArray();
            foreach (var child in children.OrderBy(c => int.Parse(c.Key, CultureInfo.InvariantCulture)))
            {
                array.Add(ToJson(child, typed));
            }

            return array;
        }

        var obj = new JsonObject();
        foreach (var child in children)
        {
            obj[child.Key] = ToJson(child, typed);
        }

        return obj;
    }

    private static JsonValue Typed(string value)
    {
        if (bool.TryParse(value, out var flag))
        {
            return JsonValue.Create(flag); // the JSON provider keeps `true` as "True"
        }

        if (long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer)
            && integer.ToString(CultureInfo.InvariantCulture) == value)
        {
            return JsonValue.Create(integer);
        }

        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number)
            && number.ToString("R", CultureInfo.InvariantCulture) == value)
        {
            return JsonValue.Create(number);
        }

        return JsonValue.Create(value);
    }
}
