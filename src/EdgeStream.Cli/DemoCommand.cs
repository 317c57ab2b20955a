using System.Globalization;
using System.Net;
using System.Net.Sockets;
using EdgeStream.Mqtt;
using EdgeStream.Sources.Mqtt;
using EdgeStream.Testing;
using MQTTnet.Server;

namespace EdgeStream.Cli;

/// <summary>
/// <c>edgestream demo [--duration S] [--broker mqtt://host:port] [--devices N]</c>: streaming SQL over MQTT in one
/// command. An MQTT broker in-process (or the one given), a simulated fleet publishing readings to it, one shared
/// MQTT stream and two rules over it, whose results are printed as they come.
/// </summary>
internal sealed class DemoCommand
{
    public const string StreamSql =
        "CREATE STREAM sensors (deviceId STRING, temperature FLOAT, humidity FLOAT, ts BIGINT) WITH (TYPE=\"mqtt\", DATASOURCE=\"demo/sensors/+\", SHARED=\"true\")";

    public const double AlertThreshold = 30;

    public static readonly (string Id, string Sql)[] Rules =
    [
        ("alert", "SELECT deviceId, temperature, humidity FROM sensors WHERE temperature > 30"),
        ("avg10s", "SELECT deviceId, round(avg(temperature), 2) AS avg_temperature, count(*) AS readings FROM sensors GROUP BY deviceId, TUMBLINGWINDOW(ss, 10)"),
    ];

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan QuietWait = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(10);

