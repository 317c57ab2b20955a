using System.Collections.Concurrent;
using System.Diagnostics;

namespace EdgeStream.State.Sqlite.Tests;

/// <summary>
/// A host process killed with SIGKILL (<c>kill -9</c>: no stop, no dispose, no flush) and started again over the same
/// SQLite file gets back its streams and rules, each running rule's window from its last checkpoint, and the sink
/// cache's messages, which it then delivers: counted at the far end.
/// </summary>
public sealed class CrashTests
{
    /// <summary>The child host, built beside this project (same configuration).</summary>
    private static string ChildPath
    {
        get
        {
            var here = AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar);
            var path = here.Replace("EdgeStream.State.Sqlite.Tests", "EdgeStream.CrashChild", StringComparison.Ordinal);
            return Path.Combine(path, "EdgeStream.CrashChild.dll");
        }
    }

    private sealed class Child : IAsyncDisposable
    {
        private readonly Process process;
        private readonly ConcurrentQueue<string> lines = new();

        public Child(string folder)
        {
            var start = new ProcessStartInfo("dotnet")
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in new[] { ChildPath, Path.Combine(folder, "state.db"), Path.Combine(folder, "out.txt"), Path.Combine(folder, "down") })
            {
                start.ArgumentList.Add(arg);
            }

            process = Process.Start(start) ?? throw new InvalidOperationException("the child did not start");
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is { } line)
                {
                    lines.Enqueue(line);
                }
            };
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is { } line)
                {
                    lines.Enqueue("stderr " + line);
                }
            };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public async Task SendAsync(string command)
        {
            await process.StandardInput.WriteLineAsync(command);
            await process.StandardInput.FlushAsync();
        }

        /// <summary>Waits for a line the child printed that matches, and returns it.</summary>
        public async Task<string> LineAsync(Func<string, bool> match, string what)
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (true)
            {
                if (lines.FirstOrDefault(match) is { } line)
                {
                    return line;
                }

                Assert.That(DateTime.UtcNow, Is.LessThan(deadline), $"timed out waiting for {what}; the child printed:\n{string.Join("\n", lines)}");
                Assert.That(process.HasExited, Is.False, $"the child exited waiting for {what}:\n{string.Join("\n", lines)}");
                await Task.Delay(20);
            }
        }

        /// <summary>Asks for the status until <paramref name="done"/> holds for the line of <paramref name="rule"/>.</summary>
        public async Task StatusUntilAsync(string rule, Func<IReadOnlyDictionary<string, long>, bool> done, string what)
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (true)
            {
                lines.Clear();
                await SendAsync("status");
                var line = await LineAsync(l => l.StartsWith($"status {rule} ", StringComparison.Ordinal), "a status");
                var metrics = line.Split(' ').Skip(2).Select(p => p.Split('=')).ToDictionary(p => p[0], p => long.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture));
                if (done(metrics))
                {
                    return;
                }

                Assert.That(DateTime.UtcNow, Is.LessThan(deadline), $"timed out waiting for {what}: {line}");
                await Task.Delay(50);
            }
        }

        /// <summary>SIGKILL: the process gets no chance to stop, flush or dispose anything.</summary>
        public async Task KillAsync()
        {
            process.Kill();
            await process.WaitForExitAsync();
        }

        public async ValueTask DisposeAsync()
        {
            if (!process.HasExited)
            {
                await KillAsync();
            }

            process.Dispose();
        }
    }

    [Test]
    public async Task A_killed_host_gets_back_its_rules_window_state_and_cached_messages()
    {
        Assert.That(File.Exists(ChildPath), Is.True, $"the child host is built at {ChildPath}");
        var folder = Directory.CreateTempSubdirectory("edgestream-crash-").FullName;
        try
        {
            var output = Path.Combine(folder, "out.txt");
            await File.WriteAllTextAsync(Path.Combine(folder, "down"), "the file sink's destination is down");

            await using (var first = new Child(folder))
            {
                await first.LineAsync(l => l == "ready 0", "the first run to declare its rules");
                for (var a = 1; a <= 5; a++)
                {
                    await first.SendAsync($$"""event {"a": {{a}}}""");
                }

                // The window took all five and a checkpoint followed; the sink, down, has all five cached on disk.
                await first.StatusUntilAsync("w", m => m["records_in"] == 5, "the window to take the events");
                long checkpoints = 0;
                await first.StatusUntilAsync("w", m => (checkpoints = m["checkpoints_completed_total"]) > 0, "a first checkpoint");
                await first.StatusUntilAsync("w", m => m["checkpoints_completed_total"] >= checkpoints + 2, "a checkpoint after the events");
                await first.StatusUntilAsync("c", m => m["sink_lines_0_0_cache_disk_length"] == 5, "the cache to hold the five on disk");
                await first.KillAsync();
            }

            Assert.That(File.Exists(output), Is.False, "nothing was delivered before the kill");
            File.Delete(Path.Combine(folder, "down")); // the destination is back

            await using var second = new Child(folder);
            await second.LineAsync(l => l == "ready 2", "the next run to restore the stream's two rules");
            await second.StatusUntilAsync("w", m => m["checkpoint_restored_total"] == 1, "the window's checkpoint to be restored");
            for (var a = 6; a <= 7; a++)
            {
                await second.SendAsync($$"""event {"a": {{a}}}""");
            }

            await second.StatusUntilAsync("w", m => m["records_in"] == 2, "the window to take the new events");
            await second.SendAsync("flush");
            var window = await second.LineAsync(l => l.StartsWith("out ", StringComparison.Ordinal), "the window's result");
            Assert.That(window, Is.EqualTo("out 1,2,3,4,5,6,7"), "the events before the kill are in the window, once");

            await second.StatusUntilAsync("c", m => m["sink_lines_0_0_cache_length"] == 0 && m["records_in"] == 2, "the cache to be resent");
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (!File.Exists(output) || (await File.ReadAllLinesAsync(output)).Length < 7)
            {
                Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "the sink's file to get every row");
                await Task.Delay(50);
            }

            Assert.That(await File.ReadAllLinesAsync(output), Is.EqualTo(new[] { "1", "2", "3", "4", "5", "6", "7" }), "every row, once, in order");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
