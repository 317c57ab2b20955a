using EdgeStream.Abstractions;
using EdgeStream.Runtime;
using EdgeStream.Runtime.Memory;
using Microsoft.Extensions.Time.Testing;

namespace EdgeStream.Tests.Runtime;

/// <summary>An event's arrival time is when it was published on the engine's clock, not when a rule got to it.</summary>
public sealed class ArrivalTimeTests
{
    private sealed class Recorder : IMemorySubscriber
    {
        public List<MemoryMessage> Messages { get; } = [];

        public ValueTask DeliverAsync(MemoryMessage message, CancellationToken cancellationToken)
        {
            Messages.Add(message);
            return ValueTask.CompletedTask;
        }
    }

    [Test]
    public async Task The_bus_stamps_messages_with_the_engines_clock_and_rows_keep_that_time()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(1_541_152_486_000));
        await using var engine = new EdgeStreamEngine(new EdgeStreamEngineOptions { TimeProvider = clock });
        var recorder = new Recorder();
        engine.Memory.Add("t", recorder);

        await engine.Memory.PublishJsonAsync("t", """{"a": 1}"""u8.ToArray());
        clock.Advance(TimeSpan.FromMilliseconds(813));
        await engine.Memory.PublishAsync("t", new Dictionary<string, object?> { ["a"] = 2 });
        clock.Advance(TimeSpan.FromSeconds(5)); // a rule decoding later must still see the arrival times

        Assert.That(recorder.Messages.Select(m => m.ArrivedAt), Is.EqualTo(new[] { 1_541_152_486_000L, 1_541_152_486_813L }));
        var stream = new EdgeStream.Planning.StreamCatalog().Add((EdgeStream.Sql.Ast.CreateStreamStatement)EdgeStream.Sql.Parsing.SqlParser.ParseStatement("CREATE STREAM s (a BIGINT) WITH (DATASOURCE=\"t\", TYPE=\"memory\")"));
        var decoder = new RowDecoder(stream);
        var rows = new List<DecodeResult>();
        foreach (var message in recorder.Messages)
        {
            decoder.DecodeAll(message, clock.GetUtcNow().ToUnixTimeMilliseconds(), rows);
        }

        Assert.That(rows.Select(r => r.Row!.Timestamp), Is.EqualTo(new[] { 1_541_152_486_000L, 1_541_152_486_813L }));
    }
}
