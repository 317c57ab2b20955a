using System.Buffers;
using System.Diagnostics;
using System.Reactive.Linq;
using System.Reactive.Subjects;
using System.Text;
using System.Text.Json;

namespace EdgeStream.Benchmarks.Throughput;

/// <summary>A sensor reading as host code keeps it once decoded.</summary>
public sealed class SensorReading
{
    [System.Text.Json.Serialization.JsonPropertyName("deviceId")]
    public string DeviceId { get; set; } = string.Empty;

    [System.Text.Json.Serialization.JsonPropertyName("temperature")]
    public double Temperature { get; set; }

    [System.Text.Json.Serialization.JsonPropertyName("humidity")]
    public double Humidity { get; set; }

    [System.Text.Json.Serialization.JsonPropertyName("ts")]
    public long Ts { get; set; }
}

/// <summary>
/// What both filter scenarios share: the rule <c>SELECT deviceId, temperature * 1.8 + 32 AS f FROM s WHERE
/// temperature &gt; 25</c> over 1,000 devices' readings (temperatures 15.00–34.99, about half pass), which inputs
/// pass, and a sink that counts what the rule sends and stamps when.
/// </summary>
internal abstract class FilterScenario : Scenario
{
    public const string Sql = "SELECT deviceId, temperature * 1.8 + 32 AS f FROM s WHERE temperature > 25";
    protected const string Ddl = "CREATE STREAM s (deviceId STRING, temperature FLOAT, humidity FLOAT, ts BIGINT) WITH (DATASOURCE=\"s\", TYPE=\"memory\")";

    protected SensorReading[] Readings { get; private set; } = [];

    /// <summary>For each result, in order, the index of the input it came from (for latency).</summary>
    protected int[] Passing { get; private set; } = [];

    public override string Description => Sql;

    public override void Prepare(int events)
    {
        var random = new Random(42);
        var devices = Enumerable.Range(0, 1_000).Select(d => "d-" + d.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Readings = new SensorReading[events];
        var passing = new List<int>(events / 2 + 1);
        for (var i = 0; i < events; i++)
        {
            var reading = new SensorReading
            {
                DeviceId = devices[i % devices.Length],
                Temperature = 15 + (random.Next(2_000) / 100.0),
                Humidity = random.Next(1_000) / 10.0,
                Ts = 1_767_225_600_000 + i,
            };
            Readings[i] = reading;
            if (reading.Temperature > 25)
            {
                passing.Add(i);
            }
        }

        Passing = [.. passing];
    }

    /// <summary>How many events one publish call carries.</summary>
    protected const int BatchSize = 256;

    protected static string Canonical(string deviceId, double f) => deviceId + "|" + Canon.F(f);

    /// <summary>Publish stamps (Stopwatch ticks) per input and receive stamps per result, for publish-to-sink latency.</summary>
    protected sealed class Stamps(int inputs, int outputs)
    {
        public readonly long[] Sent = new long[inputs];
        public readonly long[] Received = new long[outputs];
        private int count;

        /// <summary>Results received so far.</summary>
        public int Count => Volatile.Read(ref count);

        /// <summary>Counts one result received at <paramref name="now"/>.</summary>
        public void Mark(long now)
        {
            if (count < Received.Length)
            {
                Received[count] = now;
            }

            Volatile.Write(ref count, count + 1);
        }

        public (double P50, double P99) Latency(int[] passing, int received)
        {
            var samples = new long[received];
            for (var k = 0; k < received; k++)
            {
                samples[k] = Received[k] - Sent[passing[k]];
            }

            return Percentiles.Of(samples, received);
        }
    }

    /// <summary>
    /// Runs the rule with <paramref name="sink"/> (registered as <c>out</c>, with <paramref name="properties"/>),
    /// timing from the first publish until every result is out.
    /// </summary>
    protected async Task<RunOutput> RunRuleAsync(Timing timing, Stamps stamps, List<string>? kept, ISink sink,
        Dictionary<string, string> properties, Func<EdgeStreamEngine, ArraySegment<int>, ValueTask> publish)
    {
        await using var engine = new EdgeStreamEngine();
        engine.RegisterSink("out", _ => sink);
        engine.Execute(Ddl);
        var rule = new RuleDefinition(Name, Sql);
        rule.Actions.Add(new RuleAction("out", properties));
        await engine.CreateRuleAsync(rule);

        // Published in batches of BatchSize (the engine's batch API), as the window and Nexmark scenarios publish:
        // one by one, each event costs a hand-over between the publishing and the rule's thread.
        var indexes = Enumerable.Range(0, stamps.Sent.Length).ToArray();
        timing.Start();
        for (var start = 0; start < indexes.Length; start += BatchSize)
        {
            var batch = new ArraySegment<int>(indexes, start, Math.Min(BatchSize, indexes.Length - start));
            var now = Stopwatch.GetTimestamp();
            foreach (var i in batch)
            {
                stamps.Sent[i] = now;
            }

            await publish(engine, batch);
        }

        await WaitAsync(() => stamps.Count >= Passing.Length, "the rule's results");
        timing.Stop();
        var received = stamps.Count;
        var (p50, p99) = stamps.Latency(Passing, Math.Min(received, Passing.Length));
        return new RunOutput(kept, received, p50, p99);
    }

    /// <summary>Waits until <paramref name="done"/> or a generous deadline (then the engine lost results: an error).</summary>
    protected static async Task WaitAsync(Func<bool> done, string what)
    {
        var deadline = Stopwatch.StartNew();
        var spins = 0;
        while (!done())
        {
            if (deadline.Elapsed > TimeSpan.FromMinutes(2))
            {
                throw new InvalidOperationException($"timed out waiting for {what}");
            }

            if (++spins < 100)
            {
                Thread.SpinWait(50);
            }
            else
            {
                await Task.Yield();
            }
        }
    }
}

/// <summary>
/// <c>json_filter</c>: JSON payload bytes in (<c>PublishJsonBatchAsync</c>, 256 payloads a call), the filter rule, JSON bytes out (a payload sink
/// with <c>sendSingle</c>: one object per result). Baseline: a <see cref="Utf8JsonReader"/> loop writing each result with
/// a <see cref="Utf8JsonWriter"/>. Rx.NET: a subject of payloads, deserialized with System.Text.Json, filtered,
/// projected and serialized.
/// </summary>
internal sealed class JsonFilterScenario : FilterScenario
{
    private byte[][] payloads = [];

