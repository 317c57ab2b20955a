using EdgeStream.Sql.Ast;
using EdgeStream.Sql.Parsing;

namespace EdgeStream.Tests.Conformance;

/// <summary>Every statement of the corpus parses, prints back to an equal tree, and binds against its own streams.</summary>
public sealed class FrontEndConformanceTests
{
    private static IEnumerable<TestCaseData> Cases() =>
        ConformanceCase.LoadAll().Select(c => new TestCaseData(c).SetArgDisplayNames(c.Name));

    [Test]
    public void The_whole_corpus_is_present()
    {
        Assert.That(ConformanceCase.LoadAll(), Has.Count.EqualTo(92));
    }

    [TestCaseSource(nameof(Cases))]
    public void Sql_and_ddls_parse_and_round_trip(ConformanceCase c)
    {
        foreach (var text in c.Ddls.Append(c.Sql))
        {
            var statement = SqlParser.ParseStatement(text);
            Assert.That(SqlParser.ParseStatement(SqlPrinter.Print(statement)), Is.EqualTo(statement), text);
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void Sql_binds_against_its_own_streams(ConformanceCase c)
    {
        var canonical = EdgeSql.Check(c.Sql, c.Ddls);
        Assert.That(canonical, Does.StartWith("SELECT "));
    }
}
