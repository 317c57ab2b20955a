using System.Globalization;
using System.Text.Json;
using EdgeStream.Sql;

namespace EdgeStream;

/// <summary>Reads eKuiper's rule JSON into a <see cref="RuleDefinition"/>.</summary>
internal static class RuleJson
{
    internal static readonly string[] TopLevel = ["id", "name", "sql", "graph", "actions", "options", "triggered", "tags", "temp", "version"];

    /// <summary>
    /// Every rule option eKuiper documents, plus EdgeStream's <c>bufferFullPolicy</c> and <c>watermarkIdleTimeout</c>;
    /// the first three lines are applied, the rest accepted and reported as not applied yet.
    /// </summary>
    internal static readonly string[] KnownOptions =
    [
        "sendError", "sendNilField", "bufferLength", "concurrency", "restartStrategy", "bufferFullPolicy", "sendMetaToSink",
        "isEventTime", "lateTolerance", "watermarkIdleTimeout", "qos", "checkpointInterval",
        "cron", "duration", "cronDatetimeRange", "debug", "logFilename", "enableRuleTracer", "planOptimizeStrategy",
        "disableBufferFullDiscard", "enableSaveStateBeforeStop", "forceExitTimeout", "notifySub",
    ];

    public static RuleDefinition Parse(string json)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new FormatException($"rule JSON is not valid JSON: {e.Message}", e);
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException("rule JSON must be an object with `id`, `sql` and `actions`");
            }

            foreach (var property in root.EnumerateObject())
            {
                Check(property.Name, TopLevel, "rule property");
            }

            if (root.TryGetProperty("graph", out _))
            {
                throw new FormatException("graph rules are not supported yet; give `sql`");
            }

            var rule = new RuleDefinition(RequiredString(root, "id"), RequiredString(root, "sql"));
            if (root.TryGetProperty("triggered", out var triggered))
            {
                rule.Triggered = triggered.ValueKind == JsonValueKind.True || (triggered.ValueKind != JsonValueKind.False
                    ? throw new FormatException("`triggered` must be true or false")
                    : false);
            }

            if (root.TryGetProperty("actions", out var actions))
            {
                if (actions.ValueKind != JsonValueKind.Array)
                {
                    throw new FormatException("`actions` must be an array of {\"sinkType\": {properties}} objects");
                }

                foreach (var action in actions.EnumerateArray())
                {
                    foreach (var sink in action.EnumerateObject())
                    {
                        rule.Actions.Add(new RuleAction(sink.Name, Properties(sink)));
                    }
                }
            }

            if (root.TryGetProperty("options", out var options))
            {
                ReadOptions(options, rule);
            }

            return rule;
        }
    }

    /// <summary>
    /// The rule JSON <see cref="Parse"/> reads back into an equal definition: id, SQL, actions with their properties
    /// (as strings, as they were read), <paramref name="triggered"/>, and every option this version applies.
    /// </summary>
    public static string Write(RuleDefinition rule, bool triggered)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("id", rule.Id);
            json.WriteString("sql", rule.Sql);
            json.WriteStartArray("actions");
            foreach (var action in rule.Actions)
            {
                json.WriteStartObject();
                json.WriteStartObject(action.SinkType);
                foreach (var (name, value) in action.Properties)
                {
                    json.WriteString(name, value);
                }

                json.WriteEndObject();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteBoolean("triggered", triggered);
            var o = rule.Options;
            json.WriteStartObject("options");
            json.WriteBoolean("sendError", o.SendError);
            json.WriteBoolean("sendNilField", o.SendNilField);
            json.WriteBoolean("sendMetaToSink", o.SendMetaToSink);
            json.WriteNumber("bufferLength", o.BufferLength);
            json.WriteNumber("concurrency", o.Concurrency);
            json.WriteString("bufferFullPolicy", o.DropOldestWhenFull ? "dropOldest" : "block");
            json.WriteBoolean("isEventTime", o.IsEventTime);
            json.WriteNumber("lateTolerance", o.LateTolerance.TotalMilliseconds);
            if (o.WatermarkIdleTimeout is { } idle)
            {
                json.WriteNumber("watermarkIdleTimeout", idle.TotalMilliseconds);
            }

            json.WriteNumber("qos", o.Qos);
            json.WriteNumber("checkpointInterval", o.CheckpointInterval.TotalMilliseconds);
            json.WriteStartObject("restartStrategy");
            json.WriteNumber("attempts", o.RestartStrategy.Attempts);
            json.WriteNumber("delay", o.RestartStrategy.Delay.TotalMilliseconds);
            json.WriteNumber("multiplier", o.RestartStrategy.Multiplier);
            json.WriteNumber("maxDelay", o.RestartStrategy.MaxDelay.TotalMilliseconds);
            json.WriteNumber("jitterFactor", o.RestartStrategy.JitterFactor);
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static string RequiredString(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : throw new FormatException($"rule JSON needs a non-empty string `{name}`");

    private static Dictionary<string, string> Properties(JsonProperty sink)
    {
        if (sink.Value.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"the properties of action `{sink.Name}` must be an object");
        }

        var properties = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in sink.Value.EnumerateObject())
        {
            properties[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
        }

        return properties;
    }

    private static void ReadOptions(JsonElement options, RuleDefinition rule)
    {
        if (options.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("`options` must be an object");
        }

        var unsupported = new List<string>();
        foreach (var option in options.EnumerateObject())
        {
            Check(option.Name, KnownOptions, "rule option");
            switch (option.Name)
            {
                case "sendError":
                    rule.Options.SendError = Bool(option);
                    break;
                case "sendNilField":
                    rule.Options.SendNilField = Bool(option);
                    break;
                case "sendMetaToSink":
                    rule.Options.SendMetaToSink = Bool(option);
                    break;
                case "bufferLength":
                    rule.Options.BufferLength = Int32(option.Value, out var length) && length > 0
                        ? length
                        : throw new FormatException("option `bufferLength` must be a positive integer");
                    break;
                case "concurrency":
                    rule.Options.Concurrency = Int32(option.Value, out var concurrency) && concurrency is > 0 and <= 1024
                        ? concurrency
                        : throw new FormatException("option `concurrency` must be an integer from 1 to 1024");
                    break;
                case "bufferFullPolicy":
                    rule.Options.DropOldestWhenFull = (option.Value.ValueKind == JsonValueKind.String ? option.Value.GetString() : null) switch
                    {
                        "block" => false,
                        "dropOldest" => true,
                        _ => throw new FormatException("option `bufferFullPolicy` must be \"block\" or \"dropOldest\""),
                    };
                    break;
                case "restartStrategy":
                    ReadRestartStrategy(option.Value, rule.Options.RestartStrategy);
                    break;
                case "isEventTime":
                    rule.Options.IsEventTime = Bool(option);
                    break;
                case "lateTolerance":
                    rule.Options.LateTolerance = Milliseconds(option);
                    break;
                case "watermarkIdleTimeout":
                    rule.Options.WatermarkIdleTimeout = Milliseconds(option) is { Ticks: > 0 } idle
                        ? idle
                        : throw new FormatException("option `watermarkIdleTimeout` must be a positive number of milliseconds");
                    break;
                case "qos":
                    rule.Options.Qos = Int32(option.Value, out var qos) && qos is >= 0 and <= 2
                        ? qos
                        : throw new FormatException("option `qos` must be 0 (at most once), 1 (at least once) or 2 (exactly once)");
                    break;
                case "checkpointInterval":
                    rule.Options.CheckpointInterval = Milliseconds(option) is { Ticks: > 0 } interval
                        ? interval
                        : throw new FormatException("option `checkpointInterval` must be a positive duration");
                    break;
                default:
                    unsupported.Add(option.Name);
                    break;
            }
        }

        rule.UnsupportedOptions = unsupported;
    }

    internal static readonly string[] RestartOptions = ["attempts", "delay", "multiplier", "maxDelay", "jitterFactor"];

    /// <summary>eKuiper's restart strategy: delays in milliseconds.</summary>
    private static void ReadRestartStrategy(JsonElement value, RestartStrategy strategy)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("option `restartStrategy` must be an object");
        }

        foreach (var field in value.EnumerateObject())
        {
            Check(field.Name, RestartOptions, "restartStrategy field");
            if (field.Value.ValueKind != JsonValueKind.Number || !field.Value.TryGetDouble(out var number) || number < 0)
            {
                throw new FormatException($"`restartStrategy.{field.Name}` must be a number of at least 0");
            }

            switch (field.Name)
            {
                case "attempts":
                    strategy.Attempts = (int)Math.Min(number, int.MaxValue);
                    break;
                case "delay":
                    strategy.Delay = TimeSpan.FromMilliseconds(number);
                    break;
                case "multiplier":
                    strategy.Multiplier = number;
                    break;
                case "maxDelay":
                    strategy.MaxDelay = TimeSpan.FromMilliseconds(number);
                    break;
                default:
                    strategy.JitterFactor = Math.Min(number, 1);
                    break;
            }
        }
    }

    /// <summary>An integer option's value: false for anything but a JSON number that fits (reading a string as a number would throw).</summary>
    private static bool Int32(JsonElement value, out int number)
    {
        number = 0;
        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out number);
    }

    private static bool Bool(JsonProperty option) => option.Value.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw new FormatException($"option `{option.Name}` must be true or false"),
    };

    /// <summary>A duration as eKuiper takes it: a number of milliseconds, or a Go duration string (<c>"1s"</c>, <c>"1m30s"</c>, <c>"250ms"</c>).</summary>
    private static TimeSpan Milliseconds(JsonProperty option)
    {
        if (option.Value.ValueKind == JsonValueKind.Number && option.Value.TryGetDouble(out var ms) && ms >= 0 && ms <= TimeSpan.MaxValue.TotalMilliseconds)
        {
            return TimeSpan.FromMilliseconds(ms);
        }

        if (option.Value.ValueKind == JsonValueKind.String && GoDuration(option.Value.GetString()!) is { } parsed)
        {
            return parsed;
        }

        throw new FormatException($"option `{option.Name}` must be a number of milliseconds of at least 0 or a duration such as \"1s\" or \"500ms\"");
    }

    private static TimeSpan? GoDuration(string text)
    {
        var match = System.Text.RegularExpressions.Regex.Match(text, @"^(?:(\d+(?:\.\d+)?)(h|m|s|ms|us|µs|ns))+$", System.Text.RegularExpressions.RegexOptions.CultureInvariant);
        if (!match.Success)
        {
            return null;
        }

        double total = 0;
        for (var i = 0; i < match.Groups[1].Captures.Count; i++)
        {
            var amount = double.Parse(match.Groups[1].Captures[i].Value, CultureInfo.InvariantCulture);
            total += amount * match.Groups[2].Captures[i].Value switch
            {
                "h" => 3_600_000,
                "m" => 60_000,
                "s" => 1_000,
                "ms" => 1,
                "us" or "µs" => 0.001,
                _ => 0.000_001,
            };
        }

        return total <= TimeSpan.MaxValue.TotalMilliseconds ? TimeSpan.FromMilliseconds(total) : null;
    }

    private static void Check(string name, string[] known, string what)
    {
        if (!known.Contains(name, StringComparer.Ordinal))
        {
            var closest = SqlNames.Closest(name, known);
            throw new FormatException(string.Create(CultureInfo.InvariantCulture,
                $"unknown {what} `{name}`{(closest is null ? string.Empty : $"; did you mean `{closest}`?")}"));
        }
    }
}
