using System.Text.Json;
using EdgeStream.Cli;

namespace EdgeStream.Tests.Cli;

/// <summary><c>edgestream demo</c>: a broker, a simulated fleet, one shared MQTT stream and two rules, for real.</summary>
public sealed class DemoCommandTests
{
    /// <summary>Liveness bound for a run of a few seconds on a slow, busy machine; never a measure of speed.</summary>
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(90);

    private static (string Rule, JsonElement Row)[] Results(ConcurrentWriter stdout) =>
        stdout.Lines.Select(line =>
        {
            var colon = line.IndexOf(": ", StringComparison.Ordinal);
            Assert.That(colon, Is.GreaterThan(0), $"not `<rule>: <json>`: {line}");
            using var row = JsonDocument.Parse(line[(colon + 2)..]);
            return (line[..colon], row.RootElement.Clone());
        }).ToArray();

    [Test]
    public async Task The_demo_prints_alerts_and_per_device_ten_second_averages()
    {
        var demo = BackgroundCli.Start("demo", "--duration", "12", "--devices", "3");
        var code = await demo.ExitCodeAsync(Generous);
        Assert.That(code, Is.Zero, demo.Err.ToString());

        var results = Results(demo.Out);
        Assert.That(results.Select(r => r.Rule).Distinct(), Is.EquivalentTo(new[] { "alert", "avg10s" }), demo.Out.ToString());
        foreach (var (_, row) in results.Where(r => r.Rule == "alert"))
        {
            Assert.That(row.GetProperty("temperature").GetDouble(), Is.GreaterThan(30), row.ToString());
            Assert.That(row.GetProperty("deviceId").GetString(), Does.Match("^sensor-[123]$"));
            Assert.That(row.TryGetProperty("humidity", out _), Is.True);
        }

        var averages = results.Where(r => r.Rule == "avg10s").Select(r => r.Row).ToArray();
        Assert.That(averages.Select(r => r.GetProperty("deviceId").GetString()).Distinct(), Is.EquivalentTo(new[] { "sensor-1", "sensor-2", "sensor-3" }));
        Assert.That(averages.Select(r => r.GetProperty("readings").GetInt64()), Has.All.GreaterThan(0));
        Assert.That(averages.Select(r => r.GetProperty("avg_temperature").GetDouble()), Has.All.InRange(15.0, 35.0));

        var err = demo.Err.ToString();
        Assert.That(err, Does.Contain("an MQTT broker started in-process at tcp://127.0.0.1:"));
        Assert.That(err, Does.Contain(DemoCommand.StreamSql));
        Assert.That(err, Does.Contain("Ctrl-C to stop"));
        Assert.That(err, Does.Match(@"stopped: [1-9]\d* readings published; alert: [1-9]\d* rows, avg10s: [1-9]\d* rows"));
    }

    [Test]
    public async Task With_broker_the_fleet_and_the_rules_use_that_broker()
    {
        await using var broker = await TestBroker.StartAsync();
        var (watcher, seen) = await broker.SubscribeAsync("demo/sensors/#");
        using (watcher)
        {
            var demo = BackgroundCli.Start("demo", "--broker", $"mqtt://127.0.0.1:{broker.Port}", "--duration", "6", "--devices", "2");
            var code = await demo.ExitCodeAsync(Generous);
            Assert.That(code, Is.Zero, demo.Err.ToString());
            Assert.That(demo.Err.ToString(), Does.Contain($"the MQTT broker at tcp://127.0.0.1:{broker.Port}"));

            // The fleet published to the test's broker: the test's own subscriber got every device's readings.
            var readings = seen.ToArray();
            Assert.That(readings.Select(r => r.Topic).Distinct(), Is.EquivalentTo(new[] { "demo/sensors/sensor-1", "demo/sensors/sensor-2" }));
            var published = readings.Select(r => JsonDocument.Parse(r.Payload).RootElement).ToArray();
            Assert.That(published.Select(p => p.GetProperty("ts").GetInt64()), Has.All.GreaterThan(1_600_000_000_000L));

            // The rules read from it: the SHARED stream's one source connected there (one client for both rules), and
            // each alert is a reading the test saw.
            var sources = broker.ConnectedClients.Where(c => c.StartsWith("edgestream-demo-", StringComparison.Ordinal) && !c.Contains("fleet", StringComparison.Ordinal));
            Assert.That(sources.Count(), Is.EqualTo(1), string.Join(", ", broker.ConnectedClients));
            var alerts = Results(demo.Out).Where(r => r.Rule == "alert").Select(r => r.Row).ToArray();
            Assert.That(alerts, Is.Not.Empty, demo.Out.ToString());
            foreach (var alert in alerts)
            {
                Assert.That(published.Any(p => p.GetProperty("deviceId").GetString() == alert.GetProperty("deviceId").GetString()
                    && p.GetProperty("temperature").GetDouble() == alert.GetProperty("temperature").GetDouble()
                    && p.GetProperty("humidity").GetDouble() == alert.GetProperty("humidity").GetDouble()), Is.True, $"{alert} was not published on the test's broker");
            }
        }
    }

    [TestCase("--devices", "0", "error: --devices needs a number of devices from 1 to 1000")]
    [TestCase("--duration", "-1", "error: --duration needs a positive number of seconds")]
    [TestCase("--broker", "http://example.com", "error: --broker: `server`: scheme `http` is not supported; use tcp:// or ssl://")]
    [TestCase("--broker", "mqtt://user:secret@127.0.0.1:1883", "error: --broker: `server` must not hold credentials")]
    [TestCase("--bogus", "1", "error: unknown option `--bogus`")]
    public void Bad_arguments_exit_two(string option, string value, string message)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = CliApp.Run(["demo", option, value], new StringReader(string.Empty), stdout, stderr);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr.ToString(), Does.StartWith(message));
        Assert.That(stderr.ToString(), Does.Not.Contain("secret"));
    }
}
