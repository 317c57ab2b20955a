using System.IO.Compression;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace EdgeStream.Packaging.Tests;

/// <summary>
/// The packages as a user gets them: <c>dotnet pack</c> of the solution (built in Release by <c>./test.sh</c> first)
/// into a local folder feed, each package checked for what NuGet shows, then a fresh console app that references
/// <c>EdgeStream.Core</c> by version from that feed runs the README's quickstart block.
/// </summary>
[NonParallelizable]
public sealed partial class PackagingTests
{
    private static readonly string[] Libraries =
    [
        "EdgeStream.Core", "EdgeStream.Hosting", "EdgeStream.AspNetCore", "EdgeStream.Testing", "EdgeStream.Mqtt",
        "EdgeStream.Sources.Mqtt", "EdgeStream.Sinks.Mqtt", "EdgeStream.Sinks.MySql", "EdgeStream.State.Sqlite",
    ];

    private string work = null!;
    private string feed = null!;
    private string version = null!;

    [OneTimeSetUp]
    public async Task PackAsync()
    {
        work = Directory.CreateTempSubdirectory("edgestream-pack-").FullName;
        feed = Path.Combine(work, "feed");
        version = XDocument.Load(Path.Combine(Root, "Directory.Build.props")).Descendants("Version").First().Value;
        var (code, output) = await RunAsync("dotnet", ["pack", Path.Combine(Root, "EdgeStream.sln"), "-c", "Release", "--no-build", "-o", feed], Root);
        Assert.That(code, Is.Zero, output);
    }

    [OneTimeTearDown]
    public void CleanUp() => Shell.DeleteQuietly(work);

    [Test]
    public void Every_package_has_its_readme_license_expression_sourcelink_symbols_and_xml_docs()
    {
        foreach (var id in Libraries.Append("EdgeStream.Cli"))
        {
            var package = Path.Combine(feed, $"{id}.{version}.nupkg");
            Assert.That(File.Exists(package), Is.True, $"{id}: no package");
            Assert.That(File.Exists(Path.ChangeExtension(package, ".snupkg")), Is.True, $"{id}: no symbol package");
            using var zip = ZipFile.OpenRead(package);
            var nuspec = XDocument.Load(zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
            var metadata = nuspec.Root!.Elements().Single(e => e.Name.LocalName == "metadata");
            string? Meta(string name) => metadata.Elements().FirstOrDefault(e => e.Name.LocalName == name)?.Value;
            var license = metadata.Elements().Single(e => e.Name.LocalName == "license");
            var repository = metadata.Elements().Single(e => e.Name.LocalName == "repository");
            Assert.Multiple(() =>
            {
                Assert.That(license.Attribute("type")?.Value, Is.EqualTo("expression"), id);
                Assert.That(license.Value, Is.EqualTo("Apache-2.0"), id);
                Assert.That(Meta("readme"), Is.EqualTo("README.md"), id);
                Assert.That(zip.GetEntry("README.md"), Is.Not.Null, $"{id}: README.md not in the package");
                Assert.That(Meta("description"), Is.Not.Empty, id);
                Assert.That(repository.Attribute("commit")?.Value, Does.Match("^[0-9a-f]{40}$"), $"{id}: SourceLink's commit");
            });
            if (id != "EdgeStream.Cli")
            {
                Assert.That(zip.GetEntry($"lib/net10.0/{id}.xml"), Is.Not.Null, $"{id}: no XML docs next to the assembly");
            }
        }
    }

    [Test]
    public async Task A_fresh_console_app_referencing_the_packages_by_version_runs_the_readme_quickstart()
    {
        var app = Directory.CreateDirectory(Path.Combine(work, "app")).FullName;
        var packages = Path.Combine(work, "packages"); // its own package folder: a stale EdgeStream 0.1.0 cannot be picked up
        var (_, cache) = await RunAsync("dotnet", ["nuget", "locals", "global-packages", "--list"], app);
        var fallback = cache.Split(':', 2)[1].Trim();
        await File.WriteAllTextAsync(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config><add key="globalPackagesFolder" value="{packages}" /></config>
              <fallbackPackageFolders><add key="machine" value="{fallback}" /></fallbackPackageFolders>
              <packageSources>
                <clear />
                <add key="local" value="{feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="local"><package pattern="EdgeStream.*" /></packageSource>
                <packageSource key="nuget.org"><package pattern="*" /></packageSource>
              </packageSourceMapping>
            </configuration>
            """);
        await File.WriteAllTextAsync(Path.Combine(app, "QuickStart.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="EdgeStream.Core" Version="{version}" />
                <PackageReference Include="MySqlConnector" Version="{PackageVersion("MySqlConnector")}" />
              </ItemGroup>
            </Project>
            """);
        // An empty Directory.Build.props keeps the repository's settings (central versions, analyzers) out of the app.
        await File.WriteAllTextAsync(Path.Combine(app, "Directory.Build.props"), "<Project />");
        await File.WriteAllTextAsync(Path.Combine(app, "Directory.Packages.props"), "<Project />");
        await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), QuickStart());
        // The migration guide's ported sink is compiled with it, against the packaged API.
        await File.WriteAllTextAsync(Path.Combine(app, "MigrationGuideSink.cs"), FirstCSharpBlock(Path.Combine("docs", "migrating-from-ekuiper.md"), "## The sink"));

        var (code, output) = await RunAsync("dotnet", ["run", "-c", "Release"], app);
        Assert.That(code, Is.Zero, output);
        Assert.That(output.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).TakeLast(2), Is.EqualTo(new[] { "[a, 11], [c, 3]", "[a, 12], [c, 4]" }), output);
        Assert.That(Directory.Exists(Path.Combine(packages, "edgestream.core", version)), Is.True, "EdgeStream.Core came from the local feed, by version");
    }

    /// <summary>The README's first C# block under "## Running a rule".</summary>
    private static string QuickStart() => FirstCSharpBlock("README.md", "## Running a rule");

    /// <summary>The first C# block after <paramref name="heading"/> in a markdown file of the repository.</summary>
    private static string FirstCSharpBlock(string file, string heading)
    {
        var text = File.ReadAllText(Path.Combine(Root, file));
        var at = text.IndexOf(heading, StringComparison.Ordinal);
        Assert.That(at, Is.GreaterThanOrEqualTo(0), $"no '{heading}' in {file}");
        return CSharpBlock().Match(text[at..]) is { Success: true } match ? match.Groups[1].Value : throw new AssertionException($"no C# block under '{heading}' in {file}");
    }

    /// <summary>A package's version in the repository's Directory.Packages.props.</summary>
    private static string PackageVersion(string id) =>
        XDocument.Load(Path.Combine(Root, "Directory.Packages.props")).Descendants("PackageVersion")
            .Single(e => e.Attribute("Include")?.Value == id).Attribute("Version")!.Value;

    [GeneratedRegex("```csharp\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();

    private static string Root => Shell.Root;

    private static async Task<(int Code, string Output)> RunAsync(string file, string[] arguments, string directory)
    {
        var run = await Shell.RunAsync(file, arguments, directory);
        return (run.Code, run.Stdout + run.Stderr);
    }
}
