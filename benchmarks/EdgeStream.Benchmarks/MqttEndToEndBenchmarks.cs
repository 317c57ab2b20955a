using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using System.Threading.Channels;
using BenchmarkDotNet.Attributes;
using EdgeStream.Mqtt;
using EdgeStream.Sinks.Mqtt;
using EdgeStream.Sources.Mqtt;
using EdgeStream.TestServers;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgeStream.Benchmarks;

/// <summary>
/// JSON readings end to end through a real Mosquitto on loopback at QoS 1 (20,000 as fast as the broker takes them,
/// for throughput; 4,000 at 2,000 a second, for latency): a publisher sends them to
/// <c>in</c>; EdgeStream's MQTT source takes them, <c>SELECT deviceId, temperature FROM s WHERE temperature &gt; 20</c>
/// keeps half, and its MQTT sink publishes each to <c>out</c>, where a subscriber counts them. The baseline is a bare
/// MQTTnet loop with no engine between: the same publisher to a subscriber that filters the same half itself and
/// republishes it, so both runs carry the same messages over the same broker. Each run checks it got every kept
/// message. Latency (publish to final receipt) is printed per run as p50/p99.
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 5, invocationCount: 1)]
public class MqttEndToEndBenchmarks
{
    /// <summary>Messages per second the publisher keeps to; 0 publishes as fast as the broker takes them (a flood).</summary>
    [Params(0, 2_000)]
    public int Rate { get; set; }

    /// <summary>20,000 in a flood (throughput); 4,000 at a steady rate (2 s, for latency).</summary>
    private int Messages => Rate == 0 ? 20_000 : 4_000;

    private int Kept => Messages / 2;

    private Mosquitto broker = null!;
    private byte[][] payloads = null!;
    private IMqttClient publisher = null!;
    private IMqttClient subscriber = null!;
    private Channel<long> arrivals = null!;
    private EdgeStreamEngine engine = null!;
    private IMqttClient relay = null!;
    private int run;

    [GlobalSetup]
    public async Task Setup()
    {
        broker = await Mosquitto.StartAsync(saveOnEveryChange: false);
        payloads = Enumerable.Range(0, 20_000)
            .Select(i => Encoding.UTF8.GetBytes($$"""{"deviceId":"sensor-{{i % 50}}","temperature":{{(i % 2 == 0 ? 25.5 : 15.5)}},"n":{{i}},"sent":"0000000000000000000"}"""))
            .ToArray();
        publisher = await ConnectAsync("bench-pub");
        subscriber = await ConnectAsync("bench-sub");
        subscriber.ApplicationMessageReceivedAsync += e =>
        {
            // The send time is the payload's "sent" (Stopwatch ticks), written just before publishing.
            var text = e.ApplicationMessage.ConvertPayloadToString();
            var at = text.IndexOf("\"sent\":\"", StringComparison.Ordinal) + 8;
            arrivals.Writer.TryWrite(Stopwatch.GetTimestamp() - long.Parse(text.AsSpan(at, 19), System.Globalization.CultureInfo.InvariantCulture));
            return Task.CompletedTask;
        };
        await subscriber.SubscribeAsync("bench/out", MqttQualityOfServiceLevel.AtLeastOnce);
        relay = await ConnectAsync("bench-relay");
        relay.ApplicationMessageReceivedAsync += async e =>
        {
            // The hand-written job: parse, filter, project, publish.
            using var json = System.Text.Json.JsonDocument.Parse(e.ApplicationMessage.Payload);
            var root = json.RootElement;
            if (root.GetProperty("temperature").GetDouble() > 20)
            {
                var output = $$"""{"deviceId":"{{root.GetProperty("deviceId").GetString()}}","temperature":{{root.GetProperty("temperature").GetDouble()}},"sent":"{{root.GetProperty("sent").GetString()}}"}""";
                await relay.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("bench/out").WithPayload(output).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
            }
        };
    }

