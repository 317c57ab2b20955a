using System.Globalization;
using BenchmarkDotNet.Attributes;
using EdgeStream.Abstractions;
using EdgeStream.Compilation;
using EdgeStream.Functions;
using EdgeStream.Planning;
using EdgeStream.Sql.Parsing;

namespace EdgeStream.Benchmarks;

/// <summary>
/// Built-in function calls, <c>abs</c>, <c>round</c>, <c>concat</c>, <c>upper</c> and <c>format_time</c>, over 100,000
/// rows: the compiled select list evaluated on decoded rows, and the whole engine (publish → rule → nop sink), each
/// beside a hand-written C# loop producing the same values, and beside the same rule without the calls (what the
/// calls themselves cost). Setup checks that engine and baseline agree on every value.
/// </summary>
[MemoryDiagnoser]
public class FunctionBenchmarks
{
    private const int Events = 100_000;
    private const string Stream = "CREATE STREAM s (a BIGINT, b FLOAT, name STRING, ts BIGINT) WITH (DATASOURCE=\"in\", TYPE=\"memory\")";
    private const string Sql = "SELECT abs(a) AS x, round(b, 1) AS r, concat(name, '-', 'x') AS c, upper(name) AS u, format_time(ts, 'yyyy-MM-dd HH:mm:ss') AS t FROM s";
    private const string PlainSql = "SELECT a AS x, b AS r, name AS c, name AS u, ts AS t FROM s";

    private static readonly string[] Columns = ["a", "b", "name", "ts"];

    private IReadOnlyDictionary<string, object?>[] rows = null!;
    private Row[] decoded = null!;
    private Evaluator[] select = null!;
    private EvalContext context = null!;
    private EdgeStreamEngine engine = null!;
    private long published;
    private long plainPublished;

    [GlobalSetup]
    public async Task Setup()
    {
        var random = new Random(42);
        rows = new IReadOnlyDictionary<string, object?>[Events];
        var start = new DateTimeOffset(2026, 11, 23, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        for (var i = 0; i < Events; i++)
        {
            rows[i] = new Dictionary<string, object?>
            {
                ["a"] = (long)random.Next(-1000, 1000),
                ["b"] = random.NextDouble() * 100,
                ["name"] = "sensor-" + (i % 100),
                ["ts"] = start + (i * 1000L),
            };
        }

        (select, context, decoded) = CompileSelect(Sql);
        var expected = Baseline();
        Verify(Expressions(), expected, "compiled expressions");
        Verify(await RunOnce(), expected, "engine");

        engine = new EdgeStreamEngine(new EdgeStreamEngineOptions { TimeZone = TimeZoneInfo.Utc });
        engine.Execute(Stream);
        engine.Execute(Stream.Replace("s (", "plain (", StringComparison.Ordinal).Replace("\"in\"", "\"plain\"", StringComparison.Ordinal));
        var rule = new RuleDefinition("bench", Sql);
        rule.Actions.Add(new RuleAction("nop"));
        await engine.CreateRuleAsync(rule);
        var plain = new RuleDefinition("plain", PlainSql.Replace("FROM s", "FROM plain", StringComparison.Ordinal));
        plain.Actions.Add(new RuleAction("nop"));
        await engine.CreateRuleAsync(plain);
    }

    [GlobalCleanup]
    public async Task Cleanup() => await engine.DisposeAsync();

    private (Evaluator[] Select, EvalContext Context, Row[] Rows) CompileSelect(string sql)
    {
        var catalog = new StreamCatalog();
        catalog.Add(SqlParser.ParseCreate(Stream));
        var bound = new Binder(catalog, FunctionRegistry.Builtins).BindSelect(SqlParser.ParseSelect(sql));
        var schema = RowSchema.Growing();
        var env = new Functions.Builtins.FunctionEnvironment("bench", TimeProvider.System, TimeZoneInfo.Utc);
        var compiler = new ExpressionCompiler(bound, [schema], env);
        var evaluators = bound.Statement.Fields.Select(f => compiler.Compile(f.Expr)).ToArray();
        var slots = Columns.Select(schema.GetOrAdd).ToArray();
        var input = rows.Select(r =>
        {
            var values = new Value[slots.Max() + 1];
            values[slots[0]] = Value.From((long)r["a"]!);
            values[slots[1]] = Value.From((double)r["b"]!);
            values[slots[2]] = Value.From((string)r["name"]!);
            values[slots[3]] = Value.From((long)r["ts"]!);
            return new Row(schema, values);
        }).ToArray();
        return (evaluators, compiler.CreateContext(), input);
    }

    private static void Verify(List<(long X, double R, string C, string U, string T)> actual, List<(long X, double R, string C, string U, string T)> expected, string what)
    {
        if (!actual.SequenceEqual(expected))
        {
            var first = actual.Zip(expected).FirstOrDefault(p => p.First != p.Second);
            throw new InvalidOperationException($"{what} and baseline disagree ({actual.Count} vs {expected.Count} results; first difference {first.First} vs {first.Second})");
        }
    }

    /// <summary>The same values, by hand.</summary>
    private List<(long X, double R, string C, string U, string T)> Baseline()
    {
        var results = new List<(long, double, string, string, string)>(rows.Length);
        foreach (var row in rows)
        {
            var a = (long)row["a"]!;
            var b = (double)row["b"]!;
            var name = (string)row["name"]!;
            var ts = (long)row["ts"]!;
            results.Add((
                Math.Abs(a),
                Math.Round(b * 10, MidpointRounding.AwayFromZero) / 10,
                string.Concat(name, "-", "x"),
                name.ToUpperInvariant(),
                DateTimeOffset.FromUnixTimeMilliseconds(ts).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)));
        }

        return results;
    }

