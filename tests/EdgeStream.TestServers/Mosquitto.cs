using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace EdgeStream.TestServers;

/// <summary>
/// A real Mosquitto broker of its own: <c>mosquitto -c CONF</c> with its config, password file, certificates,
/// persistence database and log in a temp directory, listening on free loopback ports:
/// <list type="bullet">
/// <item><see cref="Port"/> (<see cref="TcpUri"/>): plain TCP, anonymous clients allowed;</item>
/// <item><see cref="AuthPort"/> (<see cref="AuthTcpUri"/>): plain TCP, only <see cref="User"/> with <see cref="Password"/>;</item>
/// <item><see cref="TlsPort"/> (<see cref="TlsUri"/>): TLS with a server certificate for 127.0.0.1 and localhost issued
/// by a CA made for this broker (<see cref="CaPath"/>), anonymous, a client certificate optional;</item>
/// <item><see cref="MutualTlsPort"/> (<see cref="MutualTlsUri"/>): the same, but a client certificate issued by that
/// CA is required (<see cref="ClientCertificatePath"/>, <see cref="ClientKeyPath"/>).</item>
/// </list>
/// The config sets <c>max_queued_messages 0</c> (Mosquitto's default of 1000 silently drops QoS 1/2 messages queued
/// for a subscriber that falls behind) and, unless told otherwise, saves its database on every change
/// (<c>autosave_on_changes true</c>, <c>autosave_interval 1</c>) so that persistent sessions survive
/// <see cref="KillAsync"/> as far as Mosquitto allows.
/// <para>
/// What survives a kill (Mosquitto 2.0.11): what the last save held. A save follows, in the broker's next loop turn,
/// each subscribe/unsubscribe, connect of a persistent session, message queued for a disconnected persistent session,
/// retained message and acknowledgement from a subscriber, but Mosquitto answers the client (SUBACK, PUBACK) before
/// that save, so a kill right after the answer can lose it (a PUBACK'd message for an offline session was lost in
/// 5 of 60 kills issued straight after the PUBACK here). A message sent to a connected subscriber that has not
/// acknowledged it yet is not a change: it is saved only by the next change or <see cref="SaveNowAsync"/>, so a kill
/// loses it (the session comes back without it). A graceful stop (<see cref="StopGracefullyAsync"/>) saves
/// everything, in-flight messages included (redelivered with DUP). <see cref="WaitForDatabaseToHoldAsync"/> and
/// <see cref="SaveNowAsync"/> make kill tests deterministic.
/// </para>
/// Mosquitto must be installed (<c>./test.sh</c> installs Debian's <c>mosquitto</c>).
/// </summary>
public sealed class Mosquitto : IAsyncDisposable
{
    /// <summary>The address every listener is bound to.</summary>
    public const string Host = "127.0.0.1";

    /// <summary>The user the <see cref="AuthPort"/> listener accepts.</summary>
    public const string User = "edge";

    /// <summary>
    /// <see cref="User"/>'s password: a space, the characters URLs and DSNs treat specially and MQTT's wildcards, so a
    /// connector that builds or parses it carelessly fails.
    /// </summary>
    public const string Password = "mq p@ss:w0rd/;=#+x";

    private const string Binary = "/usr/sbin/mosquitto";

    private readonly ProcessStartInfo startInfo;
    private readonly StringBuilder output = new();
    private Process? server;

    private Mosquitto(string directory, ProcessStartInfo startInfo, TestCertificateAuthority authority, int[] ports)
    {
        DirectoryPath = directory;
        this.startInfo = startInfo;
        Authority = authority;
        (Port, AuthPort, TlsPort, MutualTlsPort) = (ports[0], ports[1], ports[2], ports[3]);
    }

    /// <summary>The plain TCP listener's port; anonymous clients allowed.</summary>
    public int Port { get; }

    /// <summary>The plain TCP listener's port that requires <see cref="User"/> and <see cref="Password"/>.</summary>
    public int AuthPort { get; }

