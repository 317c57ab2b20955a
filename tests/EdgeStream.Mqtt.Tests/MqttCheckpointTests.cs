using System.Collections.Concurrent;
using System.Text;
using EdgeStream.Sources.Mqtt;
using EdgeStream.State;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace EdgeStream.Mqtt.Tests;

/// <summary>
/// An MQTT stream read by a rule that takes checkpoints, against the real Mosquitto broker: QoS 1 messages are
/// acknowledged only when a checkpoint covers them, so with a persistent session a new engine resuming from the last
/// checkpoint gets again exactly the messages that checkpoint lacks. Counted at the far end: each message once.
/// </summary>
public sealed class MqttCheckpointTests
{
    private static async Task<(EdgeStreamEngine Engine, ConcurrentQueue<long> Totals)> StartAsync(IStateStore store, string topic, string clientId)
    {
        var profiles = new MqttProfiles().Set(MqttProfiles.DefaultName, o =>
        {
            o.Server = MosquittoBroker.Broker.TcpUri;
            (o.ClientId, o.Qos, o.CleanSession) = (clientId, 1, false);
        });
        var engine = new EdgeStreamEngine(new EdgeStreamEngineOptions { StateStore = store });
        engine.RegisterMqttSource(profiles);
        engine.Execute($"CREATE STREAM s (n BIGINT) WITH (TYPE=\"mqtt\", DATASOURCE=\"{topic}\")");
        var totals = new ConcurrentQueue<long>();
        engine.Memory.Subscribe("out", (rows, _) =>
        {
            foreach (var row in rows)
            {
                totals.Enqueue((long)row["total"]!);
            }

            return ValueTask.CompletedTask;
        });

        // No checkpoint by the clock (an hour): only the source's requests, every ten held messages, take one.
        await engine.CreateRuleAsync(RuleDefinition.FromJson("""
            {"id": "r", "sql": "SELECT sum(n) AS total FROM s", "actions": [{"memory": {"topic": "out"}}],
             "options": {"qos": 1, "checkpointInterval": "1h"}}
            """));
        await UntilAsync(() => engine.GetRuleStatus("r").Metrics.GetValueOrDefault("source_s_0_connected") == 1, "the subscription");
        return (engine, totals);
    }

    private static async Task UntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "timed out waiting for " + what);
            await Task.Delay(20);
        }
    }

    private static async Task PublishAsync(string topic, int from, int to)
    {
        await using var publisher = await TestClient.ConnectAsync(TestClient.Options(MosquittoBroker.Broker.Port, MqttProtocolVersion.V311).Build());
        for (var n = from; n <= to; n++)
        {
            await publisher.PublishAsync(topic, $$"""{"n": {{n}}}""", MqttQualityOfServiceLevel.AtLeastOnce);
        }
    }

    [Test]
    public async Task Messages_a_checkpoint_does_not_cover_come_again_to_the_next_engine_and_are_counted_once()
    {
        var store = new InMemoryStateStore();
        var topic = TestClient.NewTopic();
        var clientId = "es-ckpt-" + Guid.NewGuid().ToString("N")[..10];

        var (first, totals) = await StartAsync(store, topic, clientId);
        await using (first)
        {
            // Ten messages: the source holds ten acknowledgements, asks for a checkpoint, and acknowledges them.
            await PublishAsync(topic, 1, 10);
            await UntilAsync(() => first.GetRuleStatus("r").Metrics["checkpoints_completed_total"] >= 1, "the requested checkpoint");
            await UntilAsync(() => first.GetRuleStatus("r").Metrics["source_s_0_acknowledged_at_checkpoint_total"] == 10, "the ten acknowledged");

            // Two more are processed but held: no checkpoint covers them when the engine goes.
            await PublishAsync(topic, 11, 12);
            await UntilAsync(() => totals.Count == 12, "all twelve processed");
            Assert.That(first.GetRuleStatus("r").Metrics["source_s_0_held_for_checkpoint"], Is.EqualTo(2));
        }

        Assert.That(totals.Last(), Is.EqualTo(78));

        // The next engine resumes from the checkpoint (55) and the broker sends 11 and 12 again: 66, 78, never 144.
        var (second, again) = await StartAsync(store, topic, clientId);
        await using (second)
        {
            await UntilAsync(() => again.Count == 2, "the two the checkpoint lacked");
            Assert.That(second.GetRuleStatus("r").Metrics["checkpoint_restored_total"], Is.EqualTo(1));
            await PublishAsync(topic, 13, 13);
            await UntilAsync(() => again.Count == 3, "a new message");
            Assert.That(again, Is.EqualTo(new long[] { 66, 78, 91 }), "each message counted once across the restart");
        }
    }
}
