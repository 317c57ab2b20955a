using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;

namespace EdgeStream.Benchmarks;

/// <summary>
/// <c>overload [--variant block|dropOldest|baseline] [--seconds N] [--rate R] [--sink-rate S]</c>: a source that
/// offers R events/s (100,000 by default) to a sink that takes S/s (10,000: ten times less) for N seconds (120),
/// sampling the process's resident memory (RSS) and managed heap every second. <c>block</c> is the engine's default
/// (backpressure), <c>dropOldest</c> the rule option that drops and counts, and <c>baseline</c> a hand-written
/// bounded channel between the same producer and consumer. Run each variant in its own process: RSS does not shrink
/// back between runs. Prints one line per 10 s and a summary.
/// </summary>
internal static class OverloadRun
{
    private const int Batch = 100; // events per source write and per sink write

    public static async Task<int> RunAsync(string[] args, TextWriter stdout)
    {
        var (variant, seconds, rate, sinkRate) = ("block", 120, 100_000, 10_000);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--variant": variant = args[i + 1]; break;
                case "--seconds": seconds = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--rate": rate = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--sink-rate": sinkRate = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                default: await stdout.WriteLineAsync($"unknown argument {args[i]}"); return 2;
            }
        }

        var counts = new Counts();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        await stdout.WriteLineAsync($"overload: {variant}, {rate:N0} events/s offered to a sink taking {sinkRate:N0}/s, {seconds} s");
        await stdout.WriteLineAsync("    s    offered   taken  delivered  dropped   RSS MB  heap MB");
        var sampling = SampleAsync(counts, stdout, stop.Token);
        if (variant == "baseline")
        {
            await BaselineAsync(counts, rate, sinkRate, stop.Token);
        }
        else
        {
            await EngineAsync(counts, rate, sinkRate, variant == "dropOldest", stop.Token);
        }

        await sampling;
        await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"summary: peak RSS {counts.PeakRss / 1e6:0.0} MB, final RSS {counts.LastRss / 1e6:0.0} MB, peak heap {counts.PeakHeap / 1e6:0.0} MB, delivered {Volatile.Read(ref counts.Delivered) / (double)seconds:N0}/s, taken {Volatile.Read(ref counts.Taken):N0} of {Volatile.Read(ref counts.Offered):N0} offered, dropped {counts.Dropped:N0}"));
        return 0;
    }

    private sealed class Counts
    {
        public long Offered;
        public long Taken;
        public long Delivered;
        public long Dropped;
        public long PeakRss;
        public long LastRss;
        public long PeakHeap;
    }

    private static async Task SampleAsync(Counts counts, TextWriter stdout, CancellationToken token)
    {
        using var process = Process.GetCurrentProcess();
        var clock = Stopwatch.StartNew();
        var second = 0;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(1000, token);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            second++;
            process.Refresh();
            counts.LastRss = process.WorkingSet64;
            counts.PeakRss = Math.Max(counts.PeakRss, counts.LastRss);
            var heap = GC.GetTotalMemory(false);
            counts.PeakHeap = Math.Max(counts.PeakHeap, heap);
            if (second % 10 == 0)
            {
                await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{second,5} {Volatile.Read(ref counts.Offered),10:N0} {Volatile.Read(ref counts.Taken),7:N0} {Volatile.Read(ref counts.Delivered),10:N0} {Volatile.Read(ref counts.Dropped),8:N0} {counts.LastRss / 1e6,8:0.0} {heap / 1e6,8:0.0}"));
            }
        }

        _ = clock;
    }

    /// <summary>Paces a producer at <paramref name="rate"/>: how many events are due by now.</summary>
    private static long Due(Stopwatch clock, int rate) => (long)(clock.Elapsed.TotalSeconds * rate);

    private static Dictionary<string, object?> Event(long n) => new(3)
    {
        ["id"] = n,
        ["device"] = "sensor-" + (n % 100).ToString(CultureInfo.InvariantCulture),
        ["temperature"] = 20.0 + (n % 17),
    };

    /// <summary>A source offering events at a fixed rate: the offer counts; a write the engine holds back delays the next.</summary>
    private sealed class PacedSource(Counts counts, int rate) : ISource
    {
        public async Task RunAsync(ISourceWriter writer, CancellationToken cancellationToken)
        {
            var clock = Stopwatch.StartNew();
            long n = 0;
            while (!cancellationToken.IsCancellationRequested)
            {
                // Offered: everything due by now, taken or not (a device does not wait for the gateway).
                Volatile.Write(ref counts.Offered, Due(clock, rate));
                if (n + Batch > Due(clock, rate))
                {
                    await Task.Delay(1, cancellationToken);
                    continue;
                }

                var batch = new IReadOnlyDictionary<string, object?>[Batch];
                for (var i = 0; i < Batch; i++)
                {
                    batch[i] = Event(++n);
                }

                await writer.WriteRowsAsync(batch, null, cancellationToken);
                Interlocked.Add(ref counts.Taken, Batch);
            }
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>A sink that takes <paramref name="rate"/> rows a second.</summary>
    private sealed class SlowSink(Counts counts, int rate) : ISink
    {
        public async ValueTask OpenAsync(CancellationToken cancellationToken) => await Task.CompletedTask;

        public async ValueTask WriteAsync(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows, CancellationToken cancellationToken)
        {
            await Task.Delay(TimeSpan.FromSeconds(rows.Count / (double)rate), cancellationToken);
            Interlocked.Add(ref counts.Delivered, rows.Count);
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private static async Task EngineAsync(Counts counts, int rate, int sinkRate, bool dropOldest, CancellationToken token)
    {
        await using var engine = new EdgeStreamEngine(new EdgeStreamEngineOptions { DrainTimeout = TimeSpan.FromSeconds(1) });
        engine.RegisterSource("paced", _ => new PacedSource(counts, rate));
        engine.RegisterSink("slow", _ => new SlowSink(counts, sinkRate));
        engine.Execute("CREATE STREAM s (id BIGINT, device STRING, temperature FLOAT) WITH (DATASOURCE=\"x\", TYPE=\"paced\")");
        var rule = new RuleDefinition("r", "SELECT id, device, temperature * 1.8 + 32 AS f FROM s WHERE temperature > 0");
        rule.Options.DropOldestWhenFull = dropOldest;
        rule.Actions.Add(new RuleAction("slow", new Dictionary<string, string> { ["batchSize"] = Batch.ToString(CultureInfo.InvariantCulture), ["writeTimeout"] = "0" }));
        await engine.CreateRuleAsync(rule, CancellationToken.None);
        try
        {
            while (!token.IsCancellationRequested)
            {
                await Task.Delay(500, token);
                counts.Dropped = engine.GetRuleStatus("r").Metrics.GetValueOrDefault("source_s_0_dropped_total");
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>The same producer and consumer, hand-written: a bounded channel of 1,024 batches' rows between them.</summary>
    private static async Task BaselineAsync(Counts counts, int rate, int sinkRate, CancellationToken token)
    {
        var channel = Channel.CreateBounded<Dictionary<string, object?>>(new BoundedChannelOptions(1024) { FullMode = BoundedChannelFullMode.Wait });
        var producer = Task.Run(async () =>
        {
            var clock = Stopwatch.StartNew();
            long n = 0;
            try
            {
                while (!token.IsCancellationRequested)
                {
                    Volatile.Write(ref counts.Offered, Due(clock, rate));
                    if (n + Batch > Due(clock, rate))
                    {
                        await Task.Delay(1, token);
                        continue;
                    }

                    for (var i = 0; i < Batch; i++)
                    {
                        await channel.Writer.WriteAsync(Event(++n), token);
                    }

                    Interlocked.Add(ref counts.Taken, Batch);
                }
            }
            catch (OperationCanceledException)
            {
            }
        }, CancellationToken.None);
        var consumer = Task.Run(async () =>
        {
            var batch = new List<Dictionary<string, object?>>(Batch);
            try
            {
                while (!token.IsCancellationRequested)
                {
                    batch.Add(await channel.Reader.ReadAsync(token));
                    while (batch.Count < Batch && channel.Reader.TryRead(out var more))
                    {
                        batch.Add(more);
                    }

                    var f = batch.Sum(e => ((double)e["temperature"]! * 1.8) + 32); // the same projection's work
                    GC.KeepAlive(f);
                    await Task.Delay(TimeSpan.FromSeconds(batch.Count / (double)sinkRate), token);
                    Interlocked.Add(ref counts.Delivered, batch.Count);
                    batch.Clear();
                }
            }
            catch (OperationCanceledException)
            {
            }
        }, CancellationToken.None);
        await Task.WhenAll(producer, consumer);
    }
}