    /// <summary>The TLS listener's port; anonymous, a client certificate optional.</summary>
    public int TlsPort { get; }

    /// <summary>The TLS listener's port that requires a client certificate issued by <see cref="Authority"/>.</summary>
    public int MutualTlsPort { get; }

    /// <summary><c>tcp://127.0.0.1:PORT</c> of <see cref="Port"/>, eKuiper's server form.</summary>
    public string TcpUri => $"tcp://{Host}:{Port}";

    /// <summary><c>tcp://127.0.0.1:PORT</c> of <see cref="AuthPort"/>.</summary>
    public string AuthTcpUri => $"tcp://{Host}:{AuthPort}";

    /// <summary><c>ssl://127.0.0.1:PORT</c> of <see cref="TlsPort"/>, eKuiper's TLS server form.</summary>
    public string TlsUri => $"ssl://{Host}:{TlsPort}";

    /// <summary><c>ssl://127.0.0.1:PORT</c> of <see cref="MutualTlsPort"/>.</summary>
    public string MutualTlsUri => $"ssl://{Host}:{MutualTlsPort}";

    /// <summary>The temp directory holding the config, certificates, database and log; deleted by <see cref="DisposeAsync"/>.</summary>
    public string DirectoryPath { get; }

    /// <summary>The broker's config file.</summary>
    public string ConfigPath => Path.Combine(DirectoryPath, "mosquitto.conf");

    /// <summary>The broker's log (connections, subscriptions, errors; never passwords).</summary>
    public string LogPath => Path.Combine(DirectoryPath, "mosquitto.log");

    /// <summary>The persistence database Mosquitto writes (it exists once Mosquitto has saved something).</summary>
    public string DatabasePath => Path.Combine(DirectoryPath, "mosquitto.db");

    /// <summary>The CA that issued the server and client certificates; it can issue more (<see cref="TestCertificateAuthority.IssueClientCertificate"/>).</summary>
    public TestCertificateAuthority Authority { get; }

    /// <summary>The CA certificate as PEM: what a client must trust to connect to the TLS listeners.</summary>
    public string CaPath => Path.Combine(DirectoryPath, "ca.pem");

    /// <summary>The TLS listeners' server certificate as PEM (subject alternative names 127.0.0.1 and localhost).</summary>
    public string ServerCertificatePath => Path.Combine(DirectoryPath, "server.pem");

    /// <summary>A client certificate (<c>CN=edgestream-client</c>) issued by the CA, as PEM, for <see cref="MutualTlsPort"/>.</summary>
    public string ClientCertificatePath => Path.Combine(DirectoryPath, "client.pem");

    /// <summary>The private key of <see cref="ClientCertificatePath"/>, unencrypted PKCS#8 PEM.</summary>
    public string ClientKeyPath => Path.Combine(DirectoryPath, "client-key.pem");

    /// <summary>Whether the broker process is running.</summary>
    public bool IsRunning => server is { HasExited: false };

    private string PasswordPath => Path.Combine(DirectoryPath, "passwords");

    private IEnumerable<int> Ports => [Port, AuthPort, TlsPort, MutualTlsPort];

