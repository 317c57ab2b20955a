using EdgeStream.Tests.Support;

namespace EdgeStream.Tests.Runtime;

/// <summary>EdgeStreamEngine.FlushWindowsAsync: at the end of bounded input, windows fire with what they hold.</summary>
public sealed class FlushTests
{
    private const long T0 = 1_541_152_486_000;

    private const string Stream = "CREATE STREAM s (a BIGINT) WITH (DATASOURCE=\"in\", TYPE=\"memory\")";

    private static async Task<string> RunAsync(string window, int rows)
    {
        await using var rule = await ClockedRule.StartAsync($"SELECT collect(a) AS all FROM s GROUP BY {window}", T0, Stream);
        for (var a = 1; a <= rows; a++)
        {
            await rule.At(T0 + (a * 10), new Dictionary<string, object?> { ["a"] = (long)a });
        }

        await rule.Engine.FlushWindowsAsync("r");
        await rule.StopAsync();
        return Testing.ResultJson.Write(rule.Emissions);
    }

    [TestCase("COUNTWINDOW(3)", 5, """[[{"all":[1,2,3]}],[{"all":[4,5]}]]""")]
    [TestCase("COUNTWINDOW(3)", 3, """[[{"all":[1,2,3]}]]""")]
    [TestCase("COUNTWINDOW(4, 2)", 2, """[[{"all":[1,2]}]]""")]
    [TestCase("COUNTWINDOW(4, 2)", 5, """[[{"all":[1,2,3,4]}],[{"all":[2,3,4,5]}]]""")]
    [TestCase("TUMBLINGWINDOW(ss, 10)", 3, """[[{"all":[1,2,3]}]]""")]
    [TestCase("STATEWINDOW(a > 1, a > 9)", 4, "[]")]
    public async Task Open_windows_fire_with_what_they_hold(string window, int rows, string expected)
    {
        Assert.That(await RunAsync(window, rows), Is.EqualTo(expected));
    }
}
