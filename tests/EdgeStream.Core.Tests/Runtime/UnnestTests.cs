using EdgeStream.Tests.Support;

namespace EdgeStream.Tests.Runtime;

/// <summary>unnest(array) as a select item: one input row becomes one result row per element.</summary>
public sealed class UnnestTests
{
    private const long T0 = 1_541_152_486_000;

    private const string Stream = "CREATE STREAM s () WITH (DATASOURCE=\"in\", TYPE=\"memory\")";

    [Test]
    public async Task In_a_window_every_element_of_every_row_is_one_row_of_the_emission()
    {
        await using var rule = await ClockedRule.StartAsync("SELECT k, unnest(arr) AS v FROM s GROUP BY COUNTWINDOW(2)", T0, Stream);
        await rule.At(T0 + 1, new Dictionary<string, object?> { ["k"] = 1L, ["arr"] = new object?[] { 10L, 11L } });
        await rule.At(T0 + 2, new Dictionary<string, object?> { ["k"] = 2L, ["arr"] = Array.Empty<object?>() });
        await rule.StopAsync();

        Assert.That(Testing.ResultJson.Write(rule.Emissions), Is.EqualTo("""[[{"k":1,"v":10},{"k":1,"v":11}]]"""), "an empty array gives no row");
    }

    [TestCase("SELECT a FROM s WHERE unnest(arr) > 1", "`unnest` returns rows and can only be a whole select item")]
    [TestCase("SELECT unnest(a), unnest(b) FROM s", "a statement can unnest one array")]
    public void Unnest_elsewhere_than_a_whole_select_item_is_refused(string sql, string message)
    {
        var error = Assert.CatchAsync<SqlException>(async () =>
        {
            await using var rule = await ClockedRule.StartAsync(sql, T0, Stream);
        });
        Assert.That(error!.Message, Does.Contain(message));
    }
}
