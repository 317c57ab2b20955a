using System.Text.RegularExpressions;

namespace EdgeStream.Packaging.Tests;

/// <summary>
/// A project of the repository published as Native AOT (<c>dotnet publish -r linux-x64 -p:PublishAot=true</c>) into
/// a temp folder, removed on dispose.
/// </summary>
internal sealed partial class NativePublish : IDisposable
{
    private NativePublish(string directory, string executable, CommandRun run)
    {
        Directory = directory;
        Executable = executable;
        Run = run;
    }

    /// <summary>The folder published into.</summary>
    public string Directory { get; }

    /// <summary>The native executable's path.</summary>
    public string Executable { get; }

    /// <summary>What the publish printed and how it ended.</summary>
    public CommandRun Run { get; }

    /// <summary>Publishes <paramref name="project"/> (a folder below the repository root) whose executable is <paramref name="name"/>.</summary>
    public static async Task<NativePublish> RunAsync(string project, string name)
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("edgestream-aot-").FullName;
        var run = await Shell.RunAsync(
            "dotnet",
            ["publish", Path.Combine(Shell.Root, project), "-c", "Release", "-r", "linux-x64", "-p:PublishAot=true", "-o", directory],
            Shell.Root);
        return new NativePublish(directory, Path.Combine(directory, name), run);
    }

    /// <summary>Fails the calling test when the publish failed, with what the publish printed (never skipped).</summary>
    public void AssertSucceeded() => Assert.That(Run.Code, Is.Zero, $"the publish failed:\n{Run.Stdout}{Run.Stderr}");

    /// <summary>
    /// Asserts the publish succeeded without a single warning and gave a native ELF executable, with no managed
    /// assembly of that name beside it.
    /// </summary>
    public void AssertCleanNativeExecutable()
    {
        var output = Run.Stdout + Run.Stderr;
        Assert.That(Run.Code, Is.Zero, output);
        Assert.That(Warning().Matches(output).Select(m => m.Value), Is.Empty, output);
        Assert.That(File.Exists(Executable), Is.True, $"no {Executable}");
        var magic = new byte[4];
        using (var file = File.OpenRead(Executable))
        {
            file.ReadExactly(magic);
        }

        Assert.That(magic, Is.EqualTo(new byte[] { 0x7f, (byte)'E', (byte)'L', (byte)'F' }), "not an ELF executable");
        Assert.That(File.Exists(Executable + ".dll"), Is.False, "a managed assembly was published: not a native build");
    }

    /// <inheritdoc/>
    public void Dispose() => Shell.DeleteQuietly(Directory);

    [GeneratedRegex(@"warning [A-Z]+[0-9]+")]
    private static partial Regex Warning();
}
