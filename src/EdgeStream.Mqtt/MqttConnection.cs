using System.Security.Authentication;
using Microsoft.Extensions.Logging;
using MQTTnet;

namespace EdgeStream.Mqtt;

/// <summary>
/// One supervised MQTT connection. MQTTnet 5 has no reconnecting client, so this owns the loop: connect, run
/// <c>onConnected</c> (subscribe), wait until the connection is lost, back off (100 ms doubling to 30 s, with jitter)
/// and connect again, until disposed. The disconnect event only wakes the loop; it never reconnects by itself.
/// Counts connections and reconnects, and knows whether it is connected.
/// </summary>
internal sealed partial class MqttConnection : IAsyncDisposable
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    /// <summary>The client ids of this process's connections, per broker: two connections with one id would take the session from each other in turn.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string Endpoint, string ClientId), MqttConnection> Claimed = new();

    private readonly MqttSettings settings;
    private readonly Func<IMqttClient, CancellationToken, Task>? onConnected;
    private readonly Action<string> report;
    private readonly ILogger logger;
    private readonly TimeProvider time;
    private readonly CancellationTokenSource stopping = new();
    private readonly Lock gate = new();
    private TaskCompletionSource up = NewSignal();
    private TaskCompletionSource down = NewSignal();
    private Task? loop;
    private long connects;
    private long reconnects;
    private int connected;

    /// <summary>Makes the client; nothing connects until <see cref="ConnectFirstAsync"/>.</summary>
    /// <param name="settings">Where and how to connect.</param>
    /// <param name="onConnected">Runs after each successful connect (subscribing); if it throws, the connection is dropped and retried.</param>
    /// <param name="onMessage">Handles received messages, or null.</param>
    /// <param name="report">Reports a lost connection or a failed attempt (counted and shown by the rule).</param>
    /// <param name="logger">Logs connection changes.</param>
    /// <param name="time">The clock backoffs wait on.</param>
    public MqttConnection(MqttSettings settings, Func<IMqttClient, CancellationToken, Task>? onConnected,
        Func<MqttApplicationMessageReceivedEventArgs, Task>? onMessage, Action<string> report, ILogger logger, TimeProvider time)
    {
        this.settings = settings;
        this.onConnected = onConnected;
        this.report = report;
        this.logger = logger;
        this.time = time;
        Client = new MqttClientFactory().CreateMqttClient();
        Client.DisconnectedAsync += OnDisconnectedAsync;
        if (onMessage is not null)
        {
            Client.ApplicationMessageReceivedAsync += onMessage;
        }
    }

    public IMqttClient Client { get; }

    public MqttSettings Settings => settings;

    public bool IsConnected => Volatile.Read(ref connected) == 1;

    /// <summary>Reconnections after the first connection.</summary>
    public long Reconnects => Interlocked.Read(ref reconnects);

    /// <summary>Adds <c>connected</c> (1 or 0) and <c>reconnects_total</c>.</summary>
    public void AddMetrics(IDictionary<string, long> metrics)
    {
        metrics["connected"] = IsConnected ? 1 : 0;
        metrics["reconnects_total"] = Reconnects;
    }

    /// <summary>
    /// Tries to connect once, then keeps the connection up in the background whatever the outcome. Returns when
    /// connected; throws <see cref="MqttRefusedException"/> when the broker refuses the settings for good (bad
    /// credentials, not authorized, an unsupported protocol, a certificate that does not verify) — then nothing runs
    /// in the background — and any other exception when it is unreachable for now (the loop goes on trying).
    /// </summary>
    public async Task ConnectFirstAsync(CancellationToken cancellationToken)
    {
        if (!Claimed.TryAdd((settings.Endpoint, settings.ClientId), this))
        {
            throw new MqttRefusedException(
                $"mqtt {settings.Endpoint}: client id `{settings.ClientId}` is already used by another connection of this process, and two connections with one client id take the session from each other in turn; leave `clientid` unset (each stream, rule and sink then gets its own), give each its own, or make the stream SHARED", null);
        }

        try
        {
            await ConnectAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (MqttRefusedException)
        {
            throw;
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            loop = Task.Run(() => SuperviseAsync(stopping.Token), CancellationToken.None);
            throw;
        }

        loop = Task.Run(() => SuperviseAsync(stopping.Token), CancellationToken.None);
    }

    /// <summary>Waits until connected, at most <paramref name="timeout"/>; false when still not.</summary>
    public async Task<bool> WaitConnectedAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        Task signal;
        lock (gate)
        {
            signal = up.Task;
        }

        try
        {
            await signal.WaitAsync(timeout, time, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private async Task SuperviseAsync(CancellationToken token)
    {
        var backoff = FirstBackoff;
        while (!token.IsCancellationRequested)
        {
            Task lost;
            lock (gate)
            {
                lost = down.Task;
            }

            if (IsConnected)
            {
                try
                {
                    await lost.WaitAsync(token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            try
            {
                await Task.Delay(Jittered(backoff), time, token).ConfigureAwait(false);
                await ConnectAsync(token).ConfigureAwait(false);
                backoff = FirstBackoff;
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // Any failure to connect is reported and retried: the broker may come back.
            catch (Exception e)
#pragma warning restore CA1031
            {
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                report($"mqtt {settings.Endpoint}: could not connect, retrying in {backoff.TotalMilliseconds:0} ms: {Describe(e)}");
            }
        }
    }

    private static TimeSpan Jittered(TimeSpan backoff) => backoff + TimeSpan.FromMilliseconds(Random.Shared.Next(0, (int)(backoff.TotalMilliseconds / 4) + 1));

    private async Task ConnectAsync(CancellationToken token)
    {
        MqttClientConnectResult result;
        try
        {
            result = await Client.ConnectAsync(settings.Build(), token).ConfigureAwait(false);
        }
        catch (MQTTnet.Adapter.MqttConnectingFailedException e) when (IsRefusal(e.InnerException) || RefusedIn(e.Message))
        {
            throw new MqttRefusedException($"mqtt {settings.Endpoint} refused the connection: {Describe(e)}", e);
        }
        catch (Exception e) when (e is AuthenticationException || e.InnerException is AuthenticationException)
        {
            throw new MqttRefusedException($"mqtt {settings.Endpoint}: TLS failed: {Describe(e)}", e);
        }

        if (result.ResultCode != MqttClientConnectResultCode.Success)
        {
            var reason = $"mqtt {settings.Endpoint} refused the connection: {result.ResultCode}";
            throw IsRefusal(result.ResultCode) ? new MqttRefusedException(reason, null) : new IOException(reason);
        }

        try
        {
            if (onConnected is not null)
            {
                await onConnected(Client, token).ConfigureAwait(false);
            }
        }
        catch
        {
            await DisconnectQuietlyAsync().ConfigureAwait(false);
            throw;
        }

        lock (gate)
        {
            down = NewSignal();
            Volatile.Write(ref connected, 1);
            up.TrySetResult();
        }

        if (Interlocked.Increment(ref connects) > 1)
        {
            Interlocked.Increment(ref reconnects);
        }

        Log.Connected(logger, settings.Endpoint, settings.ClientId, result.IsSessionPresent);
    }

    private Task OnDisconnectedAsync(MqttClientDisconnectedEventArgs e)
    {
        if (!e.ClientWasConnected)
        {
            return Task.CompletedTask;
        }

        lock (gate)
        {
            Volatile.Write(ref connected, 0);
            up = NewSignal();
            down.TrySetResult();
        }

        if (!stopping.IsCancellationRequested)
        {
            report($"mqtt {settings.Endpoint}: connection lost ({e.Reason}); reconnecting");
        }

        return Task.CompletedTask;
    }

    /// <summary>A broker's answer that retrying with the same settings cannot change.</summary>
    private static bool IsRefusal(MqttClientConnectResultCode code) => code is MqttClientConnectResultCode.BadUserNameOrPassword
        or MqttClientConnectResultCode.NotAuthorized or MqttClientConnectResultCode.ClientIdentifierNotValid
        or MqttClientConnectResultCode.UnsupportedProtocolVersion or MqttClientConnectResultCode.Banned
        or MqttClientConnectResultCode.BadAuthenticationMethod;

    private static bool IsRefusal(Exception? inner) => inner is AuthenticationException;

    /// <summary>MQTTnet reports a refused CONNACK as an exception whose message names the result code.</summary>
    private static bool RefusedIn(string message) =>
        Enum.GetValues<MqttClientConnectResultCode>().Any(code => IsRefusal(code) && message.Contains(code.ToString(), StringComparison.Ordinal));

    /// <summary>An exception's message and its causes', which MQTTnet nests.</summary>
    internal static string Describe(Exception e)
    {
        var parts = new List<string>();
        for (var current = (Exception?)e; current is not null && parts.Count < 4; current = current.InnerException)
        {
            if (!parts.Contains(current.Message, StringComparer.Ordinal))
            {
                parts.Add(current.Message);
            }
        }

        return string.Join(": ", parts);
    }

    private async Task DisconnectQuietlyAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await Client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().WithReason(MqttClientDisconnectOptionsReason.NormalDisconnection).Build(), timeout.Token)
                .ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Leaving: a broker that is gone cannot be told.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync().ConfigureAwait(false);
        if (loop is not null)
        {
            await loop.ConfigureAwait(false);
        }

        if (Client.IsConnected)
        {
            await DisconnectQuietlyAsync().ConfigureAwait(false);
        }

        Volatile.Write(ref connected, 0);
        Claimed.TryRemove(new KeyValuePair<(string, string), MqttConnection>((settings.Endpoint, settings.ClientId), this));
        Client.Dispose();
        stopping.Dispose();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static partial class Log
    {
        [LoggerMessage(EventId = 7001, Level = LogLevel.Information, Message = "mqtt: connected to {Endpoint} as {ClientId} (session present: {SessionPresent})")]
        public static partial void Connected(ILogger logger, string endpoint, string clientId, bool sessionPresent);
    }
}

/// <summary>The broker refused the connection's settings (credentials, authorization, protocol, TLS): retrying cannot help.</summary>
internal sealed class MqttRefusedException(string message, Exception? inner) : Exception(message, inner);

/// <summary>Client ids EdgeStream makes when none is set: stable across restarts (a persistent session is found again) and unique per connection.</summary>
internal static class MqttClientIds
{
    /// <summary>A client id stable across runs: the role, the readable part of <paramref name="name"/>, and a hash of the machine, the name and <paramref name="scope"/>.</summary>
    /// <param name="role"><c>source</c> or <c>sink</c>.</param>
    /// <param name="name">What connects (a stream, a rule's sink).</param>
    /// <param name="scope">What else makes the session its own (the topic filter): when it changes, so does the id, and an old session's subscriptions are not inherited.</param>
    public static string For(string role, string name, string scope = "")
    {
        var seed = Environment.MachineName + "/" + role + "/" + name + "/" + scope;
        var hash = 2166136261u; // FNV-1a: a short, stable tag of the machine and the connection
        foreach (var b in System.Text.Encoding.UTF8.GetBytes(seed))
        {
            hash = unchecked((hash ^ b) * 16777619u);
        }

        var safe = new string(name.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').Take(24).ToArray());
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"edgestream-{role}-{safe}-{hash:x8}");
    }
}