    /// <summary>
    /// Writes the config, password file and certificates into a new temp directory, starts Mosquitto and returns once
    /// every listener accepts TCP connections.
    /// </summary>
    /// <param name="saveOnEveryChange">
    /// Save the database after every change (the default). It costs: each save writes the whole database, so queueing
    /// n messages for a disconnected session costs O(n²) (2,000 took 3 s here instead of 0.3 s) and a QoS 1 stream to
    /// a connected subscriber runs about 3 times slower. False saves only on a graceful stop or <see cref="SaveNowAsync"/>,
    /// for throughput tests that never kill the broker.
    /// </param>
    /// <exception cref="InvalidOperationException">Mosquitto is not installed, or did not start (the message has the end of its log).</exception>
    public static async Task<Mosquitto> StartAsync(bool saveOnEveryChange = true)
    {
        var binary = File.Exists(Binary) ? Binary : FindOnPath("mosquitto")
            ?? throw new InvalidOperationException($"Mosquitto is not installed here ({Binary} is missing): run ./test.sh, which installs the Debian package mosquitto, or apt-get install mosquitto");

        // Free ports are picked before Mosquitto binds them, so another process may take one in between: try again
        // with new ports when that is why Mosquitto stopped.
        for (var attempt = 1; ; attempt++)
        {
            var broker = Create(binary, saveOnEveryChange);
            try
            {
                await broker.LaunchAsync();
                return broker;
            }
            catch (InvalidOperationException) when (attempt < 3 && broker.ReadLog().Contains("Address already in use", StringComparison.Ordinal))
            {
                await broker.DisposeAsync();
            }
            catch
            {
                await broker.DisposeAsync();
                throw;
            }
        }
    }

    /// <summary>Loads <see cref="CaPath"/> (the certificate only).</summary>
    public X509Certificate2 LoadCaCertificate() => X509Certificate2.CreateFromPem(File.ReadAllText(CaPath));

    /// <summary>Loads the client certificate with its private key (<see cref="ClientCertificatePath"/>, <see cref="ClientKeyPath"/>).</summary>
    public X509Certificate2 LoadClientCertificate() => X509Certificate2.CreateFromPemFile(ClientCertificatePath, ClientKeyPath);

    /// <summary>The broker's log so far (empty when it has written none).</summary>
    public string ReadLog()
    {
        try
        {
            using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
        catch (IOException)
        {
            return string.Empty;
        }
    }

    /// <summary>
    /// Kills the broker (SIGKILL, as a crash would): what its last save did not hold is lost (see the class remarks);
    /// <see cref="RestartAsync"/> brings it back.
    /// </summary>
    public async Task KillAsync()
    {
        if (IsRunning)
        {
            server!.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
        }
    }

    /// <summary>
    /// Stops the broker as its service would (SIGTERM): Mosquitto saves its database and closes every connection.
    /// Killed if it has not stopped in 30 s.
    /// </summary>
    public async Task StopGracefullyAsync()
    {
        if (!IsRunning)
        {
            return;
        }

        await SignalAsync("TERM");
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await server!.WaitForExitAsync(patience.Token);
        }
        catch (OperationCanceledException)
        {
            await KillAsync();
            throw new InvalidOperationException($"Mosquitto did not stop within 30 s of SIGTERM; it was killed.\n{Tail()}");
        }
    }

    /// <summary>
    /// Makes the running broker save its database now (SIGUSR1) and returns once the file has been replaced: after it,
    /// a kill loses nothing the broker had before the call, messages in flight to connected subscribers included.
    /// </summary>
    public async Task SaveNowAsync()
    {
        var before = File.Exists(DatabasePath) ? File.GetLastWriteTimeUtc(DatabasePath) : DateTime.MinValue;
        await SignalAsync("USR1");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!File.Exists(DatabasePath) || File.GetLastWriteTimeUtc(DatabasePath) == before)
        {
            if (!IsRunning || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"Mosquitto did not save its database after SIGUSR1.\n{Tail()}");
            }

