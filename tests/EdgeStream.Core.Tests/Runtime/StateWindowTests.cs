using EdgeStream.Tests.Support;

namespace EdgeStream.Tests.Runtime;

/// <summary>STATEWINDOW(begin, emit) with and without OVER (PARTITION BY …): condition-driven windows.</summary>
public sealed class StateWindowTests
{
    private const long T0 = 1_541_152_486_000;

    private const string Stream = "CREATE STREAM s (d BIGINT, a BIGINT) WITH (DATASOURCE=\"in\", TYPE=\"memory\")";

    private static Task At(ClockedRule rule, long offset, long d, long a) =>
        rule.At(T0 + offset, new Dictionary<string, object?> { ["d"] = d, ["a"] = a });

    [Test]
    public async Task Rows_before_the_begin_condition_are_dropped_and_the_emit_row_closes_the_window()
    {
        await using var rule = await ClockedRule.StartAsync(
            "SELECT collect(a) AS all, window_start() AS ws, window_end() AS we FROM s GROUP BY STATEWINDOW(a > 1, a > 5)", T0, Stream);
        long[] values = [0, 1, 2, 3, 6, 1, 7, 4, 9, 0];
        for (var i = 0; i < values.Length; i++)
        {
            await At(rule, (i + 1) * 10, 1, values[i]);
        }

        await rule.StopAsync();

        // 0 and 1 are dropped (idle); 2 opens, 6 closes; 1 is dropped; 7 opens and closes at once; 4 opens, 9 closes; 0 dropped.
        Assert.That(Testing.ResultJson.Write(rule.Emissions), Is.EqualTo(
            $$"""[[{"all":[2,3,6],"ws":{{T0 + 30}},"we":{{T0 + 50}}}],[{"all":[7],"ws":{{T0 + 70}},"we":{{T0 + 70}}}],[{"all":[4,9],"ws":{{T0 + 80}},"we":{{T0 + 90}}}]]"""));
    }

    [Test]
    public async Task Each_partition_has_its_own_state_and_where_filters_the_windows_rows()
    {
        await using var rule = await ClockedRule.StartAsync(
            "SELECT d, collect(a) AS all FROM s WHERE a != 3 GROUP BY STATEWINDOW(a >= 2, a >= 8) OVER (PARTITION BY d)", T0, Stream);
        await At(rule, 10, 1, 2);   // d1 opens
        await At(rule, 20, 2, 5);   // d2 opens
        await At(rule, 30, 1, 3);   // d1 keeps it (WHERE drops it from the result)
        await At(rule, 40, 2, 9);   // d2 closes: [5, 9]
        await At(rule, 50, 1, 8);   // d1 closes: [2, 8]
        await At(rule, 60, 2, 1);   // d2 idle: dropped
        await rule.StopAsync();

        Assert.That(Testing.ResultJson.Write(rule.Emissions), Is.EqualTo("""[[{"d":2,"all":[5,9]}],[{"d":1,"all":[2,8]}]]"""));
    }

    [Test]
    public async Task A_condition_that_fails_on_a_row_is_reported_and_the_row_left_out()
    {
        await using var rule = await ClockedRule.StartAsync(
            "SELECT collect(a) AS all FROM s GROUP BY STATEWINDOW(a / d > 1, a > 5)", T0, Stream, options: o => o.SendError = true);
        await At(rule, 10, 0, 4);   // a / 0 fails
        await At(rule, 20, 1, 4);   // opens
        await At(rule, 30, 1, 6);   // closes
        await rule.StopAsync();

        Assert.That(rule.Emissions, Has.Count.EqualTo(2));
        Assert.That(rule.Emissions[0][0]["error"] as string, Does.StartWith("run State Window error:"));
        Assert.That(Testing.ResultJson.WriteEmission(rule.Emissions[1]), Is.EqualTo("""[{"all":[4,6]}]"""));
    }
}
