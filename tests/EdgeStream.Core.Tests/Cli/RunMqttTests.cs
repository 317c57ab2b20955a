using System.Text;
using EdgeStream.Cli;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgeStream.Tests.Cli;

/// <summary><c>edgestream run</c> over MQTT streams and into MQTT actions, against a broker the test starts in-process.</summary>
public sealed class RunMqttTests
{
    /// <summary>Liveness bound on a slow, busy machine; never a measure of speed.</summary>
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

    private DirectoryInfo folder = null!;

    [SetUp]
    public void MakeFolder() => folder = Directory.CreateTempSubdirectory("edgestream-cli-mqtt-");

    [TearDown]
    public void RemoveFolder() => folder.Delete(recursive: true);

    private string Config(string json)
    {
        var path = Path.Combine(folder.FullName, "config.json");
        File.WriteAllText(path, json);
        return path;
    }

    private static async Task PublishAsync(IMqttClient client, string topic, string json) =>
        await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(Encoding.UTF8.GetBytes(json))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());

    [Test]
    public async Task A_rule_over_an_mqtt_stream_takes_max_events_from_the_broker_after_ready()
    {
        await using var broker = await TestBroker.StartAsync();
        var config = Config($$"""{"mqtt": {"default": {"server": "{{broker.Url}}"} } }""");
        var run = BackgroundCli.Start("run", "--config", config,
            "--stream", "CREATE STREAM s (a BIGINT, b FLOAT) WITH (TYPE=\"mqtt\", DATASOURCE=\"plant/+/readings\", FORMAT=\"json\")",
            "--sql", "SELECT a, b * 2 AS c, meta(topic) AS topic FROM s", "--max-events", "5", "--print");
        await run.WaitForErrLineAsync("ready", Generous);

        using var publisher = await broker.ConnectAsync("test-publisher");
        for (var i = 1; i <= 5; i++)
        {
            await PublishAsync(publisher, $"plant/m{i}/readings", $$"""{"a": {{i}}, "b": {{i}}.5}""");
        }

        var code = await run.ExitCodeAsync(Generous);
        Assert.That(code, Is.Zero, run.Err.ToString());
        Assert.That(run.Out.Lines, Is.EqualTo(Enumerable.Range(1, 5).Select(i => $$"""[{"a":{{i}},"c":{{(2 * i) + 1}}.0,"topic":"plant/m{{i}}/readings"}]""")));
        Assert.That(run.Err.Lines, Is.EqualTo(new[] { "ready" }));
        Assert.That(broker.ConnectedClients, Has.Some.StartsWith("edgestream-source-s-"));
    }

    [Test]
    public async Task A_stream_connects_with_the_profile_its_conf_key_names()
    {
        await using var broker = await TestBroker.StartAsync(("edge", "s3cret-pw"));
        var nowhere = TestBroker.FreePort();
        var config = Config($$$"""
            {"mqtt": {
              "default": {"server": "tcp://127.0.0.1:{{{nowhere}}}"},
              "plant": {"server": "{{{broker.Url}}}", "username": "edge", "password": "s3cret-pw", "qos": 1, "clientid": "cli-test-plant"}
            }}
            """);
        var run = BackgroundCli.Start("run", "--config", config,
            "--stream", "CREATE STREAM s () WITH (TYPE=\"mqtt\", DATASOURCE=\"line/#\", CONF_KEY=\"plant\")",
            "--sql", "SELECT id FROM s", "--max-events", "2", "--print");
        await run.WaitForErrLineAsync("ready", Generous);

        using var publisher = await broker.ConnectAsync("test-publisher");
        await PublishAsync(publisher, "line/1", """{"id": "x1"}""");
        await PublishAsync(publisher, "line/2", """{"id": "x2"}""");

        Assert.That(await run.ExitCodeAsync(Generous), Is.Zero, run.Err.ToString());
        Assert.That(run.Out.Lines, Is.EqualTo(new[] { """[{"id":"x1"}]""", """[{"id":"x2"}]""" }));
        Assert.That(broker.ConnectedClients, Does.Contain("cli-test-plant"));
        Assert.That(run.Err.ToString(), Does.Not.Contain("s3cret-pw"));
    }

    [Test]
    public async Task An_unreachable_broker_is_waited_for_and_named_without_the_password()
    {
        var nowhere = TestBroker.FreePort();
        var config = Config($$"""{"mqtt": {"default": {"server": "tcp://127.0.0.1:{{nowhere}}", "username": "edge", "password": "s3cret-pw"} } }""");
        var run = BackgroundCli.Start("run", "--config", config,
            "--stream", "CREATE STREAM s () WITH (TYPE=\"mqtt\", DATASOURCE=\"line/#\")", "--sql", "SELECT * FROM s", "--duration", "3");

        Assert.That(await run.ExitCodeAsync(Generous), Is.Zero, run.Err.ToString());
        var lines = run.Err.Lines;
        Assert.That(lines, Has.Length.EqualTo(1), run.Err.ToString());
        Assert.That(lines[0], Does.StartWith($"waiting for the MQTT broker at tcp://127.0.0.1:{nowhere} (stream `s`)"));
        Assert.That(run.Err.ToString(), Does.Not.Contain("s3cret-pw"));
        Assert.That(run.Out.ToString(), Is.Empty);
    }

    [Test]
    public async Task An_mqtt_action_publishes_the_results_to_the_broker()
    {
        await using var broker = await TestBroker.StartAsync();
        var (watcher, received) = await broker.SubscribeAsync("out/#");
        using (watcher)
        {
            var rule = Path.Combine(folder.FullName, "rule.json");
            File.WriteAllText(rule, $$$"""
                {"id": "to-mqtt", "sql": "SELECT a, b FROM s WHERE a > 1",
                 "actions": [{"mqtt": {"server": "{{{broker.Url}}}", "topic": "out/{{.a}}", "sendSingle": true}}]}
                """);
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            var code = CliApp.Run(["run", rule, "--stream", "CREATE STREAM s (a BIGINT, b STRING) WITH (DATASOURCE=\"s\")"],
                new StringReader("{\"a\": 1, \"b\": \"x\"}\n{\"a\": 2, \"b\": \"y\"}\n{\"a\": 3, \"b\": \"z\"}\n"), stdout, stderr);
            Assert.That(code, Is.Zero, stderr.ToString());
            Assert.That(stdout.ToString(), Is.Empty, "with actions, nothing is printed");

            // The run has delivered (acknowledged at QoS 1) before it exits; the test's subscriber may get them a moment later.
            var deadline = DateTime.UtcNow + Generous;
            while (received.Count < 2 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }

            Assert.That(received.ToArray(), Is.EqualTo(new[] { ("out/2", """{"a":2,"b":"y"}"""), ("out/3", """{"a":3,"b":"z"}""") }));
        }
    }

    private const string Secret = "hunter2-secret";

    [TestCase("""{"mqtt": {"default": {"server": "tcp://127.0.0.1:1883"}}, "kafka": {}}""", "unknown section `kafka`; the configuration has: mqtt")]
    [TestCase("""{"mqtt": {"plant": {"server": "tcp://127.0.0.1:1883", "pasword": "hunter2-secret"}}}""", "MQTT profile `plant`: unknown MQTT property `pasword`")]
    [TestCase("""{"mqtt": {"plant": {"server": "nonsense", "password": "hunter2-secret"}}}""", "MQTT profile `plant`: `server` must look like tcp://host:1883")]
    [TestCase("""{"mqtt": {"plant": {"server": "tcp://edge:hunter2-secret@127.0.0.1:1883"}}}""", "MQTT profile `plant`: `server` must not hold credentials")]
    [TestCase("""{"mqtt": {"plant": {"qos": 3, "password": "hunter2-secret"}}}""", "MQTT profile `plant`: `qos` must be 0, 1 or 2, not 3")]
    [TestCase("""{"mqtt": {"plant": {"password": ["hunter2-secret"]}}}""", "MQTT profile `plant`: `password` must be a string, a number or a boolean")]
    [TestCase("""{"mqtt": {"plant": "tcp://127.0.0.1:1883"}}""", "MQTT profile `plant`: expected an object of properties")]
    [TestCase("""{"mqtt": []}""", "MQTT profiles: expected an object of named profiles")]
    [TestCase("""[1, 2]""", "the configuration must be a JSON object")]
    [TestCase("""{"mqtt": """, "malformed JSON")]
    public void A_bad_config_file_exits_two_naming_what_is_wrong_and_never_the_password(string json, string message)
    {
        var config = Config(json);
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = CliApp.Run(["run", "--config", config, "--stream", "CREATE STREAM s () WITH (TYPE=\"mqtt\", DATASOURCE=\"t\")", "--sql", "SELECT * FROM s"],
            new StringReader(string.Empty), stdout, stderr);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr.ToString(), Does.StartWith($"error: --config {config}: "));
        Assert.That(stderr.ToString(), Does.Contain(message));
        Assert.That(stderr.ToString(), Does.Not.Contain(Secret));
        Assert.That(stderr.ToString(), Does.Not.Contain("ready"));
    }

    [Test]
    public void A_missing_config_file_and_an_unknown_conf_key_exit_two()
    {
        string[] stream = ["--stream", "CREATE STREAM s () WITH (TYPE=\"mqtt\", DATASOURCE=\"t\", CONF_KEY=\"plant\")", "--sql", "SELECT * FROM s"];
        var stderr = new StringWriter();
        Assert.That(CliApp.Run(["run", "--config", Path.Combine(folder.FullName, "none.json"), .. stream], new StringReader(string.Empty), new StringWriter(), stderr), Is.EqualTo(2));
        Assert.That(stderr.ToString(), Does.StartWith("error: --config "));

        stderr = new StringWriter();
        var config = Config("""{"mqtt": {"default": {"server": "tcp://127.0.0.1:1883"}}}""");
        Assert.That(CliApp.Run(["run", "--config", config, .. stream], new StringReader(string.Empty), new StringWriter(), stderr), Is.EqualTo(2));
        Assert.That(stderr.ToString().Trim(), Is.EqualTo("error: stream `s`: no MQTT profile `plant` (CONF_KEY); the profiles are: default"));
    }

    [Test]
    public void Input_files_do_not_feed_an_mqtt_stream()
    {
        var stderr = new StringWriter();
        var code = CliApp.Run(["run", "--stream", "CREATE STREAM s () WITH (TYPE=\"mqtt\", DATASOURCE=\"t\")", "--sql", "SELECT * FROM s", "--input", "events.jsonl"],
            new StringReader(string.Empty), new StringWriter(), stderr);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr.ToString().Trim(), Is.EqualTo("error: the rule reads MQTT stream `s`: it takes its events from the broker, not from --input"));
    }
}
