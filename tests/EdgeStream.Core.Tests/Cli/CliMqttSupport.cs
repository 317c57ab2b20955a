using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using EdgeStream.Cli;
using MQTTnet;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace EdgeStream.Tests.Cli;

/// <summary>
/// A real MQTT broker (MQTTnet's) in the test process, on a free loopback port, for the CLI's MQTT tests. Records the
/// client ids that connected; <see cref="RequireCredentials"/> makes it refuse other credentials. Fails the test,
/// never skips it, when it cannot start.
/// </summary>
internal sealed class TestBroker : IAsyncDisposable
{
    private readonly MqttServer server;
    private readonly (string User, string Password)? credentials;

    private TestBroker(MqttServer server, int port, (string User, string Password)? credentials)
    {
        this.server = server;
        this.credentials = credentials;
        Port = port;
        server.ClientConnectedAsync += e =>
        {
            ConnectedClients.Add(e.ClientId);
            return Task.CompletedTask;
        };
    }

    public int Port { get; }

    public string Url => $"tcp://127.0.0.1:{Port}";

    public ConcurrentBag<string> ConnectedClients { get; } = [];

    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public static async Task<TestBroker> StartAsync((string User, string Password)? requireCredentials = null)
    {
        Exception? last = null;
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var port = FreePort();
            var options = new MqttServerOptionsBuilder().WithDefaultEndpoint()
                .WithDefaultEndpointBoundIPAddress(IPAddress.Loopback).WithDefaultEndpointBoundIPV6Address(IPAddress.None)
                .WithDefaultEndpointPort(port).Build();
            var server = new MqttServerFactory().CreateMqttServer(options);
            if (requireCredentials is { } required)
            {
                server.ValidatingConnectionAsync += e =>
                {
                    if (e.UserName != required.User || e.Password != required.Password)
                    {
                        e.ReasonCode = MqttConnectReasonCode.BadUserNameOrPassword;
                    }

                    return Task.CompletedTask;
                };
            }

            try
            {
                await server.StartAsync();
                return new TestBroker(server, port, requireCredentials);
            }
            catch (Exception e)
            {
                last = e;
                server.Dispose();
            }
        }

        Assert.Fail($"the in-process MQTT broker could not start on a free loopback port: {last}");
        throw new UnreachableException();
    }

    /// <summary>A client of the test's own, connected (with the credentials the broker requires).</summary>
    public async Task<IMqttClient> ConnectAsync(string clientId)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var options = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", Port).WithClientId(clientId).WithCleanSession();
        if (credentials is { } given)
        {
            options = options.WithCredentials(given.User, given.Password);
        }

        var result = await client.ConnectAsync(options.Build());
        Assert.That(result.ResultCode, Is.EqualTo(MqttClientConnectResultCode.Success), "the test's own client could not connect");
        return client;
    }

    /// <summary>Subscribes a client of the test's own to <paramref name="filter"/> and collects (topic, payload) as they come.</summary>
    public async Task<(IMqttClient Client, ConcurrentQueue<(string Topic, string Payload)> Received)> SubscribeAsync(string filter)
    {
        var client = await ConnectAsync("test-subscriber-" + Guid.NewGuid().ToString("N"));
        var received = new ConcurrentQueue<(string, string)>();
        client.ApplicationMessageReceivedAsync += e =>
        {
            received.Enqueue((e.ApplicationMessage.Topic, Encoding.UTF8.GetString(e.ApplicationMessage.Payload)));
            return Task.CompletedTask;
        };
        await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(filter, MqttQualityOfServiceLevel.AtLeastOnce).Build());
        return (client, received);
    }

    public async ValueTask DisposeAsync()
    {
        await server.StopAsync();
        server.Dispose();
    }
}

/// <summary>A TextWriter the CLI writes from several threads while the test reads it: every call holds one lock.</summary>
internal sealed class ConcurrentWriter : TextWriter
{
    private readonly StringBuilder text = new();

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value)
    {
        lock (text)
        {
            text.Append(value);
        }
    }

    public override void Write(string? value)
    {
        lock (text)
        {
            text.Append(value);
        }
    }

    public override void Write(char[] buffer, int index, int count)
    {
        lock (text)
        {
            text.Append(buffer, index, count);
        }
    }

    public override void WriteLine(string? value)
    {
        lock (text)
        {
            text.Append(value).Append(CoreNewLine);
        }
    }

    public override Task WriteAsync(string? value)
    {
        Write(value);
        return Task.CompletedTask;
    }

    public override Task WriteLineAsync(string? value)
    {
        WriteLine(value);
        return Task.CompletedTask;
    }

    public override string ToString()
    {
        lock (text)
        {
            return text.ToString().Replace("\r\n", "\n", StringComparison.Ordinal);
        }
    }

    public string[] Lines => ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>The CLI on a background task, as the tests drive the long-running commands.</summary>
internal sealed class BackgroundCli
{
    private BackgroundCli(Task<int> exit, ConcurrentWriter stdout, ConcurrentWriter stderr)
    {
        Exit = exit;
        Out = stdout;
        Err = stderr;
    }

    public Task<int> Exit { get; }

    public ConcurrentWriter Out { get; }

    public ConcurrentWriter Err { get; }

    public static BackgroundCli Start(params string[] args)
    {
        var stdout = new ConcurrentWriter();
        var stderr = new ConcurrentWriter();
        var exit = Task.Run(() => CliApp.Run(args, new StringReader(string.Empty), stdout, stderr));
        return new BackgroundCli(exit, stdout, stderr);
    }

    /// <summary>Waits (at most <paramref name="timeout"/>, a liveness bound) until standard error has a line <paramref name="line"/>.</summary>
    public async Task WaitForErrLineAsync(string line, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Err.Lines.Contains(line))
        {
            if (Exit.IsCompleted)
            {
                Assert.Fail($"the command exited ({await Exit}) before printing `{line}`; stderr:\n{Err}");
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"no `{line}` on stderr within {timeout.TotalSeconds} s; stderr:\n{Err}");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>The exit code, waiting at most <paramref name="timeout"/> (a liveness bound).</summary>
    public async Task<int> ExitCodeAsync(TimeSpan timeout)
    {
        if (await Task.WhenAny(Exit, Task.Delay(timeout)) != Exit)
        {
            Assert.Fail($"the command did not exit within {timeout.TotalSeconds} s; stderr:\n{Err}");
        }

        return await Exit;
    }
}
