using System.Text.Json;
using EdgeStream.Testing;

namespace EdgeStream.Cli;

/// <summary><c>edgestream replay [--json] CASE.json…</c>: replays conformance cases and reports each.</summary>
internal static class Replay
{
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var json = false;
        var files = new List<string>();
        foreach (var arg in args)
        {
            if (arg == "--json")
            {
                json = true;
            }
            else if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                return CliApp.Fail(stderr, $"unknown option `{arg}`; run `edgestream --help`");
            }
            else
            {
                files.Add(arg);
            }
        }

        if (files.Count == 0)
        {
            return CliApp.Fail(stderr, "give one or more case files: edgestream replay [--json] CASE.json…");
        }

        var allGood = true;
        foreach (var file in files)
        {
            ConformanceCase conformanceCase;
            try
            {
                conformanceCase = ConformanceCase.Load(file);
            }
            catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException)
            {
                return CliApp.Fail(stderr, $"{file}: {e.Message}");
            }

            var result = CaseReplayer.ReplayAsync(conformanceCase).GetAwaiter().GetResult();
            allGood &= result.Status != ReplayStatus.Fail;
            if (json)
            {
                stdout.WriteLine(ToJson(result));
            }
            else
            {
                stdout.WriteLine($"{result.Status switch { ReplayStatus.Pass => "PASS", ReplayStatus.Deviation => "DEVIATION", _ => "FAIL" }} {result.Name}");
                if (!result.Passed)
                {
                    stdout.WriteLine($"  reason:   {result.Reason}");
                    stdout.WriteLine($"  expected: {result.ExpectedJson}");
                    stdout.WriteLine($"  actual:   {result.ActualJson}");
                }
            }
        }

        return allGood ? CliApp.Ok : CliApp.Failed;
    }

    /// <summary>One compact object: name, status, pass, expected and actual (as JSON values), reason.</summary>
    private static string ToJson(ReplayResult result)
    {
        using var expected = JsonDocument.Parse(result.ExpectedJson);
        using var actual = JsonDocument.Parse(result.ActualJson);
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            writer.WriteString("name", result.Name);
            writer.WriteString("status", result.Status.ToString().ToLowerInvariant());
            writer.WriteBoolean("pass", result.Passed);
            writer.WritePropertyName("expected");
            expected.RootElement.WriteTo(writer);
            writer.WritePropertyName("actual");
            actual.RootElement.WriteTo(writer);
            if (result.Reason is null)
            {
                writer.WriteNull("reason");
            }
            else
            {
                writer.WriteString("reason", result.Reason);
            }

            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
