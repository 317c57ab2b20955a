using System.Buffers;
using System.Threading.Channels;
using EdgeStream.Mqtt;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgeStream.Sources.Mqtt;

/// <summary>
/// A stream's MQTT subscription: <c>DATASOURCE</c> is the topic filter (wildcards and <c>$share/group/filter</c>
/// shared subscriptions allowed), <c>CONF_KEY</c> the connection profile. Each message goes to the rules with its
/// metadata (<c>topic</c>, <c>messageid</c>, <c>qos</c>, <c>retained</c>; readable with <c>meta(topic)</c> or
/// <c>mqtt(topic)</c>) and, at QoS 1 and 2, is acknowledged only once every reading rule holds it: a message taken
/// but not acknowledged when the connection drops is delivered again by the broker, so none is lost (it may come
/// twice). The connection is supervised: lost, it is re-established with backoff and the subscription renewed.
/// For a rule that takes checkpoints (<c>qos</c> 1 or 2 with a state store) a QoS 1 or 2 message is acknowledged only
/// once a checkpoint covering it is saved (<see cref="ICheckpointedSource"/>): with a persistent session
/// (<c>cleanSession: false</c>) the broker delivers again, after a crash, every message whose effect the rule's
/// restored state lacks. The source asks for a checkpoint whenever it holds <see cref="HeldForCheckpoint"/> of them,
/// well inside a broker's in-flight window.
/// </summary>
internal sealed class MqttSource(SourceContext context, MqttProfiles profiles) : ICheckpointedSource, IConnectorMetrics
{
    /// <summary>How many unacknowledged messages make the source ask for a checkpoint (Mosquitto lets 20 be in flight).</summary>
    internal const int HeldForCheckpoint = 10;

    private readonly System.Collections.Concurrent.ConcurrentQueue<(long Sequence, MqttApplicationMessageReceivedEventArgs Message)> held = new();
    private readonly string instance = Guid.NewGuid().ToString("N")[..12] + ":"; // positions name their instance
    private long sequence;
    private long acknowledgedAtCheckpoint;

    /// <summary>Messages received and not yet handed to the rules (unacknowledged at QoS ≥ 1, so the broker's in-flight window bounds them).</summary>
    private const int InboxCapacity = 256;

    private MqttConnection? connection;
    private long received;
    private long dropped;

    public void AddMetrics(IDictionary<string, long> metrics)
    {
        if (Volatile.Read(ref connection) is { } current)
        {
            current.AddMetrics(metrics);
        }

        metrics["messages_in_total"] = Interlocked.Read(ref received);
        metrics["dropped_total"] = Interlocked.Read(ref dropped);
        metrics["held_for_checkpoint"] = held.Count;
        metrics["acknowledged_at_checkpoint_total"] = Interlocked.Read(ref acknowledgedAtCheckpoint);
    }

    /// <summary>
    /// Checks a stream's options when a rule reading it is created: a topic filter MQTT accepts, a known profile
    /// (<c>CONF_KEY</c>) and valid connection settings.
    /// </summary>
    /// <exception cref="ArgumentException">What is wrong (never a password).</exception>
    public static void Validate(SourceContext context, MqttProfiles profiles) => Settings(context, profiles);

    private static MqttSettings Settings(SourceContext context, MqttProfiles profiles)
    {
        var topic = context.DataSource;
        if (topic.Length == 0)
        {
            throw new ArgumentException("an mqtt stream needs DATASOURCE, the topic filter to subscribe to");
        }

        var levels = topic.Split('/');
        for (var i = 0; i < levels.Length; i++)
        {
            var level = levels[i];
            if ((level.Contains('#', StringComparison.Ordinal) && (level != "#" || i != levels.Length - 1))
                || (level.Contains('+', StringComparison.Ordinal) && level != "+"))
            {
                throw new ArgumentException($"DATASOURCE `{topic}` is not an MQTT topic filter: `+` must be a whole level and `#` the whole last one");
            }
        }

        var profile = profiles.Resolve(context.Options.TryGetValue("CONF_KEY", out var key) ? key : null);
        // One session per reader: the stream's one instance when SHARED, else each rule's own; a new topic filter starts a new session.
        var reader = context.RuleId is null ? context.StreamName : context.StreamName + "/" + context.RuleId;
        return MqttSettings.From(profile, MqttClientIds.For("source", reader, topic));
    }

    public async Task RunAsync(ISourceWriter writer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var topic = context.DataSource;
        var settings = Settings(context, profiles);
        var inbox = Channel.CreateBounded<MqttApplicationMessageReceivedEventArgs>(new BoundedChannelOptions(InboxCapacity)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });

