using System.Collections.Concurrent;
using System.Text;

namespace EdgeStream.Tests.Runtime;

/// <summary>Dynamic sink properties: a payload sink giving each message its own destination with <see cref="SinkTemplate"/>.</summary>
public sealed class SinkTemplateTests
{
    private sealed class TopicSink(SinkTemplate topic, ConcurrentQueue<(string Topic, string Payload, int Rows)> sent) : IPayloadSink
    {
        public ValueTask OpenAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask WritePayloadsAsync(IReadOnlyList<ReadOnlyMemory<byte>> payloads, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("the engine calls WriteMessagesAsync");

        public ValueTask WriteMessagesAsync(IReadOnlyList<SinkMessage> messages, CancellationToken cancellationToken)
        {
            foreach (var message in messages)
            {
                sent.Enqueue((topic.Render(message), Encoding.UTF8.GetString(message.Payload.Span), message.Rows.Count));
            }

            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private static async Task<(string Topic, string Payload, int Rows)[]> SendAsync(Dictionary<string, string> properties, params long[] values)
    {
        var sent = new ConcurrentQueue<(string, string, int)>();
        await using var engine = new EdgeStreamEngine();
        engine.RegisterSink("topics", context => new TopicSink(SinkContext.CompileTemplate(context.Properties["topic"]), sent), ["topic"]);
        engine.Execute("CREATE STREAM s (id BIGINT, v BIGINT) WITH (DATASOURCE=\"in\", TYPE=\"memory\")");
        var rule = new RuleDefinition("r", "SELECT id, v FROM s");
        rule.Actions.Add(new RuleAction("topics", properties));
        await engine.CreateRuleAsync(rule);
        await engine.PublishBatchAsync("s", values.Select(v => new Dictionary<string, object?> { ["id"] = v % 2, ["v"] = v }));
        await engine.StopRuleAsync("r");
        return [.. sent];
    }

    [Test]
    public async Task A_template_renders_per_row_with_sendSingle()
    {
        var sent = await SendAsync(new() { ["topic"] = "devices/{{.id}}/v", ["sendSingle"] = "true" }, 1, 2, 3);
        Assert.That(sent, Is.EqualTo(new[]
        {
            ("devices/1/v", """{"id":1,"v":1}""", 1),
            ("devices/0/v", """{"id":0,"v":2}""", 1),
            ("devices/1/v", """{"id":1,"v":3}""", 1),
        }));
    }

    [Test]
    public async Task Without_sendSingle_the_template_sees_the_array_of_rows_and_a_plain_value_is_itself()
    {
        var batched = await SendAsync(new() { ["topic"] = "first/{{(index . 0).v}}/of/{{len .}}", ["batchSize"] = "3", ["lingerInterval"] = "200" }, 4, 5, 6);
        Assert.That(batched.Select(s => s.Topic), Is.EqualTo(new[] { "first/4/of/3" }));
        Assert.That(batched[0].Rows, Is.EqualTo(3));

        var plain = await SendAsync(new() { ["topic"] = "fixed", ["sendSingle"] = "true" }, 1);
        Assert.That(plain.Select(s => s.Topic), Is.EqualTo(new[] { "fixed" }));
        Assert.That(SinkContext.CompileTemplate("fixed").IsDynamic, Is.False);
        Assert.That(SinkContext.CompileTemplate("a/{{.b}}").IsDynamic, Is.True);
    }

    [Test]
    public void A_template_that_does_not_parse_fails_rule_creation()
    {
        var e = Assert.ThrowsAsync<ArgumentException>(() => SendAsync(new() { ["topic"] = "devices/{{.id" }, 1))!;
        Assert.That(e.Message, Does.Contain("template `devices/{{.id`"));
    }
}
