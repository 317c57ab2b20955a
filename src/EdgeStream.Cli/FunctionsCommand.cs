using System.Globalization;
using System.Text;
using System.Text.Json;

namespace EdgeStream.Cli;

/// <summary>
/// <c>edgestream functions [--json | --markdown]</c>: every function rules can call, from the engine's registry, so
/// the list, the JSON and the SQL reference (<c>docs/functions.md</c>) cannot drift from what the binder accepts.
/// </summary>
internal static class FunctionsCommand
{
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var format = "text";
        foreach (var arg in args)
        {
            switch (arg)
            {
                case "--json":
                    format = "json";
                    break;
                case "--markdown":
                    format = "markdown";
                    break;
                default:
                    return CliApp.Fail(stderr, $"unknown option `{arg}`; run `edgestream --help`");
            }
        }

        var engine = new EdgeStreamEngine();
        IReadOnlyList<FunctionDescription> functions;
        try
        {
            functions = engine.GetFunctions();
        }
        finally
        {
            engine.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        switch (format)
        {
            case "json":
                stdout.WriteLine(Json(functions));
                break;
            case "markdown":
                stdout.Write(Markdown(functions));
                break;
            default:
                foreach (var f in functions)
                {
                    stdout.WriteLine($"{f.Name}\t{f.Category}\t{f.Kind}\t{f.Signature}");
                }

                break;
        }

        return CliApp.Ok;
    }

    /// <summary>One JSON array of <c>{"name","category","kind","minArgs","maxArgs","aliasOf"}</c>.</summary>
    internal static string Json(IReadOnlyList<FunctionDescription> functions)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var f in functions)
            {
                writer.WriteStartObject();
                writer.WriteString("name", f.Name);
                writer.WriteString("category", f.Category);
                writer.WriteString("kind", f.Kind);
                writer.WriteNumber("minArgs", f.MinArguments);
                writer.WriteNumber("maxArgs", f.MaxArguments);
                if (f.AliasOf is null)
                {
                    writer.WriteNull("aliasOf");
                }
                else
                {
                    writer.WriteString("aliasOf", f.AliasOf);
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static readonly (string Category, string Title)[] Sections =
    [
        ("math", "Math"), ("string", "String"), ("conversion", "Conversion"), ("hashing", "Hashing"), ("datetime", "Date and time"),
        ("json", "JSON"), ("transform", "Transform"), ("array", "Array"), ("object", "Object"), ("aggregate", "Aggregate"),
        ("analytic", "Analytic"), ("multirow", "Multi-row (set-returning)"), ("other", "Other"), ("user", "User-defined"),
    ];

    /// <summary>The SQL function reference, one table per category (<c>docs/functions.md</c> is this output).</summary>
    internal static string Markdown(IReadOnlyList<FunctionDescription> functions)
    {
        var text = new StringBuilder();
        text.Append("""
            # SQL function reference

            Every function a rule can call, generated from the engine's function registry by
            `edgestream functions --markdown` (a test fails when this file and the registry differ). The same
            metadata checks calls when a rule is created: a wrong argument count, or a literal of the wrong type, is an
            error with its position in the SQL. Semantics follow eKuiper's; `tests/EdgeStream.Core.Tests/Data/functions/`
            pins each function's behaviour with examples (normal input, null, wrong types).

            Arguments: `[x]` is optional, `…` repeats. Kinds: *scalar* (one value per row), *aggregate* (one value
            per window or group), *analytic* (per row, with state across rows; `OVER (PARTITION BY … WHEN …)`),
            *set-returning* (several output rows or columns per row).

            """);
        foreach (var (category, title) in Sections)
        {
            var inCategory = functions.Where(f => f.Category == category).ToList();
            if (inCategory.Count == 0)
            {
                continue;
            }

            text.Append(CultureInfo.InvariantCulture, $"\n## {title}\n\n| Function | Kind | What it does |\n|---|---|---|\n");
            foreach (var f in inCategory)
            {
                text.Append(CultureInfo.InvariantCulture, $"| `{f.Signature}` | {f.Kind} | {f.Summary.Replace("|", "\\|", StringComparison.Ordinal)} |\n");
            }
        }

        return text.ToString();
    }
}
