using EdgeStream.Sql.Ast;
using EdgeStream.Sql.Parsing;
using EdgeStream.Tests.Support;

namespace EdgeStream.Tests.Sql;

/// <summary>Every production of the grammar, as data: each input must parse and print as its canonical form.</summary>
public sealed class ParserTests
{
    private static IEnumerable<TestCaseData> Canonical() => DataFile.Cases("parser-cases.txt");

    private static IEnumerable<TestCaseData> Errors() => DataFile.Cases("parser-errors.txt");

    [TestCaseSource(nameof(Canonical))]
    public void Parses_and_prints_canonical_sql(string input, string expected)
    {
        var statement = SqlParser.ParseStatement(input);
        var printed = SqlPrinter.Print(statement);
        Assert.That(printed, Is.EqualTo(expected));

        // The canonical form is a fixed point and means the same tree.
        var reparsed = SqlParser.ParseStatement(printed);
        Assert.That(reparsed, Is.EqualTo(statement));
        Assert.That(SqlPrinter.Print(reparsed), Is.EqualTo(printed));
    }

    [TestCaseSource(nameof(Errors))]
    public void Malformed_sql_gives_the_exact_error(string input, string expected)
    {
        var error = Assert.Throws<SqlException>(() => SqlParser.ParseStatement(input))!;
        Assert.That(error.Message, Is.EqualTo(expected));
        Assert.That(error.Code == SqlErrorCode.Syntax, Is.EqualTo(expected.StartsWith("Syntax error", StringComparison.Ordinal)));
        Assert.That(error.Line, Is.GreaterThan(0));
    }

    [Test]
    public void The_documented_example_error_has_position_and_expectation()
    {
        var error = Assert.Throws<SqlException>(() => EdgeSql.Format("SELECT color, size, ts FORM demo"))!;
        Assert.Multiple(() =>
        {
            Assert.That(error.Message, Is.EqualTo("Syntax error (line 1, column 24): unexpected identifier `FORM`, expected `FROM`."));
            Assert.That(error.Reason, Is.EqualTo("unexpected identifier `FORM`, expected `FROM`"));
            Assert.That(error.Line, Is.EqualTo(1));
            Assert.That(error.Column, Is.EqualTo(24));
            Assert.That(error.Position, Is.EqualTo(23));
            Assert.That(error.Expected, Is.EqualTo(new[] { "`FROM`" }));
        });
    }

    [Test]
    public void Positions_count_lines_and_columns()
    {
        var error = Assert.Throws<SqlException>(() => SqlParser.ParseStatement("SELECT a,\n  b\nFROM s\nWHERE a >"))!;
        Assert.That((error.Line, error.Column), Is.EqualTo((4, 10)));
        Assert.That(error.Reason, Is.EqualTo("unexpected end of input, expected expression"));
    }

    [Test]
    public void Nodes_carry_their_source_spans()
    {
        var select = SqlParser.ParseSelect("SELECT a + b AS c\nFROM s WHERE x > 1");
        var sum = (BinaryExpr)select.Fields[0].Expr;
        Assert.Multiple(() =>
        {
            Assert.That((sum.Span.Start, sum.Span.End, sum.Span.Line, sum.Span.Column), Is.EqualTo((7, 12, 1, 8)));
            Assert.That((select.Where!.Span.Line, select.Where.Span.Column), Is.EqualTo((2, 14)));
            Assert.That((select.Span.Start, select.Span.End), Is.EqualTo((0, 36)));
        });
    }

    [Test]
    public void Equality_ignores_spans_but_not_content()
    {
        var a = SqlParser.ParseExpression("a + 1");
        var b = SqlParser.ParseExpression("  a   +   1");
        var c = SqlParser.ParseExpression("a + 2");
        Assert.Multiple(() =>
        {
            Assert.That(a, Is.EqualTo(b));
            Assert.That(a.GetHashCode(), Is.EqualTo(b.GetHashCode()));
            Assert.That(a, Is.Not.EqualTo(c));
        });
    }

    [TestCase("a OR b AND c", "a OR (b AND c)")]
    [TestCase("NOT a = b", "NOT (a = b)")]
    [TestCase("a + b * c", "a + (b * c)")]
    [TestCase("a | b & c", "a | (b & c)")]
    [TestCase("a = b + c", "a = (b + c)")]
    [TestCase("a - b - c", "(a - b) - c")]
    [TestCase("-a[0]", "-(a[0])")]
    [TestCase("a->b.c[1]", "((a->b).c)[1]")]
    [TestCase("x BETWEEN a + 1 AND b * 2", "x BETWEEN (a + 1) AND (b * 2)")]
    public void Precedence_follows_ekuiper(string text, string parenthesised)
    {
        Assert.That(SqlParser.ParseExpression(text), Is.EqualTo(SqlParser.ParseExpression(parenthesised)));
    }

