using EdgeStream.Planning;
using EdgeStream.Sql.Parsing;

namespace EdgeStream.Core.Tests.Docs;

/// <summary>
/// <c>docs/sql.md</c> against the parser: every statement, window, time unit, column type and stream option the
/// parser knows is documented and nothing else is, and every example parses (the SELECTs are validated as rules
/// against the streams the page creates).
/// </summary>
public sealed class SqlReferenceDocTests
{
    private static readonly MarkdownDoc Page = MarkdownDoc.Load("sql.md");

    [Test]
    public void Every_statement_has_its_section_and_every_section_is_a_statement()
    {
        var keywords = SqlGrammar.ExpectStatement.Select(k => k.Trim('`')).ToList();
        var headings = Page.Section("## Statements").Headings(3);
        foreach (var keyword in keywords)
        {
            Assert.That(headings.Any(h => h.StartsWith("`" + keyword, StringComparison.Ordinal)), Is.True, $"no section for {keyword}");
        }

        foreach (var heading in headings)
        {
            Assert.That(keywords.Any(k => heading.StartsWith("`" + k, StringComparison.Ordinal)), Is.True, $"`{heading}` is not a statement");
        }
    }

    [Test]
    public void The_window_table_lists_exactly_the_windows_the_parser_knows()
    {
        var documented = Page.Section("## Windows").Rows().Where(r => r.Name.EndsWith("WINDOW", StringComparison.Ordinal)).Select(r => r.Name);
        Assert.That(documented, Is.EquivalentTo(SqlGrammar.WindowNames.Keys));
    }

    [Test]
    public void The_time_unit_table_lists_exactly_the_units_the_parser_takes()
    {
        var documented = Page.Section("## Windows").Rows().Where(r => !r.Name.EndsWith("WINDOW", StringComparison.Ordinal)).Select(r => r.Name);
        Assert.That(documented, Is.EquivalentTo(SqlGrammar.ExpectTimeUnit.Select(u => u.Trim('`'))));
    }

    [Test]
    public void The_stream_option_table_lists_exactly_the_known_options_and_marks_the_table_only_ones()
    {
        var rows = Page.Section("## Stream options").Rows();
        Assert.That(rows.Select(r => r.Name), Is.EquivalentTo(StreamDefinition.KnownOptions.Keys));
        foreach (var (name, cells) in rows)
        {
            Assert.That(cells[0].StartsWith("Tables only", StringComparison.Ordinal), Is.EqualTo(StreamDefinition.KnownOptions[name]), name);
        }
    }

    [Test]
    public void The_column_type_table_lists_exactly_the_types_a_stream_can_declare()
    {
        var documented = Page.Section("## Column types").Names().Select(n => n.Split('(')[0]).ToList();

        // The parser's own list, as its error message gives it: "column type (bigint, float, …, array or struct)".
        var text = SqlGrammar.ExpectType;
        var known = text[(text.IndexOf('(', StringComparison.Ordinal) + 1)..text.LastIndexOf(')')]
            .Replace(" or ", ", ", StringComparison.Ordinal).Split(", ").Select(t => t.ToUpperInvariant());
        Assert.That(documented, Is.EquivalentTo(known));
        foreach (var type in documented)
        {
            var declared = type switch
            {
                "ARRAY" => "ARRAY(FLOAT)",
                "STRUCT" => "STRUCT(theme STRING, id BIGINT)",
                _ => type,
            };
            Assert.DoesNotThrow(() => SqlParser.ParseCreate($"CREATE STREAM t (c {declared}) WITH (DATASOURCE=\"t\")"), declared);
        }
    }

    [Test]
    public async Task Every_example_parses_and_every_select_is_a_valid_rule_over_the_streams_the_page_creates()
    {
        var examples = Page.CodeBlocks("sql");
        Assert.That(examples, Has.Count.GreaterThan(15));
        await using var engine = new EdgeStreamEngine();
        var selects = new List<string>();
        foreach (var sql in examples)
        {
            Sql.Ast.Statement statement;
            try
            {
                statement = SqlParser.ParseStatement(sql);
            }
            catch (SqlException e)
            {
                Assert.Fail($"{e.Message}\n{sql}");
                throw;
            }

            switch (statement)
            {
                case Sql.Ast.CreateStreamStatement:
                    engine.Execute(sql);
                    break;
                case Sql.Ast.SelectStatement:
                    selects.Add(sql);
                    break;
            }
        }

        Assert.That(selects, Has.Count.GreaterThanOrEqualTo(10));
        for (var i = 0; i < selects.Count; i++)
        {
            var rule = new RuleDefinition($"example{i}", selects[i]);
            rule.Actions.Add(new RuleAction("nop"));
            Assert.DoesNotThrow(() => engine.ValidateRule(rule), selects[i]);
        }
    }
}
