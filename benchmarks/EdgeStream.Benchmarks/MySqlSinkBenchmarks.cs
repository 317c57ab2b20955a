using BenchmarkDotNet.Attributes;
using EdgeStream.Sinks.MySql;
using EdgeStream.TestServers;
using Microsoft.Extensions.Logging.Abstractions;
using MySqlConnector;

namespace EdgeStream.Benchmarks;

/// <summary>
/// 5,000 rows into a real MariaDB table (started by the benchmark on loopback): the MySQL sink writing them in
/// batches of 1, 100 and 1,000 (multi-row INSERTs, one transaction per batch), beside the eKuiper tutorial's approach,
/// one INSERT round trip per row (parameterized here: the tutorial's string concatenation is not reproduced). Setup
/// checks that both leave the same rows in the table.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 5, invocationCount: 1)]
public class MySqlSinkBenchmarks
{
    private const int Rows = 5_000;

    private MariaDb server = null!;
    private IReadOnlyDictionary<string, object?>[] rows = null!;
    private MySqlSink sink = null!;

    [Params(1, 100, 1000)]
    public int BatchSize { get; set; }

    [GlobalSetup]
    public async Task Setup()
    {
        server = await MariaDb.StartAsync();
        await server.ScalarAsync("CREATE TABLE readings (device VARCHAR(20), temperature DOUBLE, humidity BIGINT, ts BIGINT)");
        rows = Enumerable.Range(0, Rows).Select(i => (IReadOnlyDictionary<string, object?>)new Dictionary<string, object?>
        {
            ["device"] = "sensor-" + (i % 50), ["temperature"] = 20 + (i % 100 / 10.0), ["humidity"] = (long)(i % 90), ["ts"] = 1_795_421_350_000L + i,
        }).ToArray();
        var options = new MySqlSinkOptions { Url = server.ConnectionString, Table = "readings" };
        var context = new SinkContext("bench", "mysql", new Dictionary<string, string>(), NullLogger.Instance, TimeProvider.System);
        sink = new MySqlSink(context, options);
        await sink.OpenAsync(CancellationToken.None);

        // Both ways leave the same rows.
        await PerRowInsert();
        var byHand = await server.ScalarAsync("SELECT COUNT(*) + SUM(humidity) + SUM(ts) FROM readings");
        await server.ScalarAsync("TRUNCATE TABLE readings");
        await SinkInBatches();
        var bySink = await server.ScalarAsync("SELECT COUNT(*) + SUM(humidity) + SUM(ts) FROM readings");
        if (!Equals(byHand, bySink))
        {
            throw new InvalidOperationException($"the sink and the per-row baseline disagree: {bySink} vs {byHand}");
        }
    }

    [IterationSetup]
    public void Truncate() => server.ScalarAsync("TRUNCATE TABLE readings").GetAwaiter().GetResult();

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await sink.DisposeAsync();
        await server.DisposeAsync();
    }

    [Benchmark(Baseline = true, Description = "one INSERT per row (the tutorial's way)")]
    public async Task PerRowInsert()
    {
        await using var connection = new MySqlConnection(server.ConnectionString);
        await connection.OpenAsync();
        foreach (var row in rows)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO readings (device, temperature, humidity, ts) VALUES (@d, @t, @h, @ts)";
            command.Parameters.AddWithValue("@d", row["device"]);
            command.Parameters.AddWithValue("@t", row["temperature"]);
            command.Parameters.AddWithValue("@h", row["humidity"]);
            command.Parameters.AddWithValue("@ts", row["ts"]);
            await command.ExecuteNonQueryAsync();
        }
    }

    [Benchmark(Description = "MySQL sink, batches of BatchSize")]
    public async Task SinkInBatches()
    {
        for (var i = 0; i < rows.Length; i += BatchSize)
        {
            await sink.WriteAsync(rows[i..Math.Min(rows.Length, i + BatchSize)], CancellationToken.None);
        }
    }
}
