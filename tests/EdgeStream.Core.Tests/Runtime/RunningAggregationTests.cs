using EdgeStream.Tests.Support;

namespace EdgeStream.Tests.Runtime;

/// <summary>GROUP BY without a window: each row updates its group's running aggregates and sends the group's new result.</summary>
public sealed class RunningAggregationTests
{
    private const long T0 = 1_541_152_486_000;

    private const string Stream = "CREATE STREAM s () WITH (DATASOURCE=\"in\", TYPE=\"memory\")";

    private static Dictionary<string, object?> Row(long k, object? n) => new() { ["k"] = k, ["n"] = n };

    [Test]
    public async Task Each_row_sends_its_groups_running_totals()
    {
        await using var rule = await ClockedRule.StartAsync(
            "SELECT k, count(*) AS c, sum(n) AS s, avg(n) AS a, max(n) AS m, last_value(n, false) AS l, event_time() AS t FROM s GROUP BY k", T0, Stream);
        await rule.At(T0 + 1, Row(1, 5L));
        await rule.At(T0 + 2, Row(2, 7L));
        await rule.At(T0 + 3, Row(1, 1L));
        await rule.At(T0 + 4, Row(1, null));
        await rule.StopAsync();

        Assert.That(Testing.ResultJson.Write(rule.Emissions), Is.EqualTo(
            $$"""[[{"k":1,"c":1,"s":5,"a":5,"m":5,"l":5,"t":{{T0 + 1}}}],[{"k":2,"c":1,"s":7,"a":7,"m":7,"l":7,"t":{{T0 + 2}}}],"""
            + $$"""[{"k":1,"c":2,"s":6,"a":3,"m":5,"l":1,"t":{{T0 + 3}}}],[{"k":1,"c":3,"s":6,"a":3,"m":5,"t":{{T0 + 4}}}]]"""));
    }

    [Test]
    public async Task Having_sends_only_groups_that_pass_and_aggregates_without_keys_run_over_all_rows()
    {
        await using var rule = await ClockedRule.StartAsync("SELECT count(*) AS c, sum(n) AS s FROM s HAVING c >= 2", T0, Stream);
        await rule.At(T0 + 1, Row(1, 5L));
        await rule.At(T0 + 2, Row(2, 7L));
        await rule.At(T0 + 3, Row(3, 1L));
        var status = await rule.StopAsync();

        Assert.That(Testing.ResultJson.Write(rule.Emissions), Is.EqualTo("""[[{"c":2,"s":12}],[{"c":3,"s":13}]]"""));
        Assert.That(status.Metrics["op_2_having_0_records_in_total"], Is.EqualTo(3));
        Assert.That(status.Metrics["op_2_having_0_records_out_total"], Is.EqualTo(2));
    }

    [Test]
    public async Task A_value_an_aggregate_cannot_take_rejects_its_row_and_leaves_the_totals_as_they_were()
    {
        await using var rule = await ClockedRule.StartAsync("SELECT k, sum(n) AS s, count(*) AS c FROM s GROUP BY k", T0, Stream,
            options: o => o.SendError = true);
        await rule.At(T0 + 1, Row(1, 5L));
        await rule.At(T0 + 2, Row(1, "x"));
        await rule.At(T0 + 3, Row(1, 2L));
        await rule.StopAsync();

        Assert.That(Testing.ResultJson.Write(rule.Emissions), Is.EqualTo(
            """[[{"k":1,"s":5,"c":1}],[{"error":"run Select error: run sum function error: requires number but found string(x)"}],[{"k":1,"s":7,"c":2}]]"""));
    }

    [Test]
    [TestCase("deduplicate(n, true)", "deduplicate")]
    [TestCase("collect(n)", "collect")]
    [TestCase("median(n)", "median")]
    public async Task An_aggregate_that_keeps_every_value_needs_a_window(string aggregate, string name)
    {
        await using var engine = new EdgeStreamEngine();
        engine.Execute(Stream);
        var rule = new RuleDefinition("r", $"SELECT k, {aggregate} AS d FROM s GROUP BY k");
        rule.Actions.Add(new RuleAction("nop"));
        var error = Assert.ThrowsAsync<SqlException>(() => engine.CreateRuleAsync(rule))!;
        Assert.That(error.Message, Does.Contain($"aggregate `{name}` needs a window"));
    }
}
