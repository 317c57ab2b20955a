using EdgeStream.Mqtt;
using MQTTnet;

namespace EdgeStream.Sinks.Mqtt;

/// <summary>
/// Publishes each outgoing message (encoded by the engine with the action's <c>format</c> or <c>dataTemplate</c>) to
/// the action's topic, rendered per message when it holds a template. A batch is published as a pipeline and
/// returns once the broker acknowledged every message (at QoS 1 and 2). The connection is supervised: while it is
/// down, writes wait for it and then fail as transient, so the engine's runner keeps the batch and everything behind
/// it, in order, and publishes once the broker is back. Bad credentials or an unauthorized client fail the rule's
/// start.
/// </summary>
internal sealed class MqttSink : IPayloadSink, IConnectorMetrics
{
    /// <summary>How long one write waits for a lost connection before the runner backs off and tries again.</summary>
    private static readonly TimeSpan ReconnectWait = TimeSpan.FromSeconds(30);

    private readonly SinkContext context;
    private readonly MqttSettings settings;
    private readonly SinkTemplate topic;
    private readonly bool retained;
    private MqttConnection? connection;
    private long published;

    public MqttSink(SinkContext context, MqttSinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        this.context = context;
        settings = MqttSettings.From(options, MqttClientIds.For("sink", context.RuleId + "/" + options.Topic));
        topic = SinkContext.CompileTemplate(options.Topic);
        if (!topic.IsDynamic)
        {
            CheckTopic(options.Topic);
        }

        retained = options.Retained;
    }

    public void AddMetrics(IDictionary<string, long> metrics)
    {
        if (Volatile.Read(ref connection) is { } current)
        {
            current.AddMetrics(metrics);
        }

        metrics["messages_out_total"] = Interlocked.Read(ref published);
    }

    public async ValueTask OpenAsync(CancellationToken cancellationToken)
    {
        var current = new MqttConnection(settings, null, null, context.ReportError, context.Logger, context.TimeProvider);
        try
        {
            await current.ConnectFirstAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (MqttRefusedException e)
        {
            await current.DisposeAsync().ConfigureAwait(false);
            throw new SinkException(e.Message, isTransient: false, e);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Unreachable for now: the connection keeps trying in the background and writes wait for it.
        }
        catch
        {
            await current.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        Volatile.Write(ref connection, current);
    }

    public ValueTask WritePayloadsAsync(IReadOnlyList<ReadOnlyMemory<byte>> payloads, CancellationToken cancellationToken) =>
        throw new NotSupportedException("the engine writes messages");

    public async ValueTask WriteMessagesAsync(IReadOnlyList<SinkMessage> messages, CancellationToken cancellationToken)
    {
        var current = connection ?? throw new InvalidOperationException("the sink is not open");
        var outgoing = new MqttApplicationMessage[messages.Count];
        for (var i = 0; i < messages.Count; i++)
        {
            var name = topic.Render(messages[i]); // a FormatException: this batch is bad, not the broker
            if (topic.IsDynamic)
            {
                CheckTopic(name);
            }

            outgoing[i] = new MqttApplicationMessageBuilder()
                .WithTopic(name)
                .WithPayload(messages[i].Payload.ToArray())
                .WithQualityOfServiceLevel(settings.Qos)
                .WithRetainFlag(retained)
                .Build();
        }

        if (!current.IsConnected && !await current.WaitConnectedAsync(ReconnectWait, cancellationToken).ConfigureAwait(false))
        {
            throw new SinkException($"mqtt {settings.Endpoint}: not connected", isTransient: true);
        }

        // Published as a pipeline, in order; the batch is done when every message is acknowledged.
        var pending = new Task<MqttClientPublishResult>[outgoing.Length];
        for (var i = 0; i < outgoing.Length; i++)
        {
            pending[i] = current.Client.PublishAsync(outgoing[i], cancellationToken);
        }

        try
        {
            await Task.WhenAll(pending).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            // The connection broke under the batch: it is published again once the connection is back (a message the
            // broker had already taken then comes twice: at least once).
            throw new SinkException($"mqtt {settings.Endpoint}: publishing failed, will retry: {MqttConnection.Describe(e)}", isTransient: true, e);
        }

        foreach (var task in pending)
        {
            var result = task.Result;
            if (!result.IsSuccess && result.ReasonCode != MqttClientPublishReasonCode.NoMatchingSubscribers)
            {
                throw new SinkException($"mqtt {settings.Endpoint}: the broker refused a message ({result.ReasonCode}) {result.ReasonString}".TrimEnd(), isTransient: false);
            }
        }

        Interlocked.Add(ref published, outgoing.Length);
    }

    /// <summary>A topic to publish to: not empty, no wildcards, no NUL, at most 65,535 bytes.</summary>
    private static void CheckTopic(string name)
    {
        if (name.Length == 0 || name.AsSpan().IndexOfAny('+', '#', '\0') >= 0 || System.Text.Encoding.UTF8.GetByteCount(name) > ushort.MaxValue)
        {
            throw new FormatException($"`{name}` cannot be published to: a topic is not empty and has no wildcards (+, #)");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref connection, null) is { } current)
        {
            await current.DisposeAsync().ConfigureAwait(false);
        }
    }
}