    [Test]
    public void Literals_have_their_values()
    {
        var select = SqlParser.ParseSelect("SELECT -9223372036854775808, 9223372036854775807, 1.5e3, 'a\\nb', \"it\"\"s\", `x``y` FROM s");
        var values = select.Fields.Select(f => f.Expr).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(values[0], Is.EqualTo(new IntegerLiteral(long.MinValue)));
            Assert.That(values[1], Is.EqualTo(new IntegerLiteral(long.MaxValue)));
            Assert.That(values[2], Is.EqualTo(new FloatLiteral(1500.0)));
            Assert.That(values[3], Is.EqualTo(new StringLiteral("a\nb")));
            Assert.That(values[4], Is.EqualTo(new StringLiteral("it\"s")));
            Assert.That(values[5], Is.EqualTo(new FieldRef("x`y")));
        });
    }

    [Test]
    public void Backslashes_that_are_not_escapes_stay_for_like_and_regex()
    {
        var literal = (StringLiteral)SqlParser.ParseExpression("\"a\\%b\\d+\"");
        Assert.That(literal.Value, Is.EqualTo("a\\%b\\d+"));
    }

    [Test]
    public void Windows_keep_their_position_among_group_keys()
    {
        var select = SqlParser.ParseSelect("SELECT a FROM s GROUP BY a, TUMBLINGWINDOW(ss, 10), b");
        var group = select.GroupBy!;
        Assert.Multiple(() =>
        {
            Assert.That(group.WindowIndex, Is.EqualTo(1));
            Assert.That(group.Keys, Has.Count.EqualTo(2));
            Assert.That(group.Window, Is.EqualTo(new WindowSpec(WindowKind.Tumbling, TimeUnit.Seconds, 10, null, null, null, null, null)));
        });
    }
}

/// <summary>Hostile input must give an error, never exhaust the stack (which would end the host process).</summary>
public sealed class ParserDepthTests
{
    /// <summary>Runs on a thread with a 1 MiB stack (the smallest default of a .NET thread), so a missing guard fails here.</summary>
    private static Exception? OnSmallStack(Action action)
    {
        Exception? caught = null;
        var thread = new Thread(
            () =>
            {
                try
                {
                    action();
                }
                catch (Exception e)
                {
                    caught = e;
                }
            },
            1024 * 1024);
        thread.Start();
        thread.Join();
        return caught;
    }

    [Test]
    public void Deep_parentheses_are_a_syntax_error()
    {
        var sql = "SELECT " + new string('(', 5000) + "1" + new string(')', 5000) + " FROM s";
        var error = OnSmallStack(() => EdgeSql.Format(sql));
        Assert.That(error, Is.TypeOf<SqlException>());
        Assert.That(((SqlException)error!).Reason, Does.Contain("nests").Or.Contains("deep"));
    }

    [TestCase("NOT ")]
    [TestCase("-")]
    [TestCase("f(")]
    [TestCase("[")]
    public void Deep_prefix_chains_are_a_syntax_error(string prefix)
    {
        var sql = "SELECT " + string.Concat(Enumerable.Repeat(prefix, 5000)) + "1 FROM s";
        Assert.That(OnSmallStack(() => EdgeSql.Format(sql)), Is.TypeOf<SqlException>());
    }

    [Test]
    public void Nesting_up_to_the_limit_parses()
    {
        var sql = "SELECT " + new string('(', 60) + "1" + new string(')', 60) + " FROM s";
        Assert.That(OnSmallStack(() => EdgeSql.Format(sql)), Is.Null);
    }

    [Test]
    public void Very_long_operator_chains_bind_or_fail_cleanly()
    {
        var sql = "SELECT " + string.Join(" + ", Enumerable.Repeat("size", 20_000)) + " FROM demo";
        string[] ddl = ["CREATE STREAM demo (size BIGINT) WITH (DATASOURCE=\"demo\")"];
        var error = OnSmallStack(() => EdgeSql.Check(sql, ddl));
        Assert.That(error, Is.Null.Or.TypeOf<SqlException>());
        Assert.That(OnSmallStack(() => EdgeSql.Check("SELECT " + string.Join(" + ", Enumerable.Repeat("size", 100)) + " FROM demo", ddl)), Is.Null);
    }
}
