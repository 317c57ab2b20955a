using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using static EdgeStream.Mqtt.Tests.TestClient;

namespace EdgeStream.Mqtt.Tests;

/// <summary>The in-process MQTTnet broker that later connector tests also run against.</summary>
[TestFixture]
public sealed class InProcessBrokerTests
{
    [Test]
    public async Task A_message_makes_the_round_trip_through_the_in_process_broker_and_the_broker_sees_both_clients(
        [Values(MqttProtocolVersion.V311, MqttProtocolVersion.V500)] MqttProtocolVersion version)
    {
        await using var broker = await InProcessBroker.StartAsync();
        var topic = NewTopic();
        await using var subscriber = await ConnectAsync(Options(broker.Port, version).Build());
        await subscriber.SubscribeAsync(topic, MqttQualityOfServiceLevel.AtLeastOnce);
        await using var publisher = await ConnectAsync(Options(broker.Port, version).Build());

        await publisher.PublishAsync(topic, "in process", MqttQualityOfServiceLevel.AtLeastOnce);
        var received = await subscriber.NextAsync();

        Assert.Multiple(async () =>
        {
            Assert.That(received.ApplicationMessage.ConvertPayloadToString(), Is.EqualTo("in process"));
            Assert.That(received.ApplicationMessage.QualityOfServiceLevel, Is.EqualTo(MqttQualityOfServiceLevel.AtLeastOnce));
            Assert.That((await broker.Server.GetClientsAsync()).Select(c => c.Id),
                Is.EquivalentTo(new[] { subscriber.Client.Options.ClientId, publisher.Client.Options.ClientId }));
        });
    }

    [Test]
    public async Task A_stopped_in_process_broker_refuses_connections()
    {
        int port;
        await using (var broker = await InProcessBroker.StartAsync())
        {
            port = broker.Port;
        }

        await using var client = new TestClient();
        Assert.That(async () => await client.ConnectAsync(Options(port).Build()), Throws.InstanceOf<MQTTnet.Exceptions.MqttCommunicationException>());
    }
}
