using System.Text;

namespace EdgeStream.Tests.Runtime;

/// <summary>Publishing many JSON payloads or objects as one message: each is its own event, and a bad one loses no other.</summary>
public sealed class BatchPublishTests
{
    /// <summary>An event type for <see cref="EdgeStreamEngine.PublishObjectBatchAsync{T}"/>.</summary>
    public sealed record Reading(
        [property: System.Text.Json.Serialization.JsonPropertyName("deviceId")] string DeviceId,
        [property: System.Text.Json.Serialization.JsonPropertyName("n")] long N);

    private static async Task<(List<string> Rows, RuleStatus Status)> RunAsync(Func<EdgeStreamEngine, Task> publish, int expectIn)
    {
        await using var engine = new EdgeStreamEngine();
        engine.Execute("CREATE STREAM s (deviceId STRING, n BIGINT) WITH (DATASOURCE=\"s\", TYPE=\"memory\")");
        using var stop = new CancellationTokenSource();
        var output = engine.Memory.Subscribe("out", stop.Token, capacity: 1_000);
        var rule = new RuleDefinition("r", "SELECT deviceId, n * 2 AS m FROM s WHERE n > 1");
        rule.Actions.Add(new RuleAction("memory", new Dictionary<string, string> { ["topic"] = "out" }));
        await engine.CreateRuleAsync(rule);
        await publish(engine);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (engine.GetRuleStatus("r").RecordsIn < expectIn)
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "the rule did not take every event");
            await Task.Delay(5);
        }

        await engine.StopRuleAsync("r");
        var rows = new List<string>();
        while (output.TryRead(out var emission))
        {
            Assert.That(emission, Has.Count.EqualTo(1), "each event's result is its own emission");
            rows.Add($"{emission[0]["deviceId"]}:{emission[0]["m"]}");
        }

        return (rows, engine.GetRuleStatus("r"));
    }

    [Test]
    public async Task A_json_batch_is_processed_event_by_event_and_a_malformed_payload_loses_no_other()
    {
        string[] payloads = ["{\"deviceId\":\"a\",\"n\":1}", "{\"deviceId\":\"b\",\"n\":2}", "{not json", "[{\"deviceId\":\"c\",\"n\":3},{\"deviceId\":\"d\",\"n\":4}]", "{\"deviceId\":\"e\",\"n\":5}"];
        var (rows, status) = await RunAsync(engine => engine.PublishJsonBatchAsync("s", payloads.Select(p => (ReadOnlyMemory<byte>)Encoding.UTF8.GetBytes(p))).AsTask(), 6);
        Assert.Multiple(() =>
        {
            Assert.That(rows, Is.EqualTo(new[] { "b:4", "c:6", "d:8", "e:10" }));
            Assert.That(status.RecordsIn, Is.EqualTo(6));
            Assert.That(status.Errors, Is.EqualTo(1));
            Assert.That(status.LastError, Does.Contain("invalid JSON"));
        });
    }

    [Test]
    public async Task An_object_batch_is_processed_event_by_event_in_order()
    {
        var items = Enumerable.Range(0, 600).Select(i => new Reading("d" + i, i % 4)).ToList();
        var (rows, status) = await RunAsync(engine => engine.PublishObjectBatchAsync("s", items).AsTask(), 600);
        Assert.That(rows, Is.EqualTo(items.Where(r => r.N > 1).Select(r => $"{r.DeviceId}:{r.N * 2}")));
        Assert.That(status.Errors, Is.Zero);
    }

    [Test]
    public async Task A_host_subscriber_of_the_topic_gets_each_payload_of_a_batch_and_a_null_item_is_refused()
    {
        await using var engine = new EdgeStreamEngine();
        using var stop = new CancellationTokenSource();
        var reader = engine.Memory.Subscribe("t", stop.Token);
        await engine.Memory.PublishJsonBatchAsync("t", ["{\"a\":1}"u8.ToArray(), "oops"u8.ToArray(), "{\"a\":2}"u8.ToArray()]);
        Assert.That(reader.TryRead(out var emission), Is.True);
        Assert.That(emission!.Select(r => r["a"]), Is.EqualTo(new object[] { 1L, 2L }));
        Assert.That(() => engine.Memory.PublishObjectBatchAsync<Reading>("t", [new Reading("x", 1), null!]).AsTask(), Throws.ArgumentException);
        Assert.That(reader.TryRead(out _), Is.False, "nothing of a refused batch is published");
    }
}
