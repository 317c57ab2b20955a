using EdgeStream.Tests.Support;

namespace EdgeStream.Tests.Runtime;

/// <summary>Analytic functions (lag, latest, changed_col, had_changed, acc_*): state per call and partition, run on every row before WHERE.</summary>
public sealed class AnalyticFunctionTests
{
    private const long T0 = 1_541_152_486_000;

    private const string Stream = "CREATE STREAM s () WITH (DATASOURCE=\"in\", TYPE=\"memory\")";

    private static async Task<string> RunAsync(string sql, params Dictionary<string, object?>[] rows)
    {
        await using var rule = await ClockedRule.StartAsync(sql, T0, Stream, options: o => o.SendError = true);
        var at = T0;
        foreach (var row in rows)
        {
            await rule.At(++at, row);
        }

        await rule.StopAsync();
        return Testing.ResultJson.Write(rule.Emissions);
    }

    private static Dictionary<string, object?> Row(long k, object? x) => new() { ["k"] = k, ["x"] = x };

    [Test]
    public async Task Lag_takes_an_offset_a_default_and_can_skip_nulls()
    {
        var json = await RunAsync("SELECT x, lag(x, 2, -1) AS l2, lag(x, 1, 0, true) AS ln FROM s", Row(1, 10L), Row(1, null), Row(1, 30L), Row(1, 40L));
        Assert.That(json, Is.EqualTo("""[[{"x":10,"l2":-1,"ln":0}],[{"l2":-1,"ln":10}],[{"x":30,"l2":10,"ln":10}],[{"x":40,"ln":30}]]"""));
    }

    [Test]
    public async Task Latest_and_changed_col_follow_their_partition()
    {
        var json = await RunAsync(
            "SELECT k, latest(x, 0) OVER (PARTITION BY k) AS lt, changed_col(true, x) OVER (PARTITION BY k) AS cc FROM s",
            Row(1, 5L), Row(2, null), Row(1, 5L), Row(2, 7L), Row(1, null), Row(1, 6L));
        Assert.That(json, Is.EqualTo(
            """[[{"k":1,"lt":5,"cc":5}],[{"k":2,"lt":0}],[{"k":1,"lt":5}],[{"k":2,"lt":7,"cc":7}],[{"k":1,"lt":5}],[{"k":1,"lt":6,"cc":6}]]"""));
    }

    [Test]
    public async Task State_moves_for_rows_that_where_drops_and_when_holds_it_still()
    {
        var json = await RunAsync(
            "SELECT x, acc_count(x) AS seen, acc_sum(x) OVER (WHEN x > 1) AS big, had_changed(true, x) AS hc FROM s WHERE x != 2",
            Row(1, 1L), Row(1, 2L), Row(1, 2L), Row(1, 3L));
        // The two rows with x = 2 are dropped by WHERE but counted, summed (x > 1) and seen by had_changed. Before the
        // first summed row acc_sum reads 0, as eKuiper's.
        Assert.That(json, Is.EqualTo("""[[{"x":1,"seen":1,"big":0.0,"hc":true}],[{"x":3,"seen":4,"big":7.0,"hc":true}]]"""));
    }

    [Test]
    public async Task A_failing_argument_reports_the_row_and_the_rule_goes_on()
    {
        var json = await RunAsync("SELECT x, acc_sum(x) AS total FROM s", Row(1, 1L), Row(1, "two"), Row(1, 3L));
        Assert.That(json, Is.EqualTo(
            """[[{"x":1,"total":1.0}],[{"error":"run Analytic error: run acc_sum function error: requires number but found string(two)"}],[{"x":3,"total":4.0}]]"""));
    }
    [Test]
    public async Task A_rule_that_starts_again_starts_its_analytic_state_afresh()
    {
        await using var rule = await ClockedRule.StartAsync("SELECT acc_count(x) AS n, lag(x) AS before FROM s", T0, Stream);
        await rule.At(T0 + 1, Row(1, 10L));
        await rule.At(T0 + 2, Row(1, 20L));
        await rule.Engine.StopRuleAsync("r");
        await rule.Engine.StartRuleAsync("r");
        await rule.At(T0 + 3, Row(1, 30L));
        await rule.StopAsync();

        Assert.That(Testing.ResultJson.Write(rule.Emissions), Is.EqualTo("""[[{"n":1}],[{"n":2,"before":10}],[{"n":1}]]"""));
    }
    [Test]
    public async Task Row_number_numbers_a_windows_groups_in_order_by_order_up_to_limit()
    {
        await using var rule = await ClockedRule.StartAsync(
            "SELECT k, count(*) AS c, row_number() AS rn FROM s GROUP BY k, COUNTWINDOW(5) ORDER BY c DESC, k LIMIT 2", T0, Stream);
        long[] keys = [3, 1, 3, 2, 1];
        for (var i = 0; i < keys.Length; i++)
        {
            await rule.At(T0 + i + 1, Row(keys[i], 0L));
        }

        await rule.StopAsync();
        Assert.That(Testing.ResultJson.Write(rule.Emissions), Is.EqualTo("""[[{"k":1,"c":2,"rn":1},{"k":3,"c":2,"rn":2}]]"""));
    }
}
