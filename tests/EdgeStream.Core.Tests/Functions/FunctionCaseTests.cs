using System.Globalization;
using System.Text.RegularExpressions;
using EdgeStream.Abstractions;
using EdgeStream.Compilation;
using EdgeStream.Functions;
using EdgeStream.Functions.Builtins;
using EdgeStream.Planning;
using EdgeStream.Runtime;
using EdgeStream.Runtime.Json;
using EdgeStream.Sql.Parsing;
using EdgeStream.Tests.Compilation;
using EdgeStream.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace EdgeStream.Tests.Functions;

/// <summary>
/// The built-in function library as data: every file in <c>Data/functions/</c> holds <c>EXPRESSION ⇒ EXPECTED</c>
/// lines, evaluated on a schemaless stream <c>t</c>.
/// <list type="bullet">
/// <item><c>@row JSON</c>: the row the following expressions read (compiled and evaluated directly).</item>
/// <item><c>@rows [JSON, …]</c>: the following expressions run as a rule over these rows, in order: an aggregate over
/// them all (one count window), anything else on each row, the last row's result counting.</item>
/// <item><c>@now ISO-8601</c> and <c>@zone NAME</c>: the engine's clock and time zone (default
/// 2026-11-23T08:09:10.123Z, UTC).</item>
/// <item><c>@meta JSON</c>: the metadata of the <c>@row</c> (<c>meta(…)</c>); <c>@state JSON</c>: the keyed state
/// store's contents (<c>get_keyed_state</c>). An empty argument clears either.</item>
/// </list>
/// EXPECTED is a JSON value (a number with a point is a float, without one an integer), <c>! fragment</c> for an
/// error (at rule creation or on the row) whose message has the fragment, <c>time:ISO-8601</c> for a datetime,
/// <c>bytes:BASE64</c> for bytes, or <c>~ REGEX</c> for a result whose text (Go's %v) matches.
/// </summary>
public sealed class FunctionCaseTests
{
    internal const string DefaultNow = "2026-11-23T08:09:10.123Z";

    internal sealed record Case(string File, int Line, string Expression, string Expected, string? Row, string? Rows, string Now, string Zone, string? Meta, string? State);