    public override string Name => "json_filter";

    public override int QuickEvents => 300_000;

    public override void Prepare(int events)
    {
        base.Prepare(events);
        payloads = Readings.Select(r => JsonSerializer.SerializeToUtf8Bytes(r, ThroughputJson.Default.SensorReading)).ToArray();
    }

    /// <summary>Stamps the payloads the rule sends; keeps their text when collecting.</summary>
    private sealed class PayloadCounter(Stamps stamps, List<string>? kept) : IPayloadSink
    {
        public ValueTask OpenAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask WritePayloadsAsync(IReadOnlyList<ReadOnlyMemory<byte>> payloads, CancellationToken cancellationToken)
        {
            var now = Stopwatch.GetTimestamp();
            foreach (var payload in payloads)
            {
                if (kept is not null)
                {
                    using var doc = JsonDocument.Parse(payload);
                    kept.Add(Canonical(doc.RootElement.GetProperty("deviceId").GetString()!, doc.RootElement.GetProperty("f").GetDouble()));
                }

                stamps.Mark(now);
            }

            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    public override Task<RunOutput> EngineAsync(Timing timing, bool collect)
    {
        var kept = collect ? new List<string>(Passing.Length) : null;
        var stamps = new Stamps(payloads.Length, Passing.Length);
        return RunRuleAsync(timing, stamps, kept, new PayloadCounter(stamps, kept), new() { ["sendSingle"] = "true" },
            (engine, batch) => engine.PublishJsonBatchAsync("s", batch.Select(i => (ReadOnlyMemory<byte>)payloads[i])));
    }

    public override RunOutput Baseline(Timing timing, bool collect)
    {
        var kept = collect ? new List<string>(Passing.Length) : null;
        var output = new ArrayBufferWriter<byte>(64);
        using var writer = new Utf8JsonWriter(output);
        long count = 0;
        long bytes = 0;
        timing.Start();
        foreach (var payload in payloads)
        {
            var reader = new Utf8JsonReader(payload);
            string? deviceId = null;
            double temperature = 0;
            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.PropertyName)
                {
                    continue;
                }

                if (reader.ValueTextEquals("deviceId"u8))
                {
                    reader.Read();
                    deviceId = reader.GetString();
                }
                else if (reader.ValueTextEquals("temperature"u8))
                {
                    reader.Read();
                    temperature = reader.GetDouble();
                }
                else
                {
                    reader.Read();
                }
            }

            if (temperature > 25)
            {
                var f = (temperature * 1.8) + 32;
                output.ResetWrittenCount();
                writer.Reset();
                writer.WriteStartObject();
                writer.WriteString("deviceId"u8, deviceId);
                writer.WriteNumber("f"u8, f);
                writer.WriteEndObject();
                writer.Flush();
                bytes += output.WrittenCount;
                count++;
                kept?.Add(Canonical(deviceId!, f));
            }
        }

