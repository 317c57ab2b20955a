using EdgeStream.Abstractions;
using EdgeStream.Compilation;
using EdgeStream.Functions;
using EdgeStream.Planning;
using EdgeStream.Sql.Parsing;

namespace EdgeStream.Tests.Functions;

/// <summary>Numeric built-in calls allocate nothing per row: arguments travel on the stack, results stay unboxed.</summary>
public sealed class FunctionAllocationTests
{
    [TestCase("abs(a) * 2 + round(b, 1)")]
    [TestCase("power(b, 2) + sqrt(abs(b)) - floor(b) + ceil(b) + mod(a, 7)")]
    [TestCase("coalesce(n, a) + sign(a) + bitand(a, 255) + ln(abs(b) + 1)")]
    [TestCase("coalesce(n, n, n, n, a) + coalesce(n, n, n, b)")] // five arguments go through the shared argument stack
    public void Numeric_calls_do_not_allocate_per_row(string expression)
    {
        var catalog = new StreamCatalog();
        catalog.Add(SqlParser.ParseCreate("CREATE STREAM t (a BIGINT, b FLOAT, n BIGINT) WITH (DATASOURCE=\"t\")"));
        var bound = new Binder(catalog, FunctionRegistry.Builtins).BindSelect(SqlParser.ParseSelect($"SELECT {expression} AS result FROM t"));
        var schema = RowSchema.Growing();
        var compiler = new ExpressionCompiler(bound, [schema]);
        var evaluator = compiler.Compile(bound.Statement.Fields[0].Expr);
        var context = compiler.CreateContext();
        var values = new Value[3];
        values[schema.GetOrAdd("a")] = Value.From(-42L);
        values[schema.GetOrAdd("b")] = Value.From(3.75);
        context.SetRow(new Row(schema, values));

        var sum = 0.0;
        for (var i = 0; i < 1000; i++)
        {
            sum += evaluator(context).AsDouble; // warm up: JIT, tiering, the argument stack
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100_000; i++)
        {
            sum += evaluator(context).AsDouble;
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(allocated, Is.Zero, $"{expression}: {allocated} bytes over 100,000 evaluations (sum {sum})");
    }
}
