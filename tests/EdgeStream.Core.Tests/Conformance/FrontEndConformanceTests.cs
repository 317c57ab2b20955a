using EdgeStream.Sql.Ast;
using EdgeStream.Sql.Parsing;
using EdgeStream.Testing;

namespace EdgeStream.Tests.Conformance;

/// <summary>Every statement of the corpus parses, prints back to an equal tree, and binds against its own streams.</summary>
public sealed class FrontEndConformanceTests
{
    internal static IReadOnlyList<ConformanceCase> LoadAll() =>
        Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Conformance", "cases"), "*.json")
            .Order(StringComparer.Ordinal).Select(ConformanceCase.Load).ToList();

    private static IEnumerable<TestCaseData> Cases() =>
        LoadAll().Select(c => new TestCaseData(c).SetArgDisplayNames(c.Name));

    [Test]
    public void The_whole_corpus_is_present()
    {
        Assert.That(LoadAll(), Has.Count.EqualTo(92));
    }

    [TestCaseSource(nameof(Cases))]
    public void Sql_and_ddls_parse_and_round_trip(ConformanceCase c)
    {
        foreach (var text in c.Streams.Select(s => s.Ddl).Append(c.Sql))
        {
            var statement = SqlParser.ParseStatement(text);
            Assert.That(SqlParser.ParseStatement(SqlPrinter.Print(statement)), Is.EqualTo(statement), text);
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void Sql_binds_against_its_own_streams(ConformanceCase c)
    {
        var canonical = EdgeSql.Check(c.Sql, c.Streams.Select(s => s.Ddl));
        Assert.That(canonical, Does.StartWith("SELECT "));
    }
}
