using System.Diagnostics;

namespace EdgeStream.Packaging.Tests;

/// <summary>What a command printed and how it ended.</summary>
/// <param name="Code">The exit code.</param>
/// <param name="Stdout">Standard output.</param>
/// <param name="Stderr">Standard error.</param>
internal sealed record CommandRun(int Code, string Stdout, string Stderr);

/// <summary>The repository root, and commands run from the tests with their output captured.</summary>
internal static class Shell
{
    /// <summary>The folder holding <c>EdgeStream.sln</c>, found above the test's directory.</summary>
    public static string Root
    {
        get
        {
            for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "EdgeStream.sln")))
                {
                    return dir.FullName;
                }
            }

            throw new InvalidOperationException("EdgeStream.sln not found above the test directory");
        }
    }

    /// <summary>Deletes a temp folder a test made; one still in use is left in the temp directory.</summary>
    public static void DeleteQuietly(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // Left in the temp directory.
        }
    }

    /// <summary>Runs <paramref name="file"/> to its end (killed after 8 minutes), its output captured.</summary>
    public static async Task<CommandRun> RunAsync(string file, IEnumerable<string> arguments, string directory)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return new CommandRun(process.ExitCode, await stdout, await stderr);
    }
}
