using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using EdgeStream.TestServers;
using MQTTnet;
using MQTTnet.Exceptions;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using static EdgeStream.Mqtt.Tests.TestClient;

namespace EdgeStream.Mqtt.Tests;

/// <summary>
/// Proves the Mosquitto fixture with a raw MQTTnet 5 client (no EdgeStream code): every listener, both protocol
/// versions, every QoS, persistent sessions across reconnects, graceful stops and kills, and the broker behaviours
/// the MQTT connectors rely on (manual acknowledgement, shared subscriptions, unbounded queues).
/// </summary>
[TestFixture]
public sealed class BrokerFixtureTests
{
    private static Mosquitto Broker => MosquittoBroker.Broker;

    [Test]
    public async Task Messages_make_the_round_trip_at_every_qos_over_both_protocol_versions(
        [Values(MqttProtocolVersion.V311, MqttProtocolVersion.V500)] MqttProtocolVersion version,
        [Values(MqttQualityOfServiceLevel.AtMostOnce, MqttQualityOfServiceLevel.AtLeastOnce, MqttQualityOfServiceLevel.ExactlyOnce)] MqttQualityOfServiceLevel qos)
    {
        var topic = NewTopic();
        await using var subscriber = await ConnectAsync(Options(Broker.Port, version).Build());
        await subscriber.SubscribeAsync(topic, qos);
        await using var publisher = await ConnectAsync(Options(Broker.Port, version).Build());
        var sent = Enumerable.Range(0, 20).Select(i => $"{{\"n\":{i}}}").ToList();
        foreach (var payload in sent)
        {
            await publisher.PublishAsync(topic, payload, qos);
        }

        var received = new List<MqttApplicationMessage>();
        for (var i = 0; i < sent.Count; i++)
        {
            received.Add((await subscriber.NextAsync()).ApplicationMessage);
        }

        Assert.Multiple(() =>
        {
            Assert.That(received.Select(m => m.ConvertPayloadToString()), Is.EqualTo(sent));
            Assert.That(received.Select(m => m.Topic), Is.All.EqualTo(topic));
            Assert.That(received.Select(m => m.QualityOfServiceLevel), Is.All.EqualTo(qos));
        });
        Assert.That(await subscriber.NothingWithinAsync(TimeSpan.FromMilliseconds(200)), "a message came twice");
    }

    [Test]
    public async Task The_auth_listener_accepts_the_user_with_the_right_password(
        [Values(MqttProtocolVersion.V311, MqttProtocolVersion.V500)] MqttProtocolVersion version)
    {
        var topic = NewTopic();
        await using var client = await ConnectAsync(Options(Broker.AuthPort, version).WithCredentials(Mosquitto.User, Mosquitto.Password).Build());
        await client.SubscribeAsync(topic, MqttQualityOfServiceLevel.AtLeastOnce);
        await client.PublishAsync(topic, "hello", MqttQualityOfServiceLevel.AtLeastOnce);

        Assert.That((await client.NextAsync()).ApplicationMessage.ConvertPayloadToString(), Is.EqualTo("hello"));
    }

    [Test]
    public async Task The_auth_listener_refuses_a_wrong_password_and_anonymous_clients_and_its_log_never_has_the_password(
        [Values(MqttProtocolVersion.V311, MqttProtocolVersion.V500)] MqttProtocolVersion version)
    {
        // MQTTnet 5 does not throw when the broker refuses: ConnectAsync returns the CONNACK's code, unconnected.
        // Mosquitto 2.0 answers a wrong password with "not authorized" (v3.1.1 code 5, v5 0x87), as it answers an
        // anonymous client, never with "bad user name or password": the code cannot tell the two apart.
        await using var wrong = new TestClient();
        var refused = await wrong.ConnectAsync(Options(Broker.AuthPort, version).WithCredentials(Mosquitto.User, Mosquitto.Password + "x").Build());
        await using var anonymous = new TestClient();
        var anonymousRefused = await anonymous.ConnectAsync(Options(Broker.AuthPort, version).Build());

        Assert.Multiple(() =>
        {
            Assert.That(refused.ResultCode, Is.EqualTo(MqttClientConnectResultCode.NotAuthorized));
            Assert.That(wrong.Client.IsConnected, Is.False);
            Assert.That(anonymousRefused.ResultCode, Is.EqualTo(MqttClientConnectResultCode.NotAuthorized));
            Assert.That(anonymous.Client.IsConnected, Is.False);
            Assert.That(Broker.ReadLog(), Does.Not.Contain(Mosquitto.Password).And.Not.Contain("p@ss"));
        });
    }

