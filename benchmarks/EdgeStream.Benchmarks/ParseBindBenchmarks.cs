using BenchmarkDotNet.Attributes;
using EdgeStream.Functions;
using EdgeStream.Planning;
using EdgeStream.Sql.Ast;
using EdgeStream.Sql.Parsing;

namespace EdgeStream.Benchmarks;

/// <summary>
/// The SQL front end on a typical rule of about 200 characters: tokenize, parse, bind. The baseline is the cheapest
/// thing any front end must do with the same text: one pass over its characters splitting words (a hand-written
/// scanner with no AST), so the ratio says what parsing and binding cost beyond reading the text.
/// </summary>
[MemoryDiagnoser]
public class ParseBindBenchmarks
{
    internal const string Rule =
        "SELECT color, count(*) AS c, avg(temp) AS t, window_end() AS we FROM demo " +
        "WHERE size > 2 AND color != \"red\" GROUP BY TUMBLINGWINDOW(ss, 10), color " +
        "HAVING c > 1 AND t BETWEEN 10 AND 40 ORDER BY c DESC LIMIT 5";

    private const string Ddl =
        "CREATE STREAM demo (color STRING, size BIGINT, temp FLOAT, ts BIGINT) WITH (DATASOURCE=\"demo\", FORMAT=\"json\", TIMESTAMP=\"ts\")";

    private Binder binder = null!;
    private SelectStatement parsed = null!;

    [GlobalSetup]
    public void Setup()
    {
        var catalog = new StreamCatalog();
        catalog.Add(SqlParser.ParseCreate(Ddl));
        binder = new Binder(catalog, FunctionRegistry.Builtins);
        parsed = SqlParser.ParseSelect(Rule);
        if (binder.BindSelect(parsed).Fields.Count != 4 || Baseline() != SqlParser.Tokenize(Rule).Count())
        {
            throw new InvalidOperationException("benchmark setup does not do the job it claims");
        }
    }

    [Benchmark(Baseline = true, Description = "hand-written scan (baseline)")]
    public int Baseline()
    {
        // Counts words, numbers, strings and symbols: the token stream a parser starts from, without building it.
        var text = Rule;
        var count = 0;
        for (var i = 0; i < text.Length;)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }

            count++;
            if (char.IsLetterOrDigit(c) || c == '_')
            {
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] == '_'))
                {
                    i++;
                }
            }
            else if (c == '"')
            {
                i = text.IndexOf('"', i + 1) + 1;
            }
            else
            {
                i += c is '!' or '<' or '>' && i + 1 < text.Length && text[i + 1] == '=' ? 2 : 1;
            }
        }

        return count;
    }

    [Benchmark(Description = "tokenize")]
    public int Tokenize() => SqlParser.Tokenize(Rule).Count();

    [Benchmark(Description = "parse")]
    public object Parse() => SqlParser.ParseSelect(Rule);

    [Benchmark(Description = "bind (parsed)")]
    public object Bind() => binder.BindSelect(parsed);

    [Benchmark(Description = "parse + bind")]
    public object ParseAndBind() => binder.BindSelect(SqlParser.ParseSelect(Rule));
}