            await Task.Delay(10);
        }
    }

    /// <summary>
    /// Waits until the broker's saved database holds <paramref name="text"/> (UTF-8: a payload, topic or client id),
    /// without making it save: how a test knows that the autosave after a change has happened before it kills the broker.
    /// </summary>
    /// <exception cref="TimeoutException">The database did not hold it within <paramref name="timeout"/> (10 s by default).</exception>
    public async Task WaitForDatabaseToHoldAsync(string text, TimeSpan? timeout = null)
    {
        var wanted = Encoding.UTF8.GetBytes(text);
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            try
            {
                if (File.Exists(DatabasePath) && (await File.ReadAllBytesAsync(DatabasePath)).AsSpan().IndexOf(wanted) >= 0)
                {
                    return;
                }
            }
            catch (IOException)
            {
                // Replaced while being read: read the new one.
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Mosquitto's database did not hold '{text}' within {(timeout ?? TimeSpan.FromSeconds(10)).TotalSeconds} s");
            }

            await Task.Delay(10);
        }
    }

    /// <summary>
    /// Starts the broker again on the same ports, config and persistence database (stopping it gracefully first if it
    /// is running); returns once every listener accepts TCP connections.
    /// </summary>
    /// <exception cref="InvalidOperationException">It did not start (the message has the end of its log).</exception>
    public async Task RestartAsync()
    {
        await StopGracefullyAsync();
        await LaunchAsync();
    }

    /// <summary>Kills the broker (SIGKILL), keeps it down for <paramref name="downtime"/>, starts it again.</summary>
    public async Task KillAndRestartAsync(TimeSpan downtime)
    {
        await KillAsync();
        await Task.Delay(downtime);
        await LaunchAsync();
    }

    /// <summary>Stops the broker gracefully (SIGTERM), keeps it down for <paramref name="downtime"/>, starts it again.</summary>
    public async Task StopAndRestartAsync(TimeSpan downtime)
    {
        await StopGracefullyAsync();
        await Task.Delay(downtime);
        await LaunchAsync();
    }

    /// <summary>Kills the broker and deletes its directory.</summary>
    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        server?.Dispose();
        server = null;
        Authority.Dispose();
        if (Directory.Exists(DirectoryPath))
        {
            Directory.Delete(DirectoryPath, recursive: true);
        }
    }

    private static Mosquitto Create(string binary, bool saveOnEveryChange)
    {
        var directory = Path.Combine(Path.GetTempPath(), "edgestream-mosquitto-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        var start = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = directory };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(Path.Combine(directory, "mosquitto.conf"));
        var broker = new Mosquitto(directory, start, TestCertificateAuthority.Create("EdgeStream test CA"), FreePorts(4));
        try
        {
            broker.WriteFiles(saveOnEveryChange);
            return broker;
        }
        catch
        {
            broker.Authority.Dispose();
            Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    private void WriteFiles(bool saveOnEveryChange)
    {
        using (var serverCertificate = Authority.IssueServerCertificate(["localhost"], [IPAddress.Loopback]))
        {
            TestCertificateAuthority.WritePem(serverCertificate, ServerCertificatePath, Path.Combine(DirectoryPath, "server-key.pem"));
        }

        using (var clientCertificate = Authority.IssueClientCertificate("edgestream-client"))
        {
            TestCertificateAuthority.WritePem(clientCertificate, ClientCertificatePath, ClientKeyPath);
        }

        TestCertificateAuthority.WritePem(Authority.Certificate, CaPath);
        File.WriteAllText(PasswordPath, $"{User}:{HashPassword(Password)}\n");

        var tls = $"""
            cafile {CaPath}
            certfile {ServerCertificatePath}
            keyfile {Path.Combine(DirectoryPath, "server-key.pem")}
            """;
        // As root Mosquitto switches to the user `mosquitto`, which cannot write this root-owned directory;
        // `user root` keeps it root (it warns that it should not run as root, which is fine for a test broker).
        var user = Environment.UserName == "root" ? "user root" : string.Empty;
        var autosave = saveOnEveryChange
            ? "# Save the database after every change (subscription, retained or queued message, acknowledgement).\nautosave_interval 1\nautosave_on_changes true"
            : "# Save the database only on a graceful stop or SIGUSR1.\nautosave_interval 0";
        File.WriteAllText(ConfigPath, $"""
            # EdgeStream test broker (tests/EdgeStream.TestServers/Mosquitto.cs).
            {user}
            per_listener_settings true
            # Unlimited queues: the default (1000) silently drops QoS 1/2 messages for a subscriber that falls behind.
            max_queued_messages 0
            persistence true
            persistence_location {DirectoryPath}/
            persistence_file mosquitto.db
            {autosave}
            log_dest file {LogPath}
            log_type error
            log_type warning
            log_type notice
            log_type information
            log_type subscribe
            log_type unsubscribe
            log_timestamp_format %Y-%m-%dT%H:%M:%S
            connection_messages true
            set_tcp_nodelay true

            listener {Port} {Host}
            allow_anonymous true

            listener {AuthPort} {Host}
            allow_anonymous false
            password_file {PasswordPath}

            listener {TlsPort} {Host}
            allow_anonymous true
            {tls}
            require_certificate false

            listener {MutualTlsPort} {Host}
            allow_anonymous true
            {tls}
            require_certificate true

            """);
    }

    private async Task LaunchAsync()
    {
        server?.Dispose();
        lock (output)
        {
            output.Clear();
        }

        server = Process.Start(startInfo) ?? throw new InvalidOperationException("mosquitto did not start");
        server.OutputDataReceived += Collect;
        server.ErrorDataReceived += Collect;
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();

        var deadline = DateTime.UtcNow.AddSeconds(30);
        foreach (var port in Ports)
        {
            while (true)
            {
                if (server.HasExited)
                {
                    await server.WaitForExitAsync();
                    throw new InvalidOperationException($"Mosquitto did not start: it exited with code {server.ExitCode}.\n{Tail()}");
                }

                if (DateTime.UtcNow > deadline)
                {
                    throw new InvalidOperationException($"Mosquitto did not start: port {port} accepted no connection within 30 s.\n{Tail()}");
                }

                try
                {
                    using var probe = new TcpClient();
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                    await probe.ConnectAsync(Host, port, timeout.Token);
                    break;
                }
                catch (Exception e) when (e is SocketException or OperationCanceledException)
                {
                    await Task.Delay(50);
                }
            }
        }
    }

    private async Task SignalAsync(string signal)
    {
        if (!IsRunning)
        {
            throw new InvalidOperationException($"Mosquitto is not running: cannot send SIG{signal}");
        }

        var start = new ProcessStartInfo("kill") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-" + signal);
        start.ArgumentList.Add(server!.Id.ToString(CultureInfo.InvariantCulture));
        using var kill = Process.Start(start) ?? throw new InvalidOperationException("kill did not start");
        await kill.WaitForExitAsync();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {server.Id} failed: {await kill.StandardError.ReadToEndAsync()}");
        }
    }

    private void Collect(object sender, DataReceivedEventArgs e)
    {
        if (e.Data is null)
        {
            return;
        }

        lock (output)
        {
            if (output.Length < 64 * 1024)
            {
                output.AppendLine(e.Data);
            }
        }
    }

    private string Tail()
    {
        var lines = ReadLog().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string console;
        lock (output)
        {
            console = output.ToString().Trim();
        }

        return $"--- last lines of {LogPath} ---\n{string.Join('\n', lines.TakeLast(40))}\n--- mosquitto's output ---\n{console}";
    }

    // Mosquitto 2's password file format ($7$): PBKDF2-HMAC-SHA512, as mosquitto_passwd writes it.
    private static string HashPassword(string password)
    {
        const int Iterations = 101;
        var salt = RandomNumberGenerator.GetBytes(12);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, Iterations, HashAlgorithmName.SHA512, 64);
        return $"$7${Iterations}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}";
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, name)).FirstOrDefault(File.Exists);

    private static int[] FreePorts(int count)
    {
        // Held open together so the ports differ from one another.
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        try
        {
            foreach (var listener in listeners)
            {
                listener.Start();
            }

            return listeners.Select(listener => ((IPEndPoint)listener.LocalEndpoint).Port).ToArray();
        }
        finally
        {
            foreach (var listener in listeners)
            {
                listener.Dispose();
            }
        }
    }
}