    [Test]
    public async Task The_plain_listener_takes_anonymous_clients_and_ignores_credentials()
    {
        await using var client = await ConnectAsync(Options(Broker.Port).WithCredentials("nobody", "nothing").Build());

        Assert.That(client.Client.IsConnected);
    }

    [Test]
    public async Task The_tls_listener_works_for_a_client_that_trusts_the_generated_ca_as_its_trust_chain()
    {
        using var ca = Broker.LoadCaCertificate();
        var options = Options(Broker.TlsPort).WithTlsOptions(tls => tls.UseTls().WithTrustChain([ca])).Build();

        await RoundTripAsync(options);
    }

    [Test]
    public async Task The_tls_listener_works_for_a_client_whose_validation_handler_checks_the_chain_against_the_ca()
    {
        using var ca = Broker.LoadCaCertificate();
        var handled = 0;
        var options = Options(Broker.TlsPort).WithTlsOptions(tls => tls.UseTls().WithCertificateValidationHandler(e =>
        {
            Interlocked.Increment(ref handled);
            return ChainsTo(ca, e.Certificate, e.SslPolicyErrors);
        })).Build();

        await RoundTripAsync(options);
        Assert.That(handled, Is.GreaterThan(0));
    }

    [Test]
    public async Task The_tls_listener_is_refused_by_a_client_that_does_not_trust_the_ca()
    {
        await using var client = new TestClient();

        Assert.That(async () => await client.ConnectAsync(Options(Broker.TlsPort).WithTlsOptions(tls => tls.UseTls()).Build()),
            Throws.InstanceOf<MqttCommunicationException>());
        Assert.That(client.Client.IsConnected, Is.False);
    }

    [Test]
    public async Task The_tls_listener_is_refused_by_a_client_that_trusts_another_ca()
    {
        using var other = TestCertificateAuthority.Create("some other CA");
        await using var client = new TestClient();

        Assert.That(async () => await client.ConnectAsync(Options(Broker.TlsPort).WithTlsOptions(tls => tls.UseTls().WithTrustChain([other.Certificate])).Build()),
            Throws.InstanceOf<MqttCommunicationException>());
    }

