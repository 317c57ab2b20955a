using System.Globalization;

namespace EdgeStream.Mqtt;

/// <summary>
/// How to reach an MQTT broker, with eKuiper's property names (<c>server</c>, <c>clientid</c>, <c>username</c>,
/// <c>password</c>, <c>protocolVersion</c>, <c>qos</c>, <c>certificationPath</c>, <c>privateKeyPath</c>,
/// <c>rootCaPath</c>, <c>insecureSkipVerify</c>). A stream's <c>CONF_KEY</c> names a set of these in
/// <see cref="MqttProfiles"/>; a sink action carries them as properties.
/// </summary>
public class MqttConnectionOptions
{
    /// <summary>
    /// The broker: <c>tcp://host:port</c> (or <c>mqtt://</c>; port 1883 when left out) or, over TLS,
    /// <c>ssl://host:port</c> (or <c>tls://</c>, <c>mqtts://</c>; port 8883). Defaults to <c>tcp://127.0.0.1:1883</c>.
    /// </summary>
    public string Server { get; set; } = "tcp://127.0.0.1:1883";

    /// <summary>
    /// The client id. With a persistent session (the default at QoS 1 and 2) it names the session the broker keeps
    /// while the client is away, so it must be stable and unique per connection: when left out, EdgeStream derives
    /// one from the machine, the stream or rule, and the action.
    /// </summary>
    public string? ClientId { get; set; }

    /// <summary>The user name, if the broker asks for one.</summary>
    public string? Username { get; set; }

    /// <summary>The password. It never appears in logs, errors, status or <c>explain</c> output.</summary>
    public string? Password { get; set; }

    /// <summary>The protocol: <c>3.1.1</c> (the default; <c>4</c> and <c>3.1</c> are read as 3.1.1) or <c>5</c>.</summary>
    public string ProtocolVersion { get; set; } = "3.1.1";

    /// <summary>The quality of service: 0 (at most once), 1 (at least once, the default) or 2 (exactly once to the broker).</summary>
    public int Qos { get; set; } = 1;

    /// <summary>A client certificate (PEM) for mutual TLS, with <see cref="PrivateKeyPath"/>.</summary>
    public string? CertificationPath { get; set; }

    /// <summary>The client certificate's private key (PEM).</summary>
    public string? PrivateKeyPath { get; set; }

    /// <summary>The CA certificate(s) (PEM) the broker's certificate must chain to; the system's trust store when left out.</summary>
    public string? RootCaPath { get; set; }

    /// <summary>Accepts any broker certificate. For tests only: it lets anyone in the middle read the traffic.</summary>
    public bool InsecureSkipVerify { get; set; }

    /// <summary>
    /// Whether the broker forgets the session at each disconnect. False (the default) keeps it, so QoS 1 and 2 messages
    /// published while the client is away are delivered when it comes back, and nothing is lost in a short outage.
    /// </summary>
    public bool CleanSession { get; set; }

    /// <summary>How long (seconds) an MQTT 5 broker keeps the session after a disconnect when <see cref="CleanSession"/> is false. Defaults to one day.</summary>
    public int SessionExpiry { get; set; } = 86_400;

    /// <summary>Seconds between keep-alive pings; a broker that stays silent for 1.5 times this is taken as gone. Defaults to 30.</summary>
    public int KeepAlive { get; set; } = 30;

    /// <summary>A copy of these options.</summary>
    /// <returns>The copy.</returns>
    public MqttConnectionOptions Clone() => new()
    {
        Server = Server,
        ClientId = ClientId,
        Username = Username,
        Password = Password,
        ProtocolVersion = ProtocolVersion,
        Qos = Qos,
        CertificationPath = CertificationPath,
        PrivateKeyPath = PrivateKeyPath,
        RootCaPath = RootCaPath,
        InsecureSkipVerify = InsecureSkipVerify,
        CleanSession = CleanSession,
        SessionExpiry = SessionExpiry,
        KeepAlive = KeepAlive,
    };

    /// <summary>The names of the connection properties, as rule actions and configuration files spell them.</summary>
    internal static readonly string[] PropertyNames =
    [
        "server", "clientId", "username", "password", "protocolVersion", "qos", "certificationPath", "privateKeyPath",
        "rootCaPath", "insecureSkipVerify", "cleanSession", "sessionExpiry", "keepAlive",
    ];

    /// <summary>Sets one property by its eKuiper name (any case; <c>clientid</c> too).</summary>
    /// <exception cref="ArgumentException">An unknown name, or a value of the wrong kind.</exception>
    internal void Set(string name, string value)
    {
        switch (name.ToLowerInvariant())
        {
            case "server": Server = value; break;
            case "clientid": ClientId = value; break;
            case "username": Username = value; break;
            case "password": Password = value; break;
            case "protocolversion": ProtocolVersion = value; break;
            case "qos": Qos = Integer(name, value); break;
            case "certificationpath": CertificationPath = value; break;
            case "privatekeypath": PrivateKeyPath = value; break;
            case "rootcapath": RootCaPath = value; break;
            case "insecureskipverify": InsecureSkipVerify = Boolean(name, value); break;
            case "cleansession": CleanSession = Boolean(name, value); break;
            case "sessionexpiry": SessionExpiry = Integer(name, value); break;
            case "keepalive": KeepAlive = Integer(name, value); break;
            default:
                throw new ArgumentException($"unknown MQTT property `{name}`; known: {string.Join(", ", PropertyNames)}");
        }
    }

    private static int Integer(string name, string value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : throw new ArgumentException($"`{name}` must be an integer, not `{value}`");

    private static bool Boolean(string name, string value) =>
        bool.TryParse(value, out var b) ? b : throw new ArgumentException($"`{name}` must be true or false, not `{value}`");
}
