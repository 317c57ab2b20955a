using EdgeStream.Tests.Support;

namespace EdgeStream.Tests.Runtime;

/// <summary>meta(…) reads what the message carried beside the event; upper/lower as eKuiper (the rest of the library comes with issue 5).</summary>
public sealed class MetaFunctionTests
{
    private const long T0 = 1_541_152_486_000;

    [Test]
    public async Task Meta_reads_one_key_a_nested_key_or_all_of_it()
    {
        await using var rule = await ClockedRule.StartAsync(
            "SELECT meta(topic) AS t, meta(headers->id) AS h, meta(*) AS m, meta(missing) AS none, upper(x) AS u, lower(x) AS l FROM s",
            T0, "CREATE STREAM s () WITH (DATASOURCE=\"in\")", options: o => o.SendError = true);
        var metadata = new Dictionary<string, object?> { ["topic"] = "a/b", ["headers"] = new Dictionary<string, object?> { ["id"] = 7L } };
        await rule.Engine.PublishJsonWithMetadataAsync("s", """{"x": "MiXed"}"""u8.ToArray(), metadata);
        await rule.Engine.PublishJsonAsync("s", """{"x": 1}"""u8.ToArray());
        await rule.StopAsync();

        Assert.That(Testing.ResultJson.Write(rule.Emissions), Is.EqualTo(
            """[[{"t":"a/b","h":7,"m":{"topic":"a/b","headers":{"id":7}},"u":"MIXED","l":"mixed"}],[{"u":"1","l":"1"}]]"""), "as eKuiper, upper and lower take any value's text");
    }
    [Test]
    public async Task Metadata_a_row_cannot_hold_is_refused_before_anything_is_published()
    {
        await using var rule = await ClockedRule.StartAsync("SELECT meta(*) AS m FROM s", T0, "CREATE STREAM s () WITH (DATASOURCE=\"in\")");
        var bad = new Dictionary<string, object?> { ["handle"] = new object() };
        Assert.ThrowsAsync<ArgumentException>(async () => await rule.Engine.PublishJsonWithMetadataAsync("s", """{"x": 1}"""u8.ToArray(), bad));
        Assert.ThrowsAsync<KeyNotFoundException>(async () => await rule.Engine.PublishJsonWithMetadataAsync("nope", """{"x": 1}"""u8.ToArray(), new Dictionary<string, object?>()));
        var status = await rule.StopAsync();
        Assert.That(status.RecordsIn, Is.Zero);
    }
}
