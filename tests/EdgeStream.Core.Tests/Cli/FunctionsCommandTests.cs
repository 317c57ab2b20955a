using System.Text.Json;
using EdgeStream.Cli;

namespace EdgeStream.Tests.Cli;

/// <summary><c>edgestream functions</c>: the registry's metadata as text, JSON and the Markdown reference.</summary>
public sealed class FunctionsCommandTests
{
    private static readonly string[] ReferenceNames = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Data", "function-names.txt"))
        .Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = CliApp.Run(args, new StringReader(string.Empty), stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Test]
    public void Lists_every_function_one_per_line_tab_separated_without_a_header()
    {
        var (code, output, _) = Run("functions");
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.Zero);
            Assert.That(lines.Select(l => l.Split('\t')[0]), Is.EquivalentTo(ReferenceNames), "all 182 names, aliases on their own lines, nothing else");
            Assert.That(lines, Has.All.Matches<string>(l => l.Split('\t').Length == 4));
            Assert.That(lines, Does.Contain("round\tmath\tscalar\tround(x [, scale])"));
            Assert.That(lines, Does.Contain("ceil\tmath\tscalar\tceil(x)"));
            Assert.That(lines, Does.Contain("count\taggregate\taggregate\tcount(* | x)"));
            Assert.That(lines, Does.Contain("unnest\tmultirow\tset-returning\tunnest(a)"));
        });
    }

    [Test]
    public void Json_is_one_array_with_arity_and_aliases()
    {
        var (code, output, _) = Run("functions", "--json");
        using var document = JsonDocument.Parse(output);
        var items = document.RootElement.EnumerateArray().ToList();
        var ceil = items.Single(i => i.GetProperty("name").GetString() == "ceil");
        var concat = items.Single(i => i.GetProperty("name").GetString() == "concat");
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.Zero);
            Assert.That(items, Has.Count.EqualTo(182));
            Assert.That(ceil.GetProperty("aliasOf").GetString(), Is.EqualTo("ceiling"));
            Assert.That(ceil.GetProperty("category").GetString(), Is.EqualTo("math"));
            Assert.That(concat.GetProperty("minArgs").GetInt32(), Is.EqualTo(1));
            Assert.That(concat.GetProperty("maxArgs").GetInt32(), Is.EqualTo(-1));
            Assert.That(concat.GetProperty("aliasOf").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(concat.GetProperty("kind").GetString(), Is.EqualTo("scalar"));
        });
    }

    [Test]
    public void The_docs_function_reference_is_the_registry_output()
    {
        var docs = Path.Combine(RepositoryRoot(), "docs", "functions.md");
        var (code, output, _) = Run("functions", "--markdown");
        Assert.That(code, Is.Zero);
        Assert.That(File.Exists(docs), Is.True, "docs/functions.md: generate it with `edgestream functions --markdown > docs/functions.md`");
        Assert.That(File.ReadAllText(docs).ReplaceLineEndings("\n"), Is.EqualTo(output.ReplaceLineEndings("\n")),
            "docs/functions.md is stale: regenerate it with `dotnet run --project src/EdgeStream.Cli -- functions --markdown > docs/functions.md`");
        foreach (var name in ReferenceNames)
        {
            Assert.That(output, Does.Contain($"`{name}("), name);
        }
    }

    [Test]
    public void A_registered_function_is_listed_as_user_defined()
    {
        var engine = new EdgeStreamEngine();
        try
        {
            engine.RegisterFunction("Scale2", new TestExtensions.ScaleFunction());
            var scale = engine.GetFunctions().Single(f => f.Name == "scale2");
            Assert.That((scale.Category, scale.Kind, scale.IsUserDefined), Is.EqualTo(("user", "scalar", true)));
            Assert.That(engine.GetFunctions().Single(f => f.Name == "abs").IsUserDefined, Is.False);
        }
        finally
        {
            engine.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "EdgeStream.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new DirectoryNotFoundException("EdgeStream.sln not found above the test output");
    }
}
