using EdgeStream.Functions;
using EdgeStream.Planning;
using EdgeStream.Sql;
using EdgeStream.Sql.Parsing;
using EdgeStream.Tests.Support;

namespace EdgeStream.Tests.Planning;

/// <summary>Binding against a fixed set of declared streams; the errors are pinned as data.</summary>
public sealed class BinderTests
{
    internal static readonly string[] Declarations =
    [
        "CREATE STREAM demo (color STRING, size BIGINT, ts BIGINT, temp FLOAT, ok BOOLEAN, tags ARRAY(STRING), loc STRUCT(lat FLOAT, city STRING)) WITH (DATASOURCE=\"demo\", TIMESTAMP=\"ts\")",
        "CREATE STREAM demo1 (temp FLOAT, hum BIGINT, `from` STRING, ts BIGINT) WITH (DATASOURCE=\"demo1\")",
        "CREATE STREAM ldemo () WITH (DATASOURCE=\"ldemo\")",
        "CREATE TABLE table1 (name STRING, size BIGINT, id BIGINT) WITH (DATASOURCE=\"lookup.json\", KIND=\"lookup\")",
    ];

    private static IEnumerable<TestCaseData> Valid() => DataFile.Cases("binder-valid.txt");

    private static IEnumerable<TestCaseData> Errors() => DataFile.Cases("binder-errors.txt");

    private static BoundSelect Bind(string sql)
    {
        var catalog = new StreamCatalog();
        foreach (var ddl in Declarations)
        {
            catalog.Add(SqlParser.ParseCreate(ddl));
        }

        return new Binder(catalog, FunctionRegistry.Builtins).BindSelect(SqlParser.ParseSelect(sql));
    }

    [TestCaseSource(nameof(Valid))]
    public void Valid_statements_bind_with_the_expected_output_columns(string sql, string expected)
    {
        var bound = Bind(sql);
        var columns = string.Join(", ", bound.Fields.Select(f => $"{f.Name}:{f.Type}{(f.Invisible ? " invisible" : string.Empty)}"));
        Assert.That(columns, Is.EqualTo(expected));
    }

    [TestCaseSource(nameof(Errors))]
    public void Invalid_statements_give_the_exact_error(string sql, string expected)
    {
        var error = Assert.Throws<SqlException>(() => Bind(sql))!;
        Assert.That(error.Message, Is.EqualTo(expected));
        Assert.That(error.Code, Is.Not.EqualTo(SqlErrorCode.Syntax));
    }

    [Test]
    public void Names_resolve_to_columns_aliases_or_runtime_fields()
    {
        var bound = Bind("SELECT size + 1 AS size, size + 1 AS b, a FROM demo INNER JOIN ldemo ON demo.ts = ldemo.ts GROUP BY TUMBLINGWINDOW(ss, 1)");
        var refs = bound.Names.Where(n => n.Key is EdgeStream.Sql.Ast.FieldRef).Select(n => (((EdgeStream.Sql.Ast.FieldRef)n.Key).Name, n.Value)).ToList();
        Assert.Multiple(() =>
        {
            // Inside its own item `size` is the column; in the next item the alias `size` shadows it (as in eKuiper).
            var sizes = refs.Where(r => r.Name == "size").Select(r => r.Value).ToList();
            Assert.That(sizes, Has.Count.EqualTo(2));
            Assert.That(sizes.Count(b => b.Column?.Name == "size" && b.Source!.Ref.Name == "demo"), Is.EqualTo(1));
            Assert.That(sizes.Count(b => b.Alias?.Alias == "size"), Is.EqualTo(1));
            Assert.That(refs.Single(r => r.Name == "a").Value.IsDynamic, Is.True);
            Assert.That(refs.Single(r => r.Name == "a").Value.Source!.Ref.Name, Is.EqualTo("ldemo"));
        });
    }

    [Test]
    public void Stream_options_are_validated()
    {
        var catalog = new StreamCatalog();
        var error = Assert.Throws<SqlException>(() => catalog.Add(SqlParser.ParseCreate("CREATE STREAM s (a BIGINT) WITH (DATASOURC=\"x\")")))!;
        Assert.That(error.Message, Is.EqualTo("Error (line 1, column 34): unknown option `DATASOURC`; did you mean `DATASOURCE`?"));
        Assert.That(error.Code, Is.EqualTo(SqlErrorCode.InvalidValue));
    }

    [TestCase("CREATE STREAM s (a BIGINT) WITH (SHARED=\"yes\")", "Error (line 1, column 34): option `SHARED` must be \"true\" or \"false\", not \"yes\".")]
    [TestCase("CREATE STREAM s (a BIGINT) WITH (RETAIN_SIZE=\"3\")", "Error (line 1, column 34): option `RETAIN_SIZE` applies to tables only.")]
    [TestCase("CREATE TABLE t (a BIGINT) WITH (RETAIN_SIZE=\"-3\")", "Error (line 1, column 33): option `RETAIN_SIZE` must be a positive integer, not \"-3\".")]
    [TestCase("CREATE TABLE t (a BIGINT) WITH (KIND=\"remote\")", "Error (line 1, column 33): option `KIND` must be \"scan\" or \"lookup\", not \"remote\".")]
    [TestCase("CREATE STREAM s (a BIGINT) WITH (TIMESTAMP=\"tss\")", "Error (line 1, column 34): TIMESTAMP names `tss`, which is not a column of `s`.")]
    [TestCase("CREATE STREAM s (a BOOLEAN) WITH (TIMESTAMP=\"a\")", "Error (line 1, column 35): TIMESTAMP column `a` must be bigint, float, datetime or string (read with TIMESTAMP_FORMAT), not boolean.")]
    [TestCase("CREATE STREAM s (a BIGINT) WITH (TYPE=\"mqtt\", TYPE=\"file\")", "Error (line 1, column 47): option `TYPE` is given twice.")]
    public void Bad_stream_options_are_rejected(string ddl, string expected)
    {
        var error = Assert.Throws<SqlException>(() => new StreamCatalog().Add(SqlParser.ParseCreate(ddl)))!;
        Assert.That(error.Message, Is.EqualTo(expected));
    }

    [Test]
    public void A_stream_is_declared_once()
    {
        var error = Assert.Throws<SqlException>(() => EdgeSql.Check("SELECT * FROM s", ["CREATE STREAM s () WITH (DATASOURCE=\"a\")", "CREATE STREAM S () WITH (DATASOURCE=\"b\")"]))!;
        Assert.That(error.Reason, Is.EqualTo("stream `S` is already declared"));
    }

    [Test]
    public void Types_are_inferred_for_typed_streams()
    {
        var bound = Bind("SELECT size + 1, size + temp, size / 2, -temp, tags[0], tags[1:2], loc.city, loc->lat, [1, 2.5], CASE WHEN ok THEN 1 ELSE 2 END FROM demo");
        Assert.That(bound.Fields.Select(f => f.Type.ToString()), Is.EqualTo(new[]
        {
            "bigint", "float", "bigint", "float", "string", "array(string)", "string", "float", "array(float)", "bigint",
        }));
        Assert.That(bound.Fields.Select(f => f.Type), Is.All.Not.EqualTo(SqlType.Any));
    }
}