    internal static IEnumerable<Case> Load()
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "Data", "functions");
        foreach (var path in Directory.GetFiles(folder, "*.txt").Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(path);
            string? row = "{}";
            string? rows = null;
            var now = DefaultNow;
            var zone = "UTC";
            string? meta = null;
            string? state = null;
            var lineNumber = 0;
            foreach (var raw in File.ReadLines(path))
            {
                lineNumber++;
                var line = raw.Trim();
                if (line.Length == 0 || line.StartsWith('#'))
                {
                    continue;
                }

                if (line.StartsWith('@'))
                {
                    var space = line.IndexOf(' ', StringComparison.Ordinal);
                    var (directive, argument) = space < 0 ? (line, string.Empty) : (line[..space], line[(space + 1)..].Trim());
                    switch (directive)
                    {
                        case "@row":
                            (row, rows) = (argument, null);
                            break;
                        case "@rows":
                            (row, rows) = (null, argument);
                            break;
                        case "@now":
                            now = argument;
                            break;
                        case "@zone":
                            zone = argument;
                            break;
                        case "@meta":
                            meta = argument.Length == 0 ? null : argument;
                            break;
                        case "@state":
                            state = argument.Length == 0 ? null : argument;
                            break;
                        default:
                            throw new FormatException($"{name}:{lineNumber}: unknown directive `{directive}`");
                    }

                    continue;
                }

                var at = line.IndexOf('⇒', StringComparison.Ordinal);
                if (at < 0)
                {
                    throw new FormatException($"{name}:{lineNumber}: no ⇒ in `{line}`");
                }

                yield return new Case(name, lineNumber, line[..at].Trim(), line[(at + 1)..].Trim(), row, rows, now, zone, meta, state);
            }
        }
    }

    public static IEnumerable<TestCaseData> Cases() =>
        Load().Select(c => new TestCaseData(c.File, c.Line, c.Expression, c.Expected, c.Row, c.Rows, c.Now, c.Zone, c.Meta, c.State)
            .SetArgDisplayNames($"{c.File}:{c.Line}: {c.Expression}"));

    [TestCaseSource(nameof(Cases))]
    public async Task Function_evaluates_as_ekuiper_does(string file, int line, string expression, string expected, string? row, string? rows, string now, string zone,
        string? meta, string? state)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.Parse(now, CultureInfo.InvariantCulture));
        var timeZone = TimeZoneInfo.FindSystemTimeZoneById(zone);
        Value actual;
        try
        {
            var store = state is null ? null : Store(state);
            actual = rows is null ? Evaluate(row!, expression, clock, timeZone, meta, store) : await RunAsync(rows, expression, clock, timeZone, store);
        }
        catch (Exception e) when (e is EvaluationException or SqlException && expected.StartsWith('!'))
        {
            Assert.That(e.Message, Does.Contain(expected[1..].Trim()).IgnoreCase, $"{file}:{line}");
            return;
        }

        Assert.That(expected.StartsWith('!'), Is.False, $"{file}:{line}: expected an error containing `{expected[1..].Trim()}`, got {actual.Describe()}");
        Assert.That(Matches(expected, actual), Is.True, $"{file}:{line}: expected {expected}, got {actual.Describe()}");
    }

    internal static bool Matches(string expected, Value actual)
    {
        if (expected.StartsWith("time:", StringComparison.Ordinal))
        {
            return actual.Kind == ValueKind.Datetime
                && actual.AsDatetimeMs == DateTimeOffset.Parse(expected["time:".Length..], CultureInfo.InvariantCulture).ToUnixTimeMilliseconds();
        }

        if (expected.StartsWith("bytes:", StringComparison.Ordinal))
        {
            return actual.Kind == ValueKind.Bytes && actual.AsBytes.AsSpan().SequenceEqual(Convert.FromBase64String(expected["bytes:".Length..]));
        }

        if (expected.StartsWith('~'))
        {
            return !actual.IsNull && Regex.IsMatch(FunctionArgs.Text(actual), expected[1..].Trim());
        }

        return ValueComparer.Same(JsonValueReader.Parse(expected), actual);
    }

    /// <summary>A keyed state store holding the fields of <paramref name="json"/> (an object).</summary>
    private static InMemoryKeyedStateStore Store(string json)
    {
        var store = new InMemoryKeyedStateStore();
        foreach (var (key, value) in JsonValueReader.Parse(json).AsObject.Fields)
        {
            store.Set(key, new SqlValue(value));
        }

        return store;
    }

    /// <summary>Compiles <paramref name="expression"/> on a schemaless stream and evaluates it on one row.</summary>
    internal static Value Evaluate(string rowJson, string expression, TimeProvider clock, TimeZoneInfo zone, string? meta = null, IKeyedStateStore? store = null)
    {
        var catalog = new StreamCatalog();
        catalog.Add(SqlParser.ParseCreate("CREATE STREAM t () WITH (DATASOURCE=\"t\")"));
        var bound = new Binder(catalog, FunctionRegistry.Builtins).BindSelect(SqlParser.ParseSelect($"SELECT {expression} AS result FROM t"));
        var schema = RowSchema.Growing();
        var environment = new FunctionEnvironment("rule1", clock, zone) { RuleStart = clock.GetUtcNow().ToUnixTimeMilliseconds() - 60_000, KeyedState = store };
        var compiler = new ExpressionCompiler(bound, [schema], environment);
        var evaluator = compiler.Compile(bound.Statement.Fields[0].Expr);
        var context = compiler.CreateContext();
        var parsed = JsonValueReader.ReadRow(System.Text.Encoding.UTF8.GetBytes(rowJson), schema, 0);
        parsed.Timestamp = clock.GetUtcNow().ToUnixTimeMilliseconds();
        parsed.Meta = meta is null ? null : JsonValueReader.Parse(meta).AsObject;
        context.SetRow(parsed);
        return evaluator(context);
    }

    /// <summary>Runs <paramref name="expression"/> as a rule over <paramref name="rowsJson"/>; the last emission's result.</summary>
    internal static async Task<Value> RunAsync(string rowsJson, string expression, FakeTimeProvider clock, TimeZoneInfo zone, IKeyedStateStore? store = null)
    {
        var rows = JsonValueReader.Parse(rowsJson).AsArray;
        var results = new List<IReadOnlyDictionary<string, object?>>();
        await using var engine = new EdgeStreamEngine(new EdgeStreamEngineOptions { TimeProvider = clock, TimeZone = zone, KeyedState = store });
        using var subscription = engine.Memory.Subscribe("out", (emitted, _) =>
        {
            lock (results)
            {
                results.AddRange(emitted);
            }

            return ValueTask.CompletedTask;
        });
        engine.Execute("CREATE STREAM t () WITH (DATASOURCE=\"in\", TYPE=\"memory\")");
        var catalog = new StreamCatalog();
        catalog.Add(SqlParser.ParseCreate("CREATE STREAM t () WITH (DATASOURCE=\"t\")"));
        var aggregate = new Binder(catalog, FunctionRegistry.Builtins).BindSelect(SqlParser.ParseSelect($"SELECT {expression} AS result FROM t GROUP BY COUNTWINDOW(1)")).IsAggregate;
        var sql = $"SELECT {expression} AS result FROM t" + (aggregate ? $" GROUP BY COUNTWINDOW({rows.Length})" : string.Empty);
        var rule = new RuleDefinition("rule1", sql);
        rule.Actions.Add(new RuleAction("memory", new Dictionary<string, string> { ["topic"] = "out" }));
        rule.Options.SendError = true;
        await engine.CreateRuleAsync(rule);
        var expectedEmissions = aggregate ? 1 : rows.Length;
        foreach (var r in rows)
        {
            await engine.PublishAsync("t", ClrValues.ToDictionary(r.AsObject));
        }

        await Wait.Until(() => { lock (results) { return results.Count >= expectedEmissions; } }, $"{expectedEmissions} results of `{sql}`");
        await engine.StopRuleAsync("rule1"); // drains: every row's results (several with unnest) are in
        var last = results[^1];
        if (last.TryGetValue("error", out var error) && error is string message && !last.ContainsKey("result"))
        {
            throw new EvaluationException(message);
        }

        // A set-returning item (extract, unnest of objects) gives columns of its own: the whole result row counts.
        return ClrValues.FromClr(last.TryGetValue("result", out var value) ? value : last.Count == 0 ? null : last);
    }
}
