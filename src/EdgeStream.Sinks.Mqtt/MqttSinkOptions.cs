using EdgeStream.Mqtt;

namespace EdgeStream.Sinks.Mqtt;

/// <summary>
/// The properties of an <c>mqtt</c> rule action, with eKuiper's names: the connection's (<c>server</c>,
/// <c>clientid</c>, <c>username</c>, <c>password</c>, <c>protocolVersion</c>, <c>qos</c>, TLS files,
/// <c>insecureSkipVerify</c>; see <see cref="MqttConnectionOptions"/>), and <c>topic</c> and <c>retained</c>. The
/// common sink properties (<c>format</c>, <c>dataTemplate</c>, <c>sendSingle</c>, <c>fields</c>, <c>batchSize</c>,
/// <c>bufferLength</c>…) are applied by the engine.
/// </summary>
public sealed class MqttSinkOptions : MqttConnectionOptions
{
    /// <summary>
    /// The topic to publish to. It may use eKuiper's dynamic properties to choose a topic per message:
    /// <c>devices/{{.deviceId}}/alerts</c> (with <c>sendSingle</c>, the template sees the row).
    /// </summary>
    public required string Topic { get; set; }

    /// <summary>Whether the broker keeps the last message of the topic for future subscribers.</summary>
    public bool Retained { get; set; }
}
