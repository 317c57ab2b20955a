using System.Text.Json;
using System.Text.RegularExpressions;

namespace EdgeStream.Packaging.Tests;

/// <summary>
/// The <c>edgestream</c> command published as a Native AOT binary (<c>dotnet publish -r linux-x64
/// -p:PublishAot=true</c>; <c>./test.sh</c> installs the native toolchain, clang or gcc and zlib, when missing):
/// the publish reports no trim or AOT warning, and the native binary gives the JIT build's answers, replays the
/// whole conformance corpus and runs the demo.
/// </summary>
[NonParallelizable]
public sealed partial class NativeAotTests
{
    private NativePublish publish = null!;

    private string Native => publish.Executable;

    private string Work => publish.Directory;

    [OneTimeSetUp]
    public async Task PublishAsync() => publish = await NativePublish.RunAsync(Path.Combine("src", "EdgeStream.Cli"), "edgestream");

    [OneTimeTearDown]
    public void CleanUp() => publish.Dispose();

    [Test]
    public void The_publish_succeeds_without_a_single_warning_and_gives_a_native_executable() => publish.AssertCleanNativeExecutable();

    // Superpower reads its [Token] attributes by reflection (the IL2104 the CLI's project lets through under AOT):
    // the error texts built from them must come out of the native binary as they do from the JIT build.
    [TestCase("parse", "SELECT color, size, ts FORM demo")]
    [TestCase("parse", "SELECT a FROM s WHERE (a > 1")]
    [TestCase("parse", "SELECT avg(t) AS m FROM s GROUP BY TUMBLINGWINDOW(ss, 10) HAVING m > 2")]
    [TestCase("parse", "SELECT * FROM s GROUP BY HOPPINGWINDOW(xx, 10, 5)")]
    [TestCase("functions", "--json")]
    public async Task The_native_binary_answers_as_the_jit_build_does(string command, string argument)
    {
        publish.AssertSucceeded();
        var jit = await Shell.RunAsync("dotnet", [Path.Combine(Shell.Root, "src", "EdgeStream.Cli", "bin", "Release", "net10.0", "edgestream.dll"), command, argument], Work);
        var native = await Shell.RunAsync(Native, [command, argument], Work);
        Assert.That(native, Is.EqualTo(jit));
        Assert.That(native.Stdout + native.Stderr, Is.Not.Empty);
    }

    [Test]
    public async Task The_native_binary_replays_every_conformance_case_and_passes()
    {
        publish.AssertSucceeded();
        var cases = Directory.GetFiles(Path.Combine(Shell.Root, "tests", "EdgeStream.Core.Tests", "Conformance", "cases"), "*.json");
        Assert.That(cases, Has.Length.GreaterThan(80));
        var run = await Shell.RunAsync(Native, ["replay", "--json", .. cases], Work);
        var results = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(run.Code, Is.Zero, run.Stdout + run.Stderr);
            Assert.That(results, Has.Count.EqualTo(cases.Length));
            Assert.That(results.Where(r => !r.GetProperty("pass").GetBoolean()).Select(r => r.GetProperty("name").GetString()), Is.Empty);
        });
    }

    [Test]
    public async Task The_native_demo_runs_its_broker_fleet_and_rules_and_prints_every_row_it_counts()
    {
        publish.AssertSucceeded();

        // 11 s: the 10-second tumbling windows close at least once.
        var run = await Shell.RunAsync(Native, ["demo", "--duration", "11", "--devices", "3"], Work);
        Assert.That(run.Code, Is.Zero, run.Stderr);
        var rows = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var counts = new Dictionary<string, int> { ["alert"] = 0, ["avg10s"] = 0 };
        foreach (var row in rows)
        {
            var colon = row.IndexOf(": ", StringComparison.Ordinal);
            Assert.That(colon, Is.GreaterThan(0), row);
            var rule = row[..colon];
            Assert.That(counts.ContainsKey(rule), Is.True, row);
            counts[rule]++;
            using var json = JsonDocument.Parse(row[(colon + 2)..]);
            Assert.That(json.RootElement.GetProperty("deviceId").GetString(), Does.StartWith("sensor-"), row);
        }

        var summary = Summary().Match(run.Stderr);
        Assert.That(summary.Success, Is.True, run.Stderr);
        Assert.Multiple(() =>
        {
            Assert.That(int.Parse(summary.Groups["published"].Value, System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThanOrEqualTo(3 * 2 * 10), "readings published in 11 s by 3 devices at 2/s");
            Assert.That(int.Parse(summary.Groups["alert"].Value, System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(counts["alert"]));
            Assert.That(int.Parse(summary.Groups["avg"].Value, System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(counts["avg10s"]));
            Assert.That(counts["avg10s"], Is.GreaterThan(0), "no window closed");
        });
    }

    [GeneratedRegex(@"stopped: (?<published>\d+) readings published; alert: (?<alert>\d+) rows, avg10s: (?<avg>\d+) rows")]
    private static partial Regex Summary();
}