        var current = new MqttConnection(
            settings,
            (client, token) => SubscribeAsync(client, topic, settings.Qos, token),
            e =>
            {
                // Acknowledged by hand, after the rules took it (QoS 0 has nothing to acknowledge).
                e.AutoAcknowledge = e.ApplicationMessage.QualityOfServiceLevel == MqttQualityOfServiceLevel.AtMostOnce;
                return inbox.Writer.WriteAsync(e, cancellationToken).AsTask();
            },
            writer.ReportError,
            context.Logger,
            context.TimeProvider);
        await using var scope = current.ConfigureAwait(false);
        Volatile.Write(ref connection, current);
        try
        {
            try
            {
                await current.ConnectFirstAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (MqttRefusedException)
            {
                throw; // the engine reports it and tries a new instance after its backoff
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                writer.ReportError($"mqtt {settings.Endpoint}: could not connect, retrying: {MqttConnection.Describe(e)}");
            }

            await foreach (var message in inbox.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                await TakeAsync(writer, message, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            Volatile.Write(ref connection, null);
            while (inbox.Reader.TryRead(out var left))
            {
                // Not acknowledged: the broker delivers QoS 1 and 2 messages again. QoS 0 ones are gone.
                if (left.AutoAcknowledge)
                {
                    Interlocked.Increment(ref dropped);
                }
            }
        }
    }

    private async Task TakeAsync(ISourceWriter writer, MqttApplicationMessageReceivedEventArgs received, CancellationToken cancellationToken)
    {
        var message = received.ApplicationMessage;
        var metadata = new Dictionary<string, object?>(4, StringComparer.Ordinal)
        {
            ["topic"] = message.Topic,
            ["messageid"] = received.PacketIdentifier.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["qos"] = (long)message.QualityOfServiceLevel,
            ["retained"] = message.Retain,
        };
        if (!received.AutoAcknowledge && context.Checkpointed)
        {
            // Held until a checkpoint covers it; its position is its place in this instance's sequence.
            var at = ++sequence;
            await writer.WritePayloadAsync(message.Payload.ToArray(), metadata, instance + at.ToString(System.Globalization.CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref this.received);
            held.Enqueue((at, received));
            if (held.Count >= HeldForCheckpoint)
            {
                writer.RequestCheckpoint();
            }

            return;
        }

        await writer.WritePayloadAsync(message.Payload.ToArray(), metadata, cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref this.received);
        if (!received.AutoAcknowledge)
        {
            try
            {
                await received.AcknowledgeAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // The connection it came on is gone: the broker will deliver it again on the next one.
                writer.ReportError($"mqtt: could not acknowledge message {received.PacketIdentifier} on `{message.Topic}`, it will come again: {MqttConnection.Describe(e)}");
            }
        }
    }

    private static async Task SubscribeAsync(IMqttClient client, string topic, MqttQualityOfServiceLevel qos, CancellationToken cancellationToken)
    {
        var result = await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(topic, qos).Build(), cancellationToken).ConfigureAwait(false);
        foreach (var item in result.Items)
        {
            if (item.ResultCode is not (MqttClientSubscribeResultCode.GrantedQoS0 or MqttClientSubscribeResultCode.GrantedQoS1 or MqttClientSubscribeResultCode.GrantedQoS2))
            {
                throw new MqttRefusedException($"mqtt: the broker refused the subscription to `{topic}`: {item.ResultCode}", null);
            }
        }
    }

    /// <summary>Acknowledges every held message up to the checkpoint's position (this instance's sequence number).</summary>
    public async Task CommitAsync(string position, CancellationToken cancellationToken)
    {
        if (!position.StartsWith(instance, StringComparison.Ordinal)
            || !long.TryParse(position.AsSpan(instance.Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var upTo))
        {
            return; // an earlier instance's position: its messages went with its connection, the broker sends them again
        }

        while (held.TryPeek(out var next) && next.Sequence <= upTo)
        {
            held.TryDequeue(out _);
            try
            {
                await next.Message.AcknowledgeAsync(cancellationToken).ConfigureAwait(false);
                Interlocked.Increment(ref acknowledgedAtCheckpoint);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // The connection it came on is gone: the broker delivers it again (at least once: the state may have it).
                context.Logger.LogAcknowledgeFailed(next.Message.PacketIdentifier, MqttConnection.Describe(e));
            }
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

internal static partial class MqttSourceLog
{
    [Microsoft.Extensions.Logging.LoggerMessage(EventId = 7101, Level = Microsoft.Extensions.Logging.LogLevel.Warning, Message = "mqtt source: could not acknowledge message {PacketId} at a checkpoint, it will come again: {Reason}")]
    public static partial void LogAcknowledgeFailed(this Microsoft.Extensions.Logging.ILogger logger, ushort packetId, string reason);
}
