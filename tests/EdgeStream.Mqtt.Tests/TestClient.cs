using System.Threading.Channels;
using EdgeStream.TestServers;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace EdgeStream.Mqtt.Tests;

/// <summary>
/// A raw MQTTnet 5 client for tests: every message it receives goes to a queue that <see cref="NextAsync"/> reads.
/// With <see cref="AutoAcknowledge"/> false it leaves acknowledging to the test (<see cref="MqttApplicationMessageReceivedEventArgs.AcknowledgeAsync"/>).
/// </summary>
internal sealed class TestClient : IAsyncDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    private readonly Channel<MqttApplicationMessageReceivedEventArgs> received = Channel.CreateUnbounded<MqttApplicationMessageReceivedEventArgs>();

    public TestClient(bool autoAcknowledge = true)
    {
        AutoAcknowledge = autoAcknowledge;
        Client = new MqttClientFactory().CreateMqttClient();
        Client.ApplicationMessageReceivedAsync += e =>
        {
            e.AutoAcknowledge = AutoAcknowledge;
            received.Writer.TryWrite(e);
            return Task.CompletedTask;
        };
    }

    public IMqttClient Client { get; }

    public bool AutoAcknowledge { get; set; }

    /// <summary>Options for a client of the test broker's <paramref name="port"/> (unique client id unless given).</summary>
    public static MqttClientOptionsBuilder Options(int port, MqttProtocolVersion version = MqttProtocolVersion.V500, string? clientId = null) =>
        new MqttClientOptionsBuilder()
            .WithTcpServer(Mosquitto.Host, port)
            .WithProtocolVersion(version)
            .WithClientId(clientId ?? "test-" + Guid.NewGuid().ToString("N")[..12])
            .WithTimeout(TimeSpan.FromSeconds(10));

    /// <summary>
    /// Options of a persistent session: clean session false for MQTT 3.1.1; for MQTT 5 clean start false and a session
    /// expiry of an hour (with expiry 0, the MQTT 5 default, the session ends when the connection does).
    /// </summary>
    public static MqttClientOptionsBuilder PersistentOptions(int port, MqttProtocolVersion version, string clientId)
    {
        var options = Options(port, version, clientId);
        return version == MqttProtocolVersion.V500 ? options.WithCleanStart(false).WithSessionExpiryInterval(3600) : options.WithCleanSession(false);
    }

    public static async Task<TestClient> ConnectAsync(MqttClientOptions options, bool autoAcknowledge = true)
    {
        var client = new TestClient(autoAcknowledge);
        var result = await client.ConnectAsync(options);
        if (result.ResultCode != MqttClientConnectResultCode.Success)
        {
            await client.DisposeAsync();
            Assert.Fail($"connecting to {options.ChannelOptions} was refused: {result.ResultCode} {result.ReasonString}");
        }

        return client;
    }

    public async Task<MqttClientConnectResult> ConnectAsync(MqttClientOptions options)
    {
        using var timeout = new CancellationTokenSource(Patience);
        return await Client.ConnectAsync(options, timeout.Token);
    }

    public async Task SubscribeAsync(string topic, MqttQualityOfServiceLevel qos)
    {
        using var timeout = new CancellationTokenSource(Patience);
        var result = await Client.SubscribeAsync(topic, qos, timeout.Token);
        var code = result.Items.Single().ResultCode;
        Assert.That((int)code, Is.EqualTo((int)qos), $"SUBACK for {topic}: {code}");
    }

    public async Task<MqttClientPublishResult> PublishAsync(string topic, string payload, MqttQualityOfServiceLevel qos)
    {
        using var timeout = new CancellationTokenSource(Patience);
        var result = await Client.PublishStringAsync(topic, payload, qos, retain: false, timeout.Token);
        Assert.That(result.IsSuccess, $"publishing to {topic}: {result.ReasonCode} {result.ReasonString}");
        return result;
    }

    /// <summary>The next message received; fails the test when none comes within <see cref="Patience"/>.</summary>
    public async Task<MqttApplicationMessageReceivedEventArgs> NextAsync()
    {
        using var timeout = new CancellationTokenSource(Patience);
        try
        {
            return await received.Reader.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"no message came within {Patience.TotalSeconds} s");
            throw;
        }
    }

    /// <summary>The payloads of the next <paramref name="count"/> messages, in the order they came.</summary>
    public async Task<List<string>> PayloadsAsync(int count)
    {
        var payloads = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            payloads.Add((await NextAsync()).ApplicationMessage.ConvertPayloadToString());
        }

        return payloads;
    }

    /// <summary>
    /// The payloads the clients receive until they have <paramref name="total"/> among them (failing the test when that
    /// takes longer than <see cref="Patience"/>), each client's in the order it got them; then fails if any gets more
    /// within 300 ms.
    /// </summary>
    public static async Task<List<string>[]> SplitAsync(IReadOnlyList<TestClient> clients, int total)
    {
        var received = clients.Select(_ => new List<string>()).ToArray();
        var deadline = DateTime.UtcNow + Patience;
        while (received.Sum(r => r.Count) < total)
        {
            var any = false;
            for (var i = 0; i < clients.Count; i++)
            {
                while (clients[i].received.Reader.TryRead(out var e))
                {
                    received[i].Add(e.ApplicationMessage.ConvertPayloadToString());
                    any = true;
                }
            }

            if (!any)
            {
                Assert.That(DateTime.UtcNow, Is.LessThan(deadline), $"only {received.Sum(r => r.Count)} of {total} messages came within {Patience.TotalSeconds} s");
                await Task.Delay(10);
            }
        }

        foreach (var client in clients)
        {
            Assert.That(await client.NothingWithinAsync(TimeSpan.FromMilliseconds(300)), $"more than {total} messages came");
        }

        return received;
    }

    /// <summary>Whether nothing is received within <paramref name="wait"/> (what has come already counts).</summary>
    public async Task<bool> NothingWithinAsync(TimeSpan wait)
    {
        using var timeout = new CancellationTokenSource(wait);
        try
        {
            return !await received.Reader.WaitToReadAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            return true;
        }
    }

    public async Task DisconnectAsync()
    {
        if (Client.IsConnected)
        {
            using var timeout = new CancellationTokenSource(Patience);
            await Client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), timeout.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await DisconnectAsync();
        }
        catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException)
        {
            // The broker may be gone (killed by the test); nothing to disconnect from.
        }

        Client.Dispose();
    }

    public static string NewTopic() => "edgestream/test/" + Guid.NewGuid().ToString("N")[..12];
}
