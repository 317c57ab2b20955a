using EdgeStream.Abstractions;
using EdgeStream.Compilation;
using EdgeStream.Functions;
using EdgeStream.Functions.Builtins;
using EdgeStream.Planning;
using EdgeStream.Runtime;
using EdgeStream.Sql.Parsing;
using Microsoft.Extensions.Time.Testing;

namespace EdgeStream.Tests.Functions;

/// <summary>Which built-in calls with constant arguments are computed once, at rule creation, and which stay per row.</summary>
public sealed class ConstantFoldingTests
{
    [TestCase("format_time('10:30', 'yyyy-MM-dd')", "string(2026-11-23)", "string(2026-11-24)")]
    [TestCase("to_seconds(cast('10:30', 'datetime'))", "int64(1795429800)", "int64(1795516200)")]
    [TestCase("day_of_month('08:00:00')", "int64(23)", "int64(24)")]
    public void A_time_string_that_takes_todays_date_is_read_per_row_not_frozen_at_creation(string expression, string first, string second)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-23T08:09:10Z", System.Globalization.CultureInfo.InvariantCulture));
        var (compiler, evaluator, context) = Compile(expression, clock);
        Assert.That(compiler.TryGetConstant(evaluator, out _), Is.False, "the call reads the clock");
        Assert.That(evaluator(context).Describe(), Is.EqualTo(first));
        clock.Advance(TimeSpan.FromDays(1));
        Assert.That(evaluator(context).Describe(), Is.EqualTo(second));
    }

    [TestCase("format_time('2024-01-02 10:30:00', 'yyyy-MM-dd')")]
    [TestCase("day_of_month(cast('2024-01-02', 'datetime'))")]
    public void A_call_on_a_full_date_is_still_folded(string expression)
    {
        var (compiler, evaluator, _) = Compile(expression, new FakeTimeProvider());
        Assert.That(compiler.TryGetConstant(evaluator, out _), Is.True);
    }

    [TestCase("now()")]
    [TestCase("now(3)")]
    [TestCase("current_timestamp()")]
    [TestCase("local_time()")]
    [TestCase("local_timestamp()")]
    [TestCase("cur_date()")]
    [TestCase("current_date()")]
    [TestCase("cur_time()")]
    [TestCase("current_time(1)")]
    [TestCase("tstamp()")]
    [TestCase("rand()")]
    [TestCase("newuuid()")]
    [TestCase("rule_start()")]
    [TestCase("props('et')")]
    [TestCase("get_keyed_state('k', 'bigint', 0)")]
    [TestCase("array_shuffle([1, 2, 3])")]
    public void A_call_that_depends_on_the_clock_randomness_or_the_host_is_never_folded(string expression)
    {
        // Checked directly: the case files run each expression at one instant, where a folded value looks right.
        var (compiler, evaluator, _) = Compile(expression, new FakeTimeProvider());
        Assert.That(compiler.TryGetConstant(evaluator, out _), Is.False);
    }

    private static (ExpressionCompiler Compiler, Evaluator Evaluator, EvalContext Context) Compile(string expression, TimeProvider clock)
    {
        var catalog = new StreamCatalog();
        catalog.Add(SqlParser.ParseCreate("CREATE STREAM t () WITH (DATASOURCE=\"t\")"));
        var bound = new Binder(catalog, FunctionRegistry.Builtins).BindSelect(SqlParser.ParseSelect($"SELECT {expression} AS result FROM t"));
        var compiler = new ExpressionCompiler(bound, [RowSchema.Growing()], new FunctionEnvironment("rule1", clock, TimeZoneInfo.Utc));
        var evaluator = compiler.Compile(bound.Statement.Fields[0].Expr);
        return (compiler, evaluator, compiler.CreateContext());
    }
}
