using System.Globalization;
using System.Text.Json;

namespace EdgeStream.Mqtt;

/// <summary>
/// Named MQTT connection settings, as eKuiper's <c>CONF_KEY</c> picks them: a stream declared
/// <c>WITH (TYPE="mqtt", CONF_KEY="plant")</c> connects with the profile <c>plant</c>, and one without CONF_KEY with
/// <c>default</c> (or, when no default is set, with the defaults of <see cref="MqttConnectionOptions"/>:
/// <c>tcp://127.0.0.1:1883</c>). Fill it in code, through DI, or from JSON (<see cref="LoadJson"/>), as
/// <c>edgestream run --config FILE.json</c> does.
/// </summary>
/// <remarks>Thread-safe. A connection takes a copy of its profile when it starts; later changes apply to the next start.</remarks>
public sealed class MqttProfiles
{
    /// <summary>The profile streams without <c>CONF_KEY</c> use.</summary>
    public const string DefaultName = "default";

    private readonly Lock gate = new();
    private readonly Dictionary<string, MqttConnectionOptions> profiles = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The names of the profiles set.</summary>
    public IReadOnlyList<string> Names
    {
        get
        {
            lock (gate)
            {
                return profiles.Keys.Order(StringComparer.Ordinal).ToArray();
            }
        }
    }

    /// <summary>Sets (or replaces) a profile.</summary>
    /// <param name="name">The name a <c>CONF_KEY</c> uses (case-insensitive).</param>
    /// <param name="options">The settings; a copy is kept.</param>
    /// <returns>These profiles.</returns>
    public MqttProfiles Set(string name, MqttConnectionOptions options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(options);
        lock (gate)
        {
            profiles[name] = options.Clone();
        }

        return this;
    }

    /// <summary>Sets (or replaces) a profile, starting from the defaults.</summary>
    /// <param name="name">The name a <c>CONF_KEY</c> uses (case-insensitive).</param>
    /// <param name="configure">Fills in the settings.</param>
    /// <returns>These profiles.</returns>
    public MqttProfiles Set(string name, Action<MqttConnectionOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var options = new MqttConnectionOptions();
        configure(options);
        return Set(name, options);
    }

    /// <summary>
    /// Reads profiles from JSON shaped as eKuiper's <c>mqtt_source.yaml</c>:
    /// <c>{"default": {"server": "tcp://broker:1883", "qos": 1}, "plant": {"server": "ssl://plant:8883", "username": "edge", "password": "…"}}</c>.
    /// Property names are eKuiper's (any case); values may be strings, numbers or booleans.
    /// </summary>
    /// <param name="json">The JSON object.</param>
    /// <exception cref="FormatException">The JSON is malformed, not shaped as above, or names an unknown property (the message says which; never a value).</exception>
    public void LoadJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            using var document = JsonDocument.Parse(json);
            Load(document.RootElement);
        }
        catch (JsonException e)
        {
            throw new FormatException($"MQTT profiles: {e.Message}", e);
        }
    }

    /// <summary>Reads profiles from a parsed JSON object (see <see cref="LoadJson"/>).</summary>
    /// <param name="root">The object of profiles.</param>
    /// <exception cref="FormatException">Not shaped as <see cref="LoadJson"/> describes.</exception>
    public void Load(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("MQTT profiles: expected an object of named profiles, such as {\"default\": {\"server\": \"tcp://127.0.0.1:1883\"}}");
        }

        foreach (var profile in root.EnumerateObject())
        {
            if (profile.Value.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException($"MQTT profile `{profile.Name}`: expected an object of properties");
            }

            var options = new MqttConnectionOptions();
            foreach (var property in profile.Value.EnumerateObject())
            {
                var text = property.Value.ValueKind switch
                {
                    JsonValueKind.String => property.Value.GetString()!,
                    JsonValueKind.Number => property.Value.GetRawText(),
                    JsonValueKind.True => "true",
                    JsonValueKind.False => "false",
                    _ => throw new FormatException($"MQTT profile `{profile.Name}`: `{property.Name}` must be a string, a number or a boolean"),
                };
                try
                {
                    options.Set(property.Name, text);
                }
                catch (ArgumentException e)
                {
                    throw new FormatException($"MQTT profile `{profile.Name}`: {e.Message}", e);
                }
            }

            Set(profile.Name, options);
        }
    }

    /// <summary>The settings a stream with <paramref name="confKey"/> (null or empty: none) connects with, as a copy.</summary>
    /// <exception cref="ArgumentException">No profile has that name (the message lists those there are).</exception>
    internal MqttConnectionOptions Resolve(string? confKey)
    {
        lock (gate)
        {
            if (string.IsNullOrEmpty(confKey))
            {
                return profiles.TryGetValue(DefaultName, out var fallback) ? fallback.Clone() : new MqttConnectionOptions();
            }

            return profiles.TryGetValue(confKey, out var found)
                ? found.Clone()
                : throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"no MQTT profile `{confKey}` (CONF_KEY); the profiles are: {(profiles.Count == 0 ? "none" : string.Join(", ", profiles.Keys.Order(StringComparer.Ordinal)))}"));
        }
    }
}