        timing.Stop();
        return new RunOutput(kept, count);
    }

    public override RunOutput? Rx(Timing timing, bool collect)
    {
        var kept = collect ? new List<string>(Passing.Length) : null;
        long count = 0;
        using var subject = new Subject<byte[]>();
        using var subscription = subject
            .Select(p => JsonSerializer.Deserialize(p, ThroughputJson.Default.SensorReading)!)
            .Where(r => r.Temperature > 25)
            .Select(r => new FilterResult(r.DeviceId, (r.Temperature * 1.8) + 32))
            .Select(r => (Result: r, Bytes: JsonSerializer.SerializeToUtf8Bytes(r, ThroughputJson.Default.FilterResult)))
            .Subscribe(r =>
            {
                count++;
                kept?.Add(Canonical(r.Result.DeviceId, r.Result.F));
            });
        timing.Start();
        foreach (var payload in payloads)
        {
            subject.OnNext(payload);
        }

        timing.Stop();
        return new RunOutput(kept, count);
    }
}

/// <summary>One filter result.</summary>
public sealed record FilterResult(string DeviceId, double F);

/// <summary>
/// <c>typed_filter</c>: the filter rule over pre-decoded typed objects (<c>PublishObjectBatchAsync&lt;SensorReading&gt;</c>, 256 a call,
/// accessors built once per type), rows out to a counting sink. Baseline: a loop over the objects keeping a struct per
/// result. Rx.NET: a subject of the objects, <c>Where</c> and <c>Select</c>.
/// </summary>
internal sealed class TypedFilterScenario : FilterScenario
{
    public override string Name => "typed_filter";

    public override int QuickEvents => 500_000;

    public override int FullEvents => 5_000_000;

    /// <summary>Stamps the rows the rule sends; keeps them when collecting.</summary>
    private sealed class RowCounter(Stamps stamps, List<string>? kept) : ISink
    {
        public ValueTask OpenAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask WriteAsync(IReadOnlyList<IReadOnlyDictionary<string, object?>> batch, CancellationToken cancellationToken)
        {
            var now = Stopwatch.GetTimestamp();
            foreach (var row in batch)
            {
                kept?.Add(Canonical((string)row["deviceId"]!, (double)row["f"]!));
                stamps.Mark(now);
            }

            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    public override Task<RunOutput> EngineAsync(Timing timing, bool collect)
    {
        var kept = collect ? new List<string>(Passing.Length) : null;
        var stamps = new Stamps(Readings.Length, Passing.Length);
        return RunRuleAsync(timing, stamps, kept, new RowCounter(stamps, kept), [], (engine, batch) => engine.PublishObjectBatchAsync("s", batch.Select(i => Readings[i])));
    }

    private readonly record struct Result(string DeviceId, double F);

    public override RunOutput Baseline(Timing timing, bool collect)
    {
        var results = new List<Result>(Passing.Length);
        timing.Start();
        foreach (var r in Readings)
        {
            if (r.Temperature > 25)
            {
                results.Add(new Result(r.DeviceId, (r.Temperature * 1.8) + 32));
            }
        }

        timing.Stop();
        return new RunOutput(collect ? results.Select(r => Canonical(r.DeviceId, r.F)).ToList() : null, results.Count);
    }

    public override RunOutput? Rx(Timing timing, bool collect)
    {
        var results = new List<FilterResult>(Passing.Length);
        using var subject = new Subject<SensorReading>();
        using var subscription = subject
            .Where(r => r.Temperature > 25)
            .Select(r => new FilterResult(r.DeviceId, (r.Temperature * 1.8) + 32))
            .Subscribe(results.Add);
        timing.Start();
        foreach (var r in Readings)
        {
            subject.OnNext(r);
        }

        timing.Stop();
        return new RunOutput(collect ? results.Select(r => Canonical(r.DeviceId, r.F)).ToList() : null, results.Count);
    }
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
[System.Text.Json.Serialization.JsonSerializable(typeof(SensorReading))]
[System.Text.Json.Serialization.JsonSerializable(typeof(FilterResult))]
internal sealed partial class ThroughputJson : System.Text.Json.Serialization.JsonSerializerContext;