    private readonly Lock output = new();
    private double duration = 30;
    private string? broker;
    private int devices = 5;

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken stop)
    {
        var command = new DemoCommand();
        var error = command.ParseArguments(args);
        return error is not null
            ? CliApp.Fail(stderr, error)
            : command.ExecuteAsync(stdout, stderr, stop).GetAwaiter().GetResult();
    }

    private string? ParseArguments(string[] args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (i + 1 >= args.Length && arg is "--duration" or "--broker" or "--devices")
            {
                return $"{arg} needs a value";
            }

            switch (arg)
            {
                case "--duration":
                    if (!double.TryParse(args[++i], NumberStyles.Float, CultureInfo.InvariantCulture, out duration) || !(duration > 0) || !double.IsFinite(duration))
                    {
                        return "--duration needs a positive number of seconds";
                    }

                    break;
                case "--broker":
                    broker = args[++i];
                    try
                    {
                        _ = MqttSettings.From(new MqttConnectionOptions { Server = broker }, "edgestream-demo");
                    }
                    catch (ArgumentException e)
                    {
                        return $"--broker: {e.Message}";
                    }

                    break;
                case "--devices":
                    if (!int.TryParse(args[++i], NumberStyles.None, CultureInfo.InvariantCulture, out devices) || devices is < 1 or > 1000)
                    {
                        return "--devices needs a number of devices from 1 to 1000";
                    }

                    break;
                default:
                    return $"unknown option `{arg}`; run `edgestream --help`";
            }
        }

        return null;
    }

    private async Task<int> ExecuteAsync(TextWriter stdout, TextWriter stderr, CancellationToken stop)
    {
        DemoBroker? local = null;
        if (broker is null)
        {
            try
            {
                local = await DemoBroker.StartAsync(stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return CliApp.Ok;
            }
        }

        try
        {
            var server = broker ?? local!.Server;
            var endpoint = MqttSettings.From(new MqttConnectionOptions { Server = server }, "edgestream-demo").Endpoint;

            // The stream has no CONF_KEY: the `default` profile is the demo's broker. A clean session with a client id of
            // this run's own, so two demos on one broker never take each other's session.
            var run = string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessId:x}-{Random.Shared.Next():x8}");
            var profiles = new MqttProfiles().Set(MqttProfiles.DefaultName, o =>
            {
                o.Server = server;
                o.ClientId = "edgestream-demo-" + run;
                o.CleanSession = true;
            });
            var engine = new EdgeStreamEngine();
            engine.RegisterMqttSource(profiles);
            await using (engine.ConfigureAwait(false))
            {
                engine.Execute(StreamSql);
                using var subscriptions = new CancellationTokenSource();
                var printers = new List<Task>();
                var counts = new long[Rules.Length];
                for (var r = 0; r < Rules.Length; r++)
                {
                    var (id, sql) = Rules[r];
                    var topic = "edgestream-demo/" + id;
                    printers.Add(PrintAsync(id, engine.Memory.Subscribe(topic, subscriptions.Token), stdout, counts, r));
                    var rule = new RuleDefinition(id, sql);
                    rule.Actions.Add(new RuleAction("memory", new Dictionary<string, string> { ["topic"] = topic }));
                    await engine.CreateRuleAsync(rule, CancellationToken.None).ConfigureAwait(false);
                }

                WriteBanner(stderr, endpoint, local is not null);
                var published = 0L;
                var subscribed = await WaitSubscribedAsync(engine, endpoint, stderr, stop).ConfigureAwait(false);
                if (subscribed)
                {
                    // The duration counts from here, so a short run still sees a whole 10-second window.
                    using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stop);
                    deadline.CancelAfter(TimeSpan.FromSeconds(duration));
                    var fleetClient = "edgestream-demo-fleet-" + run;
                    published = await DemoFleet.RunAsync(server, fleetClient, devices, message => Say(stderr, message), deadline.Token).ConfigureAwait(false);
                }

                foreach (var (id, _) in Rules)
                {
                    using var drain = new CancellationTokenSource(DrainTimeout);
                    try
                    {
                        await engine.StopRuleAsync(id, drain.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                    }
                }

                await subscriptions.CancelAsync().ConfigureAwait(false);
                await Task.WhenAll(printers).ConfigureAwait(false);
                if (!subscribed)
                {
                    if (stop.IsCancellationRequested)
                    {
                        return CliApp.Ok;
                    }

                    Say(stderr, $"error: could not reach the MQTT broker at {endpoint} within {duration.ToString(CultureInfo.InvariantCulture)} s");
                    return CliApp.Failed;
                }

                Say(stderr, string.Create(CultureInfo.InvariantCulture,
                    $"stopped: {published} readings published; {string.Join(", ", Rules.Select((r, i) => $"{r.Id}: {counts[i]} rows"))}"));
                return CliApp.Ok;
            }
        }
        finally
        {
            if (local is not null)
            {
                await local.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private void WriteBanner(TextWriter stderr, string endpoint, bool inProcess)
    {
        var where = inProcess ? $"an MQTT broker started in-process at {endpoint}" : $"the MQTT broker at {endpoint}";
        Say(stderr, $"""
            EdgeStream demo: {where};
            {devices} simulated devices publish {"{"}"deviceId", "temperature", "humidity", "ts"{"}"} to demo/sensors/<deviceId> twice a second.
              stream:      {StreamSql}
              rule {Rules[0].Id}:  {Rules[0].Sql}
              rule {Rules[1].Id}: {Rules[1].Sql}
            Each result is printed as `<rule>: <row as JSON>`. Runs {duration.ToString(CultureInfo.InvariantCulture)} s; Ctrl-C to stop.
            """);
    }

    /// <summary>Waits until the shared stream's source is subscribed (its `connected` metric), saying once when that takes a while.</summary>
    private async Task<bool> WaitSubscribedAsync(EdgeStreamEngine engine, string endpoint, TextWriter stderr, CancellationToken stop)
    {
        var started = TimeProvider.System.GetTimestamp();
        var giveUp = TimeSpan.FromSeconds(duration);
        var waiting = false;
        try
        {
            while (TimeProvider.System.GetElapsedTime(started) < giveUp)
            {
                var status = engine.GetRuleStatus(Rules[0].Id);
                if (status.Metrics.TryGetValue("source_sensors_0_connected", out var up) && up == 1)
                {
                    return true;
                }

                if (!waiting && TimeProvider.System.GetElapsedTime(started) >= QuietWait)
                {
                    waiting = true;
                    Say(stderr, $"waiting for the MQTT broker at {endpoint}{RunCommand.Why(status, endpoint)}");
                }

                await Task.Delay(PollInterval, stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }

        return false;
    }

    /// <summary>Prints each row of each emission as <c>rule: {json}</c>, one line, as it arrives.</summary>
    private async Task PrintAsync(string ruleId, System.Threading.Channels.ChannelReader<IReadOnlyList<IReadOnlyDictionary<string, object?>>> emissions, TextWriter stdout, long[] counts, int index)
    {
        await foreach (var emission in emissions.ReadAllAsync().ConfigureAwait(false))
        {
            foreach (var row in emission)
            {
                // WriteEmission encodes [row]; the row alone is the text between the brackets.
                var json = ResultJson.WriteEmission([row]);
                Say(stdout, $"{ruleId}: {json[1..^1]}");
                Interlocked.Increment(ref counts[index]);
            }
        }
    }

    /// <summary>One line at a time: the printers and the fleet write concurrently.</summary>
    private void Say(TextWriter writer, string line)
    {
        lock (output)
        {
            writer.WriteLine(line);
            writer.Flush();
        }
    }
}

/// <summary>An MQTT broker (MQTTnet's) in this process, on a free loopback port.</summary>
internal sealed class DemoBroker : IAsyncDisposable
{
    private readonly MqttServer server;

    private DemoBroker(MqttServer server, int port)
    {
        this.server = server;
        Port = port;
    }

    public int Port { get; }

    public string Server => string.Create(CultureInfo.InvariantCulture, $"tcp://127.0.0.1:{Port}");

    public static async Task<DemoBroker> StartAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var port = FreePort();
            var options = new MqttServerOptionsBuilder()
                .WithDefaultEndpoint()
                .WithDefaultEndpointBoundIPAddress(IPAddress.Loopback)
                .WithDefaultEndpointBoundIPV6Address(IPAddress.None)
                .WithDefaultEndpointPort(port)
                .Build();
            var server = new MqttServerFactory().CreateMqttServer(options);
            try
            {
                await server.StartAsync().ConfigureAwait(false);
                return new DemoBroker(server, port);
            }
            catch (Exception) when (attempt < 5)
            {
                // Another process took the port between the probe and the start: try another one.
                server.Dispose();
            }
            catch
            {
                server.Dispose();
                throw;
            }
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await server.StopAsync().ConfigureAwait(false);
        }
        finally
        {
            server.Dispose();
        }
    }
}
