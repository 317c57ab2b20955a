using System.Buffers;
using System.Globalization;
using System.Text.Json;
using EdgeStream.Mqtt;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgeStream.Cli;

/// <summary>
/// The demo's simulated devices: each publishes <c>{"deviceId", "temperature", "humidity", "ts"}</c> (ts in Unix
/// milliseconds) to <c>demo/sensors/&lt;deviceId&gt;</c> about twice a second. Temperatures are a random walk around
/// each device's own level (seeded, so runs look alike), and every device runs hot now and then, on a staggered
/// schedule, so the demo's alert fires within seconds.
/// </summary>
internal static class DemoFleet
{
    public const string TopicPrefix = "demo/sensors/";

    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(500);

    /// <summary>Publishes until <paramref name="cancellationToken"/> fires; returns how many readings were published.</summary>
    public static async Task<long> RunAsync(string server, string clientId, int devices, Action<string> report, CancellationToken cancellationToken)
    {
        var settings = MqttSettings.From(new MqttConnectionOptions { Server = server, ClientId = clientId, CleanSession = true }, clientId);
        var reported = 0;
        var connection = new MqttConnection(settings, null, null,
            problem =>
            {
                if (Interlocked.Exchange(ref reported, 1) == 0)
                {
                    report("demo fleet: " + problem); // once: the connection keeps trying
                }
            },
            NullLogger.Instance, TimeProvider.System);
        await using (connection.ConfigureAwait(false))
        {
            try
            {
                await connection.ConnectFirstAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                report($"demo fleet: could not connect to {settings.Endpoint}, retrying: {MqttConnection.Describe(e)}");
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested)
            {
                return 0;
            }

            var published = new long[devices];
            var tasks = Enumerable.Range(0, devices).Select(i => DeviceAsync(connection, i, devices, published, cancellationToken)).ToArray();
            await Task.WhenAll(tasks).ConfigureAwait(false);
            return published.Sum();
        }
    }

    /// <summary>The id of device <paramref name="index"/> (0-based).</summary>
    public static string DeviceId(int index) => string.Create(CultureInfo.InvariantCulture, $"sensor-{index + 1}");

    private static async Task DeviceAsync(MqttConnection connection, int index, int devices, long[] published, CancellationToken cancellationToken)
    {
        var id = DeviceId(index);
        var topic = TopicPrefix + id;
        var random = new Random(1000 + index);
        var level = 21 + (index * 1.7 % 5); // each device's usual temperature, 21 to 26 °C
        var temperature = level;
        var humidity = 40 + (index * 4.3 % 20);
        try
        {
            // Staggered, so the readings of a fleet spread over each half second.
            await Task.Delay(Period * index / devices, cancellationToken).ConfigureAwait(false);
            using var timer = new PeriodicTimer(Period);
            for (var reading = 0; ; reading++)
            {
                temperature = Math.Clamp(temperature + ((level - temperature) * 0.2) + ((random.NextDouble() - 0.5) * 1.2), 15, 28.5);
                humidity = Math.Clamp(humidity + ((random.NextDouble() - 0.5) * 2), 20, 80);
                // Every 23rd reading (about every 11 s) runs hot, each device at its own point of the cycle.
                var hot = (reading + (7 * index)) % 23 == 5;
                var value = hot ? DemoCommand.AlertThreshold + 0.5 + (random.NextDouble() * 4) : temperature;
                if (connection.IsConnected)
                {
                    var message = new MqttApplicationMessageBuilder()
                        .WithTopic(topic)
                        .WithPayload(Reading(id, value, humidity))
                        .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                        .Build();
                    try
                    {
                        await connection.Client.PublishAsync(message, cancellationToken).ConfigureAwait(false);
                        published[index]++;
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        // The connection dropped under the publish: this reading is lost, the next one goes once it is back.
                    }
                }

                if (!await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private static byte[] Reading(string id, double temperature, double humidity)
    {
        var buffer = new ArrayBufferWriter<byte>(96);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("deviceId", id);
            json.WriteNumber("temperature", Math.Round(temperature, 1));
            json.WriteNumber("humidity", Math.Round(humidity, 1));
            json.WriteNumber("ts", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
