using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;

namespace EdgeStream.Benchmarks;

/// <summary>
/// <c>SELECT a, b * 2 AS c FROM s WHERE a &gt; 10</c> over 100,000 events, through the whole engine (publish → memory
/// source channel → decode → WHERE → projection → sink), beside a hand-written C# loop doing the same job on the
/// same input. Setup checks that both produce the same results.
/// </summary>
[MemoryDiagnoser]
public class StatelessRuleBenchmarks
{
    private const int Events = 100_000;
    private const int BatchSize = 256;
    private const string Sql = "SELECT a, b * 2 AS c FROM s WHERE a > 10";

    private IReadOnlyDictionary<string, object?>[] rows = null!;
    private byte[][] payloads = null!;
    private EdgeStreamEngine engine = null!;
    private long published;

    [GlobalSetup]
    public async Task Setup()
    {
        var random = new Random(42);
        rows = new IReadOnlyDictionary<string, object?>[Events];
        payloads = new byte[Events][];
        for (var i = 0; i < Events; i++)
        {
            var a = (long)random.Next(0, 20);
            var b = Math.Round(random.NextDouble() * 100, 2);
            rows[i] = new Dictionary<string, object?> { ["a"] = a, ["b"] = b, ["name"] = "sensor-" + (i % 100) };
            payloads[i] = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(rows[i], BenchmarkJson.Default.IReadOnlyDictionaryStringObject));
        }

        await VerifySameResults();

        engine = new EdgeStreamEngine();
        engine.Execute("CREATE STREAM s (a BIGINT, b FLOAT, name STRING) WITH (DATASOURCE=\"in\", TYPE=\"memory\")");
        var rule = new RuleDefinition("bench", Sql);
        rule.Actions.Add(new RuleAction("nop"));
        await engine.CreateRuleAsync(rule);
    }

    [GlobalCleanup]
    public async Task Cleanup() => await engine.DisposeAsync();

    /// <summary>Runs the engine once with a memory sink and compares every result with the baseline's.</summary>
    private async Task VerifySameResults()
    {
        await using var check = new EdgeStreamEngine();
        check.Execute("CREATE STREAM s (a BIGINT, b FLOAT, name STRING) WITH (DATASOURCE=\"in\", TYPE=\"memory\")");
        var rule = new RuleDefinition("check", Sql);
        rule.Actions.Add(new RuleAction("memory", new Dictionary<string, string> { ["topic"] = "out" }));
        await check.CreateRuleAsync(rule);
        using var stop = new CancellationTokenSource();
        var output = check.Memory.Subscribe("out", stop.Token, capacity: Events * 3);
        foreach (var row in rows)
        {
            await check.Memory.PublishAsync("in", row);
        }

        foreach (var payload in payloads)
        {
            await check.Memory.PublishJsonAsync("in", payload);
        }

        foreach (var batch in rows.Chunk(BatchSize))
        {
            await check.Memory.PublishBatchAsync("in", batch);
        }

        await check.StopRuleAsync("check");
        var expected = BaselineResults(rows).Concat(BaselineResults(rows)).Concat(BaselineResults(rows)).ToList();
        var actual = new List<(long A, double C)>();
        while (output.TryRead(out var emission))
        {
            actual.Add(((long)emission[0]["a"]!, (double)emission[0]["c"]!));
        }

        if (!actual.SequenceEqual(expected) || ParseBaseline() != expected.Count / 3)
        {
            throw new InvalidOperationException($"engine and baseline disagree: {actual.Count} vs {expected.Count} results");
        }
    }

    private static IEnumerable<(long A, double C)> BaselineResults(IEnumerable<IReadOnlyDictionary<string, object?>> input)
    {
        foreach (var row in input)
        {
            var a = (long)row["a"]!;
            if (a > 10)
            {
                yield return (a, (double)row["b"]! * 2);
            }
        }
    }

    private async Task WaitForEngine()
    {
        while (engine.GetRuleStatus("bench").RecordsIn < published)
        {
            await Task.Yield();
        }
    }

    [Benchmark(Baseline = true, Description = "hand-written loop, objects")]
    public int DictionaryBaseline()
    {
        var results = new List<(long, double)>();
        results.AddRange(BaselineResults(rows));
        return results.Count;
    }

    [Benchmark(Description = "engine, objects")]
    public async Task<long> DictionaryEngine()
    {
        foreach (var row in rows)
        {
            await engine.Memory.PublishAsync("in", row);
        }

        published += Events;
        await WaitForEngine();
        return published;
    }

    [Benchmark(Description = "engine, objects in batches of 256")]
    public async Task<long> BatchEngine()
    {
        foreach (var batch in rows.Chunk(BatchSize))
        {
            await engine.Memory.PublishBatchAsync("in", batch);
        }

        published += Events;
        await WaitForEngine();
        return published;
    }

    [Benchmark(Description = "hand-written loop, JSON")]
    public int ParseBaseline()
    {
        var results = new List<(long, double)>();
        foreach (var payload in payloads)
        {
            var reader = new Utf8JsonReader(payload);
            long a = 0;
            double b = 0;
            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.PropertyName)
                {
                    continue;
                }

                if (reader.ValueTextEquals("a"u8))
                {
                    reader.Read();
                    a = reader.GetInt64();
                }
                else if (reader.ValueTextEquals("b"u8))
                {
                    reader.Read();
                    b = reader.GetDouble();
                }
                else
                {
                    reader.Read();
                }
            }

            if (a > 10)
            {
                results.Add((a, b * 2));
            }
        }

        return results.Count;
    }

    [Benchmark(Description = "engine, JSON")]
    public async Task<long> JsonEngine()
    {
        foreach (var payload in payloads)
        {
            await engine.Memory.PublishJsonAsync("in", payload);
        }

        published += Events;
        await WaitForEngine();
        return published;
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(IReadOnlyDictionary<string, object?>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(long))]
[System.Text.Json.Serialization.JsonSerializable(typeof(double))]
[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class BenchmarkJson : System.Text.Json.Serialization.JsonSerializerContext;
