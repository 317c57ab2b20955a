using System.Net;
using System.Net.Sockets;
using MQTTnet.Server;

namespace EdgeStream.Mqtt.Tests;

/// <summary>
/// An MQTTnet 5 broker inside the test process on a free loopback port, for tests that want to start and stop a
/// broker per test or look into it (<see cref="Server"/>: its clients, sessions, events). Mosquitto
/// (<see cref="MosquittoBroker"/>) remains the broker that proves behaviour against a real server.
/// </summary>
internal sealed class InProcessBroker : IAsyncDisposable
{
    private InProcessBroker(MqttServer server, int port)
    {
        Server = server;
        Port = port;
    }

    public MqttServer Server { get; }

    public int Port { get; }

    public string TcpUri => $"tcp://127.0.0.1:{Port}";

    /// <summary>Starts a broker on a free loopback port, with persistent sessions unless told otherwise.</summary>
    public static async Task<InProcessBroker> StartAsync(bool persistentSessions = true)
    {
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort();
            var options = new MqttServerOptionsBuilder()
                .WithDefaultEndpoint()
                .WithDefaultEndpointBoundIPAddress(IPAddress.Loopback)
                .WithDefaultEndpointBoundIPV6Address(IPAddress.None)
                .WithDefaultEndpointPort(port)
                .WithPersistentSessions(persistentSessions)
                .Build();
            var server = new MqttServerFactory().CreateMqttServer(options);
            try
            {
                await server.StartAsync();
                return new InProcessBroker(server, port);
            }
            catch (SocketException) when (attempt < 3)
            {
                // Another process took the free port between the probe and the bind.
                server.Dispose();
            }
            catch
            {
                server.Dispose();
                throw;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Server.StopAsync();
        Server.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
