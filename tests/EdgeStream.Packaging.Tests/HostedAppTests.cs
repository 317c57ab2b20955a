using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace EdgeStream.Packaging.Tests;

/// <summary>
/// <c>samples/EdgeStream.HostedSample</c> (EdgeStream.Hosting and EdgeStream.AspNetCore in an ASP.NET Core app)
/// published as Native AOT without a warning, then run, natively and on the JIT build, as a user would: its
/// configured rule starts with the app, readings posted over HTTP come out of the rule, the management API and the
/// health check answer, and SIGTERM stops it cleanly.
/// </summary>
[NonParallelizable]
public sealed class HostedAppTests
{
    private NativePublish publish = null!;

    [OneTimeSetUp]
    public async Task PublishAsync() => publish = await NativePublish.RunAsync(Path.Combine("samples", "EdgeStream.HostedSample"), "EdgeStream.HostedSample");

    [OneTimeTearDown]
    public void CleanUp() => publish.Dispose();

    [Test]
    public void The_hosted_app_publishes_natively_without_a_single_warning() => publish.AssertCleanNativeExecutable();

    [TestCase(true)]
    [TestCase(false)]
    public async Task The_app_runs_its_configured_rule_and_serves_the_management_api_and_health(bool native)
    {
        string file;
        string[] arguments;
        string directory;
        if (native)
        {
            publish.AssertSucceeded();
            (file, arguments, directory) = (publish.Executable, [], publish.Directory);
        }
        else
        {
            directory = Path.Combine(Shell.Root, "samples", "EdgeStream.HostedSample", "bin", "Release", "net10.0");
            (file, arguments) = ("dotnet", [Path.Combine(directory, "EdgeStream.HostedSample.dll")]);
        }

        var port = FreePort();
        var start = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            Assert.That(await PollAsync(http, "/health", body => body == "Healthy"), Is.EqualTo("Healthy"));

            using var rules = JsonDocument.Parse(await http.GetStringAsync("/edgestream/rules"));
            var hot = rules.RootElement.EnumerateArray().Single(r => r.GetProperty("id").GetString() == "hot");
            Assert.That(hot.GetProperty("status").GetString(), Is.EqualTo("Running"));

            foreach (var reading in new[] { """{"deviceId": "a", "temperature": 35.5}""", """{"deviceId": "b", "temperature": 20}""", """{"deviceId": "c", "temperature": 31}""" })
            {
                using var content = new StringContent(reading, Encoding.UTF8, "application/json");
                using var posted = await http.PostAsync("/readings", content);
                Assert.That(posted.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
            }

            var alerts = await PollAsync(http, "/alerts", body => JsonDocument.Parse(body).RootElement.GetArrayLength() >= 2);
            Assert.That(
                JsonDocument.Parse(alerts).RootElement.EnumerateArray().Select(a => (a.GetProperty("deviceId").GetString(), a.GetProperty("temperature").GetDouble())),
                Is.EqualTo(new[] { ("a", 35.5), ("c", 31.0) }));

            using (var stop = await http.PostAsync("/edgestream/rules/hot/stop", null))
            {
                Assert.That(stop.StatusCode, Is.EqualTo(HttpStatusCode.OK), await stop.Content.ReadAsStringAsync());
            }

            using var status = JsonDocument.Parse(await http.GetStringAsync("/edgestream/rules/hot/status"));
            Assert.That(status.RootElement.GetProperty("status").GetString(), Is.EqualTo("stopped"));
            TestContext.Out.WriteLine($"{(native ? "native" : "JIT")} peak RSS: {PeakRssKb(process.Id)} kB");
        }
        finally
        {
            using (var term = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await term.WaitForExitAsync();
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                // Not stopped within 30 s of SIGTERM: killed, and the exit code below fails the test.
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }

        Assert.That(process.ExitCode, Is.Zero, await stdout + await stderr);
        Assert.That(await stdout, Does.Contain("EdgeStream started"), "the hosted service's start log (event 2000)");
    }

    /// <summary>GETs <paramref name="path"/> until <paramref name="done"/> holds for the body (the app is starting, or the rule working), 30 s at most.</summary>
    private static async Task<string> PollAsync(HttpClient http, string path, Func<string, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var last = string.Empty;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                last = await http.GetStringAsync(path);
                if (done(last))
                {
                    return last;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(100);
        }

        Assert.Fail($"GET {path} never gave what was waited for; last: {last}");
        return last;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string PeakRssKb(int pid) =>
        File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))?.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1] ?? "?";
}
