namespace EdgeStream.Tests.Runtime;

public sealed class RuleJsonTests
{
    [Test]
    public void An_ekuiper_rule_reads_into_a_definition()
    {
        var rule = RuleDefinition.FromJson("""
            {"id": "rule1", "name": "demo", "sql": "SELECT * FROM demo",
             "actions": [{"memory": {"topic": "out", "retain": true}}, {"nop": {}}],
             "options": {"sendError": true, "sendNilField": true, "bufferLength": 16, "isEventTime": true, "qos": 1,
                         "checkpointInterval": "600ms", "cron": ""},
             "triggered": false, "tags": ["a"]}
            """);
        Assert.Multiple(() =>
        {
            Assert.That((rule.Id, rule.Sql, rule.Triggered), Is.EqualTo(("rule1", "SELECT * FROM demo", false)));
            Assert.That(rule.Actions.Select(a => a.SinkType), Is.EqualTo(new[] { "memory", "nop" }));
            Assert.That(rule.Actions[0].Properties["topic"], Is.EqualTo("out"));
            Assert.That(rule.Actions[0].Properties["retain"], Is.EqualTo("true"), "non-string values keep their JSON text");
            Assert.That((rule.Options.SendError, rule.Options.SendNilField, rule.Options.BufferLength), Is.EqualTo((true, true, 16)));
            Assert.That(rule.UnsupportedOptions, Is.EqualTo(new[] { "cron" }));
            Assert.That((rule.Options.Qos, rule.Options.CheckpointInterval), Is.EqualTo((1, TimeSpan.FromMilliseconds(600))));
            Assert.That(rule.Options.IsEventTime, Is.True);
        });
    }

    [TestCase("""{"id": "r", "sql": "SELECT 1 FROM s", "optoins": {}}""", "unknown rule property `optoins`; did you mean `options`?")]
    [TestCase("""{"id": "r", "sql": "SELECT 1 FROM s", "options": {"sendErorr": true}}""", "unknown rule option `sendErorr`; did you mean `sendError`?")]
    [TestCase("""{"id": "r", "sql": "SELECT 1 FROM s", "options": {"bufferLength": -1}}""", "option `bufferLength` must be a positive integer")]
    [TestCase("""{"id": "r", "sql": "SELECT 1 FROM s", "options": {"sendError": "yes"}}""", "option `sendError` must be true or false")]
    [TestCase("""{"sql": "SELECT 1 FROM s"}""", "rule JSON needs a non-empty string `id`")]
    [TestCase("""{"id": "r", "sql": "SELECT 1 FROM s", "options": {"qos": 3}}""", "option `qos` must be 0 (at most once), 1 (at least once) or 2 (exactly once)")]
    [TestCase("""{"id": "r", "sql": "SELECT 1 FROM s", "options": {"checkpointInterval": 0}}""", "option `checkpointInterval` must be a positive duration")]
    [TestCase("""{"id": "r"}""", "rule JSON needs a non-empty string `sql`")]
    [TestCase("""{"id": "r", "graph": {}}""", "graph rules are not supported yet; give `sql`")]
    [TestCase("""[1]""", "rule JSON must be an object with `id`, `sql` and `actions`")]
    [TestCase("""{"id": "r", "sql": "SELECT 1 FROM s", "actions": {"nop": {}}}""", "`actions` must be an array of {\"sinkType\": {properties}} objects")]
    // Values of the wrong JSON kind: these threw InvalidOperationException from System.Text.Json before (found by RuleReferenceDocTests).
    [TestCase("""{"id": "r", "sql": "SELECT 1 FROM s", "options": {"bufferLength": "1024"}}""", "option `bufferLength` must be a positive integer")]
    [TestCase("""{"id": "r", "sql": "SELECT 1 FROM s", "options": {"concurrency": "2"}}""", "option `concurrency` must be an integer from 1 to 1024")]
    [TestCase("""{"id": "r", "sql": "SELECT 1 FROM s", "options": {"qos": "1"}}""", "option `qos` must be 0 (at most once), 1 (at least once) or 2 (exactly once)")]
    [TestCase("""{"id": "r", "sql": "SELECT 1 FROM s", "options": {"bufferFullPolicy": 1}}""", "option `bufferFullPolicy` must be \"block\" or \"dropOldest\"")]
    [TestCase("""{"id": "r", "sql": "SELECT 1 FROM s", "options": {"restartStrategy": {"attempts": "3"}}}""", "`restartStrategy.attempts` must be a number of at least 0")]
    public void Bad_rule_json_is_a_format_error_naming_the_problem(string json, string message)
    {
        var error = Assert.Throws<FormatException>(() => RuleDefinition.FromJson(json))!;
        Assert.That(error.Message, Is.EqualTo(message));
    }

    [Test]
    public void Malformed_json_is_a_format_error()
    {
        var error = Assert.Throws<FormatException>(() => RuleDefinition.FromJson("{\"id\": "))!;
        Assert.That(error.Message, Does.StartWith("rule JSON is not valid JSON"));
    }
}