    private List<(long X, double R, string C, string U, string T)> Expressions()
    {
        var results = new List<(long, double, string, string, string)>(decoded.Length);
        foreach (var row in decoded)
        {
            context.SetRow(row);
            results.Add((select[0](context).AsInteger, select[1](context).AsFloat, select[2](context).AsString, select[3](context).AsString, select[4](context).AsString));
        }

        return results;
    }

    private async Task<List<(long X, double R, string C, string U, string T)>> RunOnce()
    {
        await using var check = new EdgeStreamEngine(new EdgeStreamEngineOptions { TimeZone = TimeZoneInfo.Utc });
        check.Execute(Stream);
        var rule = new RuleDefinition("check", Sql);
        rule.Actions.Add(new RuleAction("memory", new Dictionary<string, string> { ["topic"] = "out" }));
        await check.CreateRuleAsync(rule);
        using var stop = new CancellationTokenSource();
        var output = check.Memory.Subscribe("out", stop.Token, capacity: Events);
        foreach (var row in rows)
        {
            await check.Memory.PublishAsync("in", row);
        }

        await check.StopRuleAsync("check");
        var actual = new List<(long, double, string, string, string)>();
        while (output.TryRead(out var emission))
        {
            var r = emission[0];
            actual.Add(((long)r["x"]!, (double)r["r"]!, (string)r["c"]!, (string)r["u"]!, (string)r["t"]!));
        }

        return actual;
    }

    [Benchmark(Baseline = true, Description = "hand-written: the five calls")]
    public int HandWritten() => Baseline().Count;

    [Benchmark(Description = "compiled select list: the five calls")]
    public int CompiledCalls() => Expressions().Count;

    [Benchmark(Description = "engine: rule with the five calls")]
    public async Task<long> EngineWithCalls()
    {
        foreach (var row in rows)
        {
            await engine.Memory.PublishAsync("in", row);
        }

        published += Events;
        while (engine.GetRuleStatus("bench").RecordsIn < published)
        {
            await Task.Yield();
        }

        return published;
    }

    [Benchmark(Description = "engine: same rule without calls")]
    public async Task<long> EngineWithoutCalls()
    {
        foreach (var row in rows)
        {
            await engine.Memory.PublishAsync("plain", row);
        }

        plainPublished += Events;
        while (engine.GetRuleStatus("plain").RecordsIn < plainPublished)
        {
            await Task.Yield();
        }

        return plainPublished;
    }
}
