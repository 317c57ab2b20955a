using System.Globalization;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace EdgeStream.Mqtt;

/// <summary>
/// <see cref="MqttConnectionOptions"/> checked and turned into MQTTnet's client options: the server URL split into
/// host, port and TLS, the protocol version and QoS as enums, and the certificates loaded. Made when a rule is
/// created (so bad settings fail there), and again for each connection.
/// </summary>
internal sealed class MqttSettings
{
    private MqttSettings(MqttConnectionOptions options, string host, int port, bool tls, MqttProtocolVersion version, MqttQualityOfServiceLevel qos, string clientId)
    {
        Options = options;
        Host = host;
        Port = port;
        Tls = tls;
        Version = version;
        Qos = qos;
        ClientId = clientId;
    }

    public MqttConnectionOptions Options { get; }

    public string Host { get; }

    public int Port { get; }

    public bool Tls { get; }

    public MqttProtocolVersion Version { get; }

    public MqttQualityOfServiceLevel Qos { get; }

    public string ClientId { get; }

    /// <summary>The broker as the status and logs show it: scheme, host and port, never credentials.</summary>
    public string Endpoint => string.Create(CultureInfo.InvariantCulture, $"{(Tls ? "ssl" : "tcp")}://{Host}:{Port}");

    /// <summary>Checks <paramref name="options"/>.</summary>
    /// <param name="options">The settings.</param>
    /// <param name="defaultClientId">The client id when none is set.</param>
    /// <exception cref="ArgumentException">A setting is invalid; the message names it (never a password).</exception>
    public static MqttSettings From(MqttConnectionOptions options, string defaultClientId)
    {
        ArgumentNullException.ThrowIfNull(options);
        var (host, port, tls) = ParseServer(options.Server);
        var version = options.ProtocolVersion.Trim() switch
        {
            "3.1.1" or "3.1" or "4" or "311" => MqttProtocolVersion.V311,
            "5" or "5.0" or "500" => MqttProtocolVersion.V500,
            var other => throw new ArgumentException($"`protocolVersion` must be 3.1.1 or 5, not `{other}`"),
        };
        var qos = options.Qos switch
        {
            0 => MqttQualityOfServiceLevel.AtMostOnce,
            1 => MqttQualityOfServiceLevel.AtLeastOnce,
            2 => MqttQualityOfServiceLevel.ExactlyOnce,
            _ => throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"`qos` must be 0, 1 or 2, not {options.Qos}")),
        };
        if (options.KeepAlive is < 0 or > ushort.MaxValue)
        {
            throw new ArgumentException("`keepAlive` must be 0 to 65535 seconds");
        }

        if (options.SessionExpiry < 0)
        {
            throw new ArgumentException("`sessionExpiry` must not be negative");
        }

        if ((options.CertificationPath is null) != (options.PrivateKeyPath is null))
        {
            throw new ArgumentException("`certificationPath` and `privateKeyPath` go together: a client certificate needs its key");
        }

        foreach (var (name, path) in new[] { ("certificationPath", options.CertificationPath), ("privateKeyPath", options.PrivateKeyPath), ("rootCaPath", options.RootCaPath) })
        {
            if (path is not null && !File.Exists(path))
            {
                throw new ArgumentException($"`{name}`: no file `{path}`");
            }
        }

        var clientId = string.IsNullOrEmpty(options.ClientId) ? defaultClientId : options.ClientId;
        return new MqttSettings(options.Clone(), host, port, tls, version, qos, clientId);
    }

    /// <summary>Splits <c>scheme://host:port</c>; credentials in the URL are refused (they belong in username and password).</summary>
    private static (string Host, int Port, bool Tls) ParseServer(string server)
    {
        if (!Uri.TryCreate(server, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw new ArgumentException($"`server` must look like tcp://host:1883 or ssl://host:8883, not `{Redact(server)}`");
        }

        if (uri.UserInfo.Length > 0)
        {
            throw new ArgumentException("`server` must not hold credentials: set `username` and `password`");
        }

        var tls = uri.Scheme.ToLowerInvariant() switch
        {
            "tcp" or "mqtt" => false,
            "ssl" or "tls" or "mqtts" => true,
            var other => throw new ArgumentException($"`server`: scheme `{other}` is not supported; use tcp:// or ssl://"),
        };
        return (uri.IdnHost, uri.IsDefaultPort || uri.Port < 0 ? (tls ? 8883 : 1883) : uri.Port, tls);
    }

    /// <summary>A server text without anything between <c>://</c> and <c>@</c>.</summary>
    private static string Redact(string server)
    {
        var at = server.IndexOf('@', StringComparison.Ordinal);
        var scheme = server.IndexOf("://", StringComparison.Ordinal);
        return at > 0 ? (scheme >= 0 && scheme < at ? server[..(scheme + 3)] : string.Empty) + "***" + server[at..] : server;
    }

    /// <summary>MQTTnet's options for one connection.</summary>
    public MqttClientOptions Build()
    {
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(Host, Port)
            .WithClientId(ClientId)
            .WithProtocolVersion(Version)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(Options.KeepAlive))
            .WithTimeout(TimeSpan.FromSeconds(10));
        builder = Version == MqttProtocolVersion.V500
            ? builder.WithCleanStart(Options.CleanSession).WithSessionExpiryInterval(Options.CleanSession ? 0u : (uint)Options.SessionExpiry)
            : builder.WithCleanSession(Options.CleanSession);
        if (!string.IsNullOrEmpty(Options.Username))
        {
            builder = builder.WithCredentials(Options.Username, Options.Password ?? string.Empty);
        }

        if (Tls)
        {
            builder = builder.WithTlsOptions(ConfigureTls);
        }

        return builder.Build();
    }

    private void ConfigureTls(MqttClientTlsOptionsBuilder tls)
    {
        tls.UseTls().WithTargetHost(Host);
        if (Options.CertificationPath is { } certificate && Options.PrivateKeyPath is { } key)
        {
            using var pem = X509Certificate2.CreateFromPemFile(certificate, key);
            // SslStream needs a certificate whose key it can use: reload it through PKCS#12.
            var usable = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
            tls.WithClientCertificates([usable]);
        }

        X509Certificate2Collection? roots = null;
        if (Options.RootCaPath is { } path)
        {
            roots = [];
            roots.ImportFromPemFile(path);
        }

        var insecure = Options.InsecureSkipVerify;
        tls.WithCertificateValidationHandler(e => insecure || Validate(e.Certificate, e.SslPolicyErrors, roots));
    }

    /// <summary>The broker's certificate is good: its name matches, and it chains to the given roots (or the system's).</summary>
    private static bool Validate(X509Certificate? presented, SslPolicyErrors errors, X509Certificate2Collection? roots)
    {
        if (presented is null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
        {
            return false;
        }

        if (roots is null)
        {
            return errors == SslPolicyErrors.None;
        }

        using var certificate = X509CertificateLoader.LoadCertificate(presented.GetRawCertData());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        return chain.Build(certificate);
    }
}