    [Test]
    public async Task The_plain_port_does_not_speak_tls_and_the_tls_port_does_not_speak_plain_mqtt()
    {
        using var ca = Broker.LoadCaCertificate();
        await using var tlsToPlain = new TestClient();
        await using var plainToTls = new TestClient();

        Assert.That(async () => await tlsToPlain.ConnectAsync(Options(Broker.Port).WithTlsOptions(tls => tls.UseTls().WithTrustChain([ca])).Build()),
            Throws.InstanceOf<MqttCommunicationException>());
        Assert.That(async () => await plainToTls.ConnectAsync(Options(Broker.TlsPort).WithTimeout(TimeSpan.FromSeconds(3)).Build()),
            Throws.InstanceOf<MqttCommunicationException>().Or.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public async Task The_mutual_tls_listener_works_with_the_client_certificate_the_ca_issued()
    {
        using var ca = Broker.LoadCaCertificate();
        using var certificate = Broker.LoadClientCertificate();
        var options = Options(Broker.MutualTlsPort).WithTlsOptions(tls => tls.UseTls().WithTrustChain([ca]).WithClientCertificates([certificate])).Build();

        await RoundTripAsync(options);
    }

    [Test]
    public async Task The_mutual_tls_listener_refuses_a_client_without_a_certificate_or_with_one_from_another_ca()
    {
        using var ca = Broker.LoadCaCertificate();
        using var other = TestCertificateAuthority.Create("some other CA");
        using var foreign = other.IssueClientCertificate("intruder");
        await using var without = new TestClient();
        await using var withForeign = new TestClient();

        Assert.That(async () => await without.ConnectAsync(Options(Broker.MutualTlsPort).WithTlsOptions(tls => tls.UseTls().WithTrustChain([ca])).Build()),
            Throws.InstanceOf<MqttCommunicationException>());
        Assert.That(async () => await withForeign.ConnectAsync(Options(Broker.MutualTlsPort).WithTlsOptions(tls => tls.UseTls().WithTrustChain([ca]).WithClientCertificates([foreign])).Build()),
            Throws.InstanceOf<MqttCommunicationException>());
    }

    [Test]
    public async Task A_persistent_session_gets_the_qos1_messages_published_while_it_was_disconnected(
        [Values(MqttProtocolVersion.V311, MqttProtocolVersion.V500)] MqttProtocolVersion version)
    {
        var (topic, clientId) = (NewTopic(), "persistent-" + Guid.NewGuid().ToString("N")[..8]);
        await SubscribeAndLeaveAsync(topic, clientId, version);
        await PublishAsync(topic, 10);

        await using var back = new TestClient();
        var result = await back.ConnectAsync(PersistentOptions(Broker.Port, version, clientId).Build());

        Assert.That(result.IsSessionPresent, "the broker forgot the session");
        Assert.That(await back.PayloadsAsync(10), Is.EqualTo(Numbers(10)));
    }

    [Test]
    public async Task An_mqtt5_session_without_an_expiry_interval_ends_with_its_connection_even_without_clean_start()
    {
        var (topic, clientId) = (NewTopic(), "expiry0-" + Guid.NewGuid().ToString("N")[..8]);
        await using (var subscriber = await ConnectAsync(Options(Broker.Port, MqttProtocolVersion.V500, clientId).WithCleanStart(false).Build()))
        {
            await subscriber.SubscribeAsync(topic, MqttQualityOfServiceLevel.AtLeastOnce);
        }

        await PublishAsync(topic, 3);
        await using var back = new TestClient();
        var result = await back.ConnectAsync(Options(Broker.Port, MqttProtocolVersion.V500, clientId).WithCleanStart(false).Build());

        Assert.That(result.IsSessionPresent, Is.False);
        Assert.That(await back.NothingWithinAsync(TimeSpan.FromMilliseconds(500)), "messages came to a session that should have ended");
    }

    [Test]
    public async Task A_persistent_session_and_its_queued_messages_survive_a_graceful_restart_of_the_broker(
        [Values(MqttProtocolVersion.V311, MqttProtocolVersion.V500)] MqttProtocolVersion version)
    {
        var (topic, clientId) = (NewTopic(), "graceful-" + Guid.NewGuid().ToString("N")[..8]);
        await SubscribeAndLeaveAsync(topic, clientId, version);
        await PublishAsync(topic, 10);

        await Broker.StopAndRestartAsync(TimeSpan.FromMilliseconds(100));

        await using var back = new TestClient();
        var result = await back.ConnectAsync(PersistentOptions(Broker.Port, version, clientId).Build());
        Assert.That(result.IsSessionPresent, "the broker forgot the session across a graceful restart");
        Assert.That(await back.PayloadsAsync(10), Is.EqualTo(Numbers(10)));
    }

    [Test]
    public async Task A_persistent_session_and_its_queued_messages_survive_a_kill_of_the_broker_once_saved(
        [Values(MqttProtocolVersion.V311, MqttProtocolVersion.V500)] MqttProtocolVersion version)
    {
        var (topic, clientId) = (NewTopic(), "killed-" + Guid.NewGuid().ToString("N")[..8]);
        await SubscribeAndLeaveAsync(topic, clientId, version);
        var sent = Payloads(10);
        await PublishAsync(topic, sent);

        // Mosquitto saves after each queued message, but only after it has sent the PUBACK: a kill in between loses
        // the message. Waiting for the last one in the file proves the autosave happened by itself (no SIGUSR1).
        await Broker.WaitForDatabaseToHoldAsync(sent[^1]);
        await Broker.KillAndRestartAsync(TimeSpan.FromMilliseconds(100));

        await using var back = new TestClient();
        var result = await back.ConnectAsync(PersistentOptions(Broker.Port, version, clientId).Build());
        Assert.That(result.IsSessionPresent, "the broker forgot the session across a kill");
        Assert.That(await back.PayloadsAsync(10), Is.EqualTo(sent));
    }

    [Test]
    public async Task Messages_in_flight_to_a_connected_subscriber_come_again_with_dup_after_a_graceful_restart(
        [Values(MqttProtocolVersion.V311, MqttProtocolVersion.V500)] MqttProtocolVersion version)
    {
        var clientId = "inflight-graceful-" + Guid.NewGuid().ToString("N")[..8];
        var (subscriber, sent) = await ReceiveWithoutAcknowledgingAsync(clientId, version, 5);
        await using var gone = subscriber;

        await Broker.StopAndRestartAsync(TimeSpan.FromMilliseconds(100));

        await AssertRedeliveredAsync(clientId, version, sent);
    }

    [Test]
    public async Task Messages_in_flight_to_a_connected_subscriber_come_again_with_dup_after_a_kill_once_the_broker_saved(
        [Values(MqttProtocolVersion.V311, MqttProtocolVersion.V500)] MqttProtocolVersion version)
    {
        // Sending to a connected subscriber is no change for Mosquitto's autosave: without the explicit save (or
        // another change after the sends) a kill loses these messages and the session comes back empty.
        var clientId = "inflight-killed-" + Guid.NewGuid().ToString("N")[..8];
        var (subscriber, sent) = await ReceiveWithoutAcknowledgingAsync(clientId, version, 5);
        await using var gone = subscriber;

        await Broker.SaveNowAsync();
        await Broker.KillAndRestartAsync(TimeSpan.FromMilliseconds(100));

        await AssertRedeliveredAsync(clientId, version, sent);
    }

    [Test]
    public async Task A_retained_message_survives_a_kill_of_the_broker_once_saved()
    {
        var topic = NewTopic();
        var payload = Payloads(1)[0];
        await using (var publisher = await ConnectAsync(Options(Broker.Port).Build()))
        {
            using var timeout = new CancellationTokenSource(Patience);
            await publisher.Client.PublishStringAsync(topic, payload, MqttQualityOfServiceLevel.AtLeastOnce, retain: true, timeout.Token);
        }

        await Broker.WaitForDatabaseToHoldAsync(payload);
        await Broker.KillAndRestartAsync(TimeSpan.FromMilliseconds(100));
        await using var subscriber = await ConnectAsync(Options(Broker.Port).Build());
        await subscriber.SubscribeAsync(topic, MqttQualityOfServiceLevel.AtLeastOnce);
        var retained = (await subscriber.NextAsync()).ApplicationMessage;

        Assert.Multiple(() =>
        {
            Assert.That(retained.ConvertPayloadToString(), Is.EqualTo(payload));
            Assert.That(retained.Retain, Is.True);
        });
    }

    [Test]
    public async Task A_message_the_subscriber_did_not_acknowledge_comes_again_when_it_reconnects_and_an_acknowledged_one_does_not(
        [Values(MqttProtocolVersion.V311, MqttProtocolVersion.V500)] MqttProtocolVersion version)
    {
        var (topic, clientId) = (NewTopic(), "manual-ack-" + Guid.NewGuid().ToString("N")[..8]);
        await using (var subscriber = await ConnectAsync(PersistentOptions(Broker.Port, version, clientId).Build(), autoAcknowledge: false))
        {
            await subscriber.SubscribeAsync(topic, MqttQualityOfServiceLevel.AtLeastOnce);
            await PublishAsync(topic, 2);
            var first = await subscriber.NextAsync();
            var second = await subscriber.NextAsync();
            Assert.That(second.ApplicationMessage.Dup, Is.False);
            await first.AcknowledgeAsync(CancellationToken.None);
            // The second is never acknowledged: it stays in flight at the broker.
            Assert.That(await subscriber.NothingWithinAsync(TimeSpan.FromMilliseconds(300)), "the broker sent a message again without a reconnect");
        }

        await using var back = await ConnectAsync(PersistentOptions(Broker.Port, version, clientId).Build());
        var again = await back.NextAsync();

        Assert.Multiple(() =>
        {
            Assert.That(again.ApplicationMessage.ConvertPayloadToString(), Is.EqualTo("1"));
            Assert.That(again.ApplicationMessage.Dup, Is.True);
        });
        Assert.That(await back.NothingWithinAsync(TimeSpan.FromMilliseconds(300)), "an acknowledged message came again");
    }

    [Test]
    public async Task A_shared_subscription_gives_each_message_to_one_member_of_the_group(
        [Values(MqttProtocolVersion.V311, MqttProtocolVersion.V500)] MqttProtocolVersion version)
    {
        var topic = NewTopic();
        await using var first = await ConnectAsync(Options(Broker.Port, version).Build());
        await using var second = await ConnectAsync(Options(Broker.Port, version).Build());
        await first.SubscribeAsync($"$share/group/{topic}", MqttQualityOfServiceLevel.AtLeastOnce);
        await second.SubscribeAsync($"$share/group/{topic}", MqttQualityOfServiceLevel.AtLeastOnce);

        await PublishAsync(topic, 20);
        var perMember = await SplitAsync([first, second], 20);
        var received = perMember.SelectMany(m => m).ToList();

        Assert.That(received.Order(StringComparer.Ordinal), Is.EqualTo(Numbers(20).Order(StringComparer.Ordinal)), "each message once, to one member");
        Assert.That(perMember.Select(m => m.Count), Is.All.GreaterThan(0), "both members of the group got messages");
    }

    [Test]
    public async Task A_disconnected_persistent_member_of_a_shared_subscription_keeps_getting_its_share_queued()
    {
        // Mosquitto 2.0 deals messages round robin over every member of the group, disconnected persistent sessions
        // included: their share waits for them instead of going to the members that are connected.
        var topic = NewTopic();
        var (onlineId, offlineId) = ("share-on-" + Guid.NewGuid().ToString("N")[..8], "share-off-" + Guid.NewGuid().ToString("N")[..8]);
        await using var online = await ConnectAsync(PersistentOptions(Broker.Port, MqttProtocolVersion.V500, onlineId).Build());
        await online.SubscribeAsync($"$share/group/{topic}", MqttQualityOfServiceLevel.AtLeastOnce);
        await using (var offline = await ConnectAsync(PersistentOptions(Broker.Port, MqttProtocolVersion.V500, offlineId).Build()))
        {
            await offline.SubscribeAsync($"$share/group/{topic}", MqttQualityOfServiceLevel.AtLeastOnce);
        }

        await PublishAsync(topic, 10);
        await using var back = await ConnectAsync(PersistentOptions(Broker.Port, MqttProtocolVersion.V500, offlineId).Build());
        var split = await SplitAsync([online, back], 10);
        var (toOnline, toOffline) = (split[0], split[1]);

        Assert.That(toOnline.Concat(toOffline).Order(StringComparer.Ordinal), Is.EqualTo(Numbers(10).Order(StringComparer.Ordinal)));
        Assert.That(toOffline, Is.Not.Empty, "the disconnected member's share went to the connected one");
    }

    [Test]
    public async Task More_messages_than_mosquittos_default_queue_limit_wait_for_a_disconnected_subscriber()
    {
        // Mosquitto's default max_queued_messages (1000) would drop the rest silently; the fixture sets 0 (no limit).
        const int Count = 1200;
        var (topic, clientId) = (NewTopic(), "queue-" + Guid.NewGuid().ToString("N")[..8]);
        await SubscribeAndLeaveAsync(topic, clientId, MqttProtocolVersion.V311);
        await PublishAsync(topic, Count);

        await using var back = await ConnectAsync(PersistentOptions(Broker.Port, MqttProtocolVersion.V311, clientId).Build());

        Assert.That(await back.PayloadsAsync(Count), Is.EqualTo(Numbers(Count)));
    }

    [Test]
    public async Task A_broker_that_cannot_start_says_why_with_the_end_of_its_log()
    {
        await using var broker = await Mosquitto.StartAsync();
        await broker.KillAsync();
        using var squatter = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, broker.TlsPort);
        squatter.Start();

        var refused = Assert.ThrowsAsync<InvalidOperationException>(broker.RestartAsync);

        Assert.That(refused.Message, Does.Contain("Mosquitto did not start").And.Contain("Address already in use").And.Contain(broker.LogPath));
        Assert.That(broker.IsRunning, Is.False);
    }

    private static async Task RoundTripAsync(MqttClientOptions options)
    {
        var topic = NewTopic();
        await using var client = await ConnectAsync(options);
        await client.SubscribeAsync(topic, MqttQualityOfServiceLevel.AtLeastOnce);
        await client.PublishAsync(topic, "over tls", MqttQualityOfServiceLevel.AtLeastOnce);

        Assert.That((await client.NextAsync()).ApplicationMessage.ConvertPayloadToString(), Is.EqualTo("over tls"));
    }

    private static bool ChainsTo(X509Certificate2 ca, X509Certificate? presented, SslPolicyErrors errors)
    {
        if (presented is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
        {
            return false;
        }

        using var certificate = X509CertificateLoader.LoadCertificate(presented.GetRawCertData());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    private static async Task SubscribeAndLeaveAsync(string topic, string clientId, MqttProtocolVersion version)
    {
        await using var subscriber = await ConnectAsync(PersistentOptions(Broker.Port, version, clientId).Build());
        await subscriber.SubscribeAsync(topic, MqttQualityOfServiceLevel.AtLeastOnce);
    }

    private static Task PublishAsync(string topic, int count) => PublishAsync(topic, Numbers(count));

    private static async Task PublishAsync(string topic, IEnumerable<string> payloads)
    {
        await using var publisher = await ConnectAsync(Options(Broker.Port).Build());
        foreach (var payload in payloads)
        {
            await publisher.PublishAsync(topic, payload, MqttQualityOfServiceLevel.AtLeastOnce);
        }
    }

    /// <summary>Connects a persistent session that takes <paramref name="count"/> messages and acknowledges none; it stays connected.</summary>
    private static async Task<(TestClient Subscriber, List<string> Sent)> ReceiveWithoutAcknowledgingAsync(string clientId, MqttProtocolVersion version, int count)
    {
        var topic = NewTopic();
        var subscriber = await ConnectAsync(PersistentOptions(Broker.Port, version, clientId).Build(), autoAcknowledge: false);
        await subscriber.SubscribeAsync(topic, MqttQualityOfServiceLevel.AtLeastOnce);
        var sent = Payloads(count);
        await PublishAsync(topic, sent);
        Assert.That(await subscriber.PayloadsAsync(count), Is.EqualTo(sent));
        return (subscriber, sent);
    }

    private static async Task AssertRedeliveredAsync(string clientId, MqttProtocolVersion version, List<string> sent)
    {
        await using var back = new TestClient();
        var result = await back.ConnectAsync(PersistentOptions(Broker.Port, version, clientId).Build());
        Assert.That(result.IsSessionPresent, "the broker forgot the session");
        var again = new List<MqttApplicationMessage>();
        for (var i = 0; i < sent.Count; i++)
        {
            again.Add((await back.NextAsync()).ApplicationMessage);
        }

        Assert.Multiple(() =>
        {
            Assert.That(again.Select(m => m.ConvertPayloadToString()), Is.EqualTo(sent));
            Assert.That(again.Select(m => m.Dup), Is.All.True);
        });
    }

    /// <summary>Payloads unique to this call, so they can be looked for in the broker's database file.</summary>
    private static List<string> Payloads(int count)
    {
        var tag = Guid.NewGuid().ToString("N");
        return Enumerable.Range(0, count).Select(i => $"{tag}-{i}").ToList();
    }

    private static List<string> Numbers(int count) => Enumerable.Range(0, count).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
}
