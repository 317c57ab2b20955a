using System.Text.Json;

namespace EdgeStream.Tests.Conformance;

/// <summary>One case of the conformance corpus (copied from eKuiper's rule tests into Conformance/cases).</summary>
public sealed record ConformanceCase(string Name, string Sql, IReadOnlyList<string> Ddls)
{
    public static IReadOnlyList<ConformanceCase> LoadAll()
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "Conformance", "cases");
        return Directory.GetFiles(folder, "*.json").Order(StringComparer.Ordinal).Select(Load).ToList();
    }

    private static ConformanceCase Load(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement;
        var ddls = root.GetProperty("streams").EnumerateObject().Select(s => s.Value.GetProperty("ddl").GetString()!).ToList();
        return new ConformanceCase(root.GetProperty("name").GetString()!, root.GetProperty("sql").GetString()!, ddls);
    }

    public override string ToString() => Name;
}
