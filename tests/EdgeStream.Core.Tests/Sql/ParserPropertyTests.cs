using System.Diagnostics;
using CsCheck;
using EdgeStream.Sql.Ast;
using EdgeStream.Sql.Parsing;

namespace EdgeStream.Tests.Sql;

/// <summary>
/// Properties of the parser over generated input. The count comes from EDGESTREAM_PROPERTY_ITERATIONS (CI: the
/// default, 100,000; the documented long run: 1,000,000); the seed is fixed so a CI failure replays exactly.
/// </summary>
public sealed class ParserPropertyTests
{
    private const string Seed = "0000000000001";

    private static long Iterations =>
        long.TryParse(Environment.GetEnvironmentVariable("EDGESTREAM_PROPERTY_ITERATIONS"), out var n) && n > 0 ? n : 100_000;

    private static readonly string[] Corpus = Conformance.FrontEndConformanceTests.LoadAll()
        .SelectMany(c => c.Streams.Select(s => s.Ddl).Append(c.Sql)).Distinct().ToArray();

    [Test]
    public void Printed_statements_parse_back_to_the_same_tree()
    {
        SqlGenerators.Statement.Sample(
            statement =>
            {
                var text = SqlPrinter.Print(statement);
                var parsed = SqlParser.ParseStatement(text);
                if (!parsed.Equals(statement))
                {
                    throw new InvalidOperationException($"round trip changed the tree:\n{text}\n{SqlPrinter.Print(parsed)}");
                }
            },
            seed: Seed,
            iter: Iterations,
            print: s => SqlPrinter.Print(s));
    }

    private static readonly Gen<string> RandomText = Gen.Frequency(
        (1, Gen.String),
        (2, Gen.Char["SELECT FROM WHERE GROUP BY ()[]{},.;:*+-/%&|^=!<>\"'`\\\n abc123_"].Array[0, 40].Select(c => new string(c))));

    /// <summary>A corpus statement with a few characters deleted, inserted, swapped or replaced.</summary>
    private static readonly Gen<string> Mutated = Gen.Select(Gen.OneOf(Corpus), Gen.Int[0, int.MaxValue].Array[1, 4], Gen.Char, (text, edits, c) =>
    {
        var chars = text.ToList();
        foreach (var e in edits)
        {
            var at = e % (chars.Count + 1);
            switch (e % 4)
            {
                case 0 when at < chars.Count: chars.RemoveAt(at); break;
                case 1: chars.Insert(at, c); break;
                case 2 when at + 1 < chars.Count: (chars[at], chars[at + 1]) = (chars[at + 1], chars[at]); break;
                case 3 when at < chars.Count: chars[at] = "()'\"`,.;*-/"[e % 11]; break;
            }
        }

        return new string(chars.ToArray());
    });

    [Test]
    public void Any_text_gives_a_tree_or_a_positioned_sql_exception_and_never_hangs()
    {
        Gen.Frequency((1, RandomText), (2, Mutated)).Sample(
            text =>
            {
                var clock = Stopwatch.StartNew();
                try
                {
                    SqlParser.ParseStatement(text);
                }
                catch (SqlException e)
                {
                    if (e.Line < 1 || e.Column < 1 || e.Position < 0 || e.Position > text.Length || e.Reason.Length == 0)
                    {
                        throw new InvalidOperationException($"error without a usable position: {e.Message}", e);
                    }
                }

                // A liveness guard, not a speed test: parsing is linear, so anything near a second means a loop.
                if (clock.Elapsed > TimeSpan.FromSeconds(2))
                {
                    throw new InvalidOperationException($"parsing took {clock.Elapsed}");
                }
            },
            seed: Seed,
            iter: Iterations);
        Assert.Pass();
    }
}
