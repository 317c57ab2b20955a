using System.Text.Json;
using EdgeStream.Mqtt;

namespace EdgeStream.Cli;

/// <summary>
/// <c>edgestream run --config FILE.json</c>: connector configuration. So far one section,
/// <c>{"mqtt": {"default": {"server": "tcp://127.0.0.1:1883"}, "plant": {"server": "…", "username": "…", "password": "…"}}}</c>:
/// MQTT connection profiles with eKuiper's property names, which streams pick with <c>CONF_KEY</c> (one without
/// CONF_KEY takes <c>default</c>).
/// </summary>
internal static class CliConfig
{
    private static readonly string[] Sections = ["mqtt"];

    /// <summary>Reads and checks the file's MQTT profiles (none: an empty set, every stream on <c>tcp://127.0.0.1:1883</c>).</summary>
    /// <exception cref="FormatException">The file is not shaped as above, names an unknown section or property, or a
    /// profile's settings are invalid; the message names the section, profile and property, never a value of a password.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static MqttProfiles LoadMqttProfiles(string path)
    {
        var profiles = new MqttProfiles();
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new FormatException($"malformed JSON: {e.Message}", e);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException("the configuration must be a JSON object, such as {\"mqtt\": {\"default\": {\"server\": \"tcp://127.0.0.1:1883\"}}}");
            }

            foreach (var section in document.RootElement.EnumerateObject())
            {
                if (!Sections.Contains(section.Name, StringComparer.Ordinal))
                {
                    throw new FormatException($"unknown section `{section.Name}`; the configuration has: {string.Join(", ", Sections)}");
                }

                profiles.Load(section.Value);
            }
        }

        // The settings are checked now, as a rule's start would check them: a bad server URL or QoS is an error here.
        foreach (var name in profiles.Names)
        {
            try
            {
                _ = MqttSettings.From(profiles.Resolve(name), "edgestream-cli");
            }
            catch (ArgumentException e)
            {
                throw new FormatException($"MQTT profile `{name}`: {e.Message}", e);
            }
        }

        return profiles;
    }
}