    private async Task<IMqttClient> ConnectAsync(string id)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer(Mosquitto.Host, broker.Port).WithClientId(id).WithCleanSession(true).Build());
        return client;
    }

    [IterationSetup(Target = nameof(Engine))]
    public void StartEngine()
    {
        arrivals = Channel.CreateUnbounded<long>();
        engine = new EdgeStreamEngine();
        engine.RegisterMqttSource(new MqttProfiles().Set("default", o => (o.Server, o.ClientId, o.CleanSession) = (broker.TcpUri, "bench-source", true)));
        engine.RegisterMqttSink();
        engine.Execute("CREATE STREAM s (deviceId STRING, temperature FLOAT, sent STRING) WITH (TYPE=\"mqtt\", DATASOURCE=\"bench/in\")");
        var rule = new RuleDefinition("r", "SELECT deviceId, temperature, sent FROM s WHERE temperature > 20");
        rule.Actions.Add(new RuleAction("mqtt", new Dictionary<string, string>
        {
            ["server"] = broker.TcpUri, ["topic"] = "bench/out", ["qos"] = "1", ["sendSingle"] = "true", ["clientid"] = "bench-sink", ["cleanSession"] = "true",
        }));
        engine.CreateRuleAsync(rule).GetAwaiter().GetResult();
        while (engine.GetRuleStatus("r").Metrics.GetValueOrDefault("source_s_0_connected") != 1)
        {
            Thread.Sleep(10);
        }
    }

    [IterationCleanup(Target = nameof(Engine))]
    public void StopEngine()
    {
        engine.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Report("engine");
    }

    [IterationSetup(Target = nameof(BareMqttnet))]
    public void StartRelay()
    {
        arrivals = Channel.CreateUnbounded<long>();
        relay.SubscribeAsync("bench/in", MqttQualityOfServiceLevel.AtLeastOnce).GetAwaiter().GetResult();
    }

    [IterationCleanup(Target = nameof(BareMqttnet))]
    public void StopRelay()
    {
        relay.UnsubscribeAsync("bench/in").GetAwaiter().GetResult();
        Report("bare MQTTnet");
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        foreach (var client in new[] { publisher, subscriber, relay })
        {
            await client.DisconnectAsync();
            client.Dispose();
        }

        await broker.DisposeAsync();
    }

    [Benchmark(Description = "EdgeStream: MQTT source → WHERE → MQTT sink")]
    public Task Engine() => SendAndReceiveAsync();

    [Benchmark(Baseline = true, Description = "bare MQTTnet relay (hand-written filter)")]
    public Task BareMqttnet() => SendAndReceiveAsync();

    /// <summary>Publishes every reading (stamped with its send time) and waits until the kept half has arrived.</summary>
    private async Task SendAndReceiveAsync()
    {
        var sending = Task.Run(async () =>
        {
            var inFlight = new List<Task>(256);
            var started = Stopwatch.GetTimestamp();
            for (var i = 0; i < Messages; i++)
            {
                var template = payloads[i];
                if (Rate > 0)
                {
                    // Keep to the rate: wait until message i is due.
                    var ahead = TimeSpan.FromSeconds((double)i / Rate) - Stopwatch.GetElapsedTime(started);
                    if (ahead > TimeSpan.FromMilliseconds(1))
                    {
                        await Task.Delay(ahead);
                    }
                }

                var payload = (byte[])template.Clone();
                Stamp(payload, Stopwatch.GetTimestamp());
                inFlight.Add(publisher.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("bench/in").WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build()));
                if (inFlight.Count == 256)
                {
                    await Task.WhenAll(inFlight);
                    inFlight.Clear();
                }
            }

            await Task.WhenAll(inFlight);
        });
        var received = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        latencies = new List<long>(Kept);
        while (received < Kept)
        {
            latencies.Add(await arrivals.Reader.ReadAsync(timeout.Token));
            received++;
        }

        await sending;
    }

    private List<long> latencies = [];

    /// <summary>Writes the time into the payload's 19-digit "sent" field.</summary>
    private static void Stamp(byte[] payload, long ticks)
    {
        var at = payload.AsSpan().IndexOf("\"sent\":\""u8) + 8;
        ticks.TryFormat(payload.AsSpan(at, 19), out var written, "D19", System.Globalization.CultureInfo.InvariantCulture);
    }

    private void Report(string what)
    {
        if (latencies.Count == 0)
        {
            return;
        }

        latencies.Sort();
        double Us(long ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency;
        Console.WriteLine($"// latency {what} at {(Rate == 0 ? "flood" : Rate + "/s")} run {++run}: p50 {Us(latencies[latencies.Count / 2]):0} µs, p99 {Us(latencies[(int)(latencies.Count * 0.99)]):0} µs over {latencies.Count} messages");
        latencies.Clear();
    }
}
