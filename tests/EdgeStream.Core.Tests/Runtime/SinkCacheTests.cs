using System.Collections.Concurrent;
using EdgeStream.State;
using EdgeStream.Tests.Support;

namespace EdgeStream.Tests.Runtime;

/// <summary>
/// eKuiper's sink cache (<c>enableCache</c> and the resend properties): a destination that is down does not hold the
/// rule back while the cache has room, a full cache does, the disk part survives a restart, and every row arrives
/// (or is dead-lettered) — counted at the far end.
/// </summary>
public sealed class SinkCacheTests
{
    /// <summary>A destination that can be taken down: writes (and, if asked, opens) fail with a transient error.</summary>
    private sealed class Destination
    {
        public volatile bool Down;
        public volatile bool RefuseOpen;

        public ConcurrentQueue<(string Topic, IReadOnlyDictionary<string, object?> Row)> Received { get; } = new();

        public long[] Values(string? topic = null) => [.. Received.Where(r => topic is null || r.Topic == topic).Select(r => Convert.ToInt64(r.Row["a"], System.Globalization.CultureInfo.InvariantCulture))];
    }

    private sealed class FlakySink(Destination destination, string topic) : ISink
    {
        public ValueTask OpenAsync(CancellationToken cancellationToken) =>
            destination.Down && destination.RefuseOpen ? throw new SinkException("cannot connect", isTransient: true) : ValueTask.CompletedTask;

        public ValueTask WriteAsync(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows, CancellationToken cancellationToken)
        {
            if (destination.Down)
            {
                throw new SinkException("destination down", isTransient: true);
            }

            foreach (var row in rows)
            {
                destination.Received.Enqueue((topic, row));
            }

            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private static EdgeStreamEngine Engine(Destination destination, IStateStore? store = null, TimeSpan? drain = null, ListLoggerFactory? logs = null)
    {
        var engine = new EdgeStreamEngine(new EdgeStreamEngineOptions { StateStore = store, DrainTimeout = drain ?? TimeSpan.FromSeconds(30), LoggerFactory = logs });
        engine.RegisterSink("flaky", context => new FlakySink(destination, context.Properties.GetValueOrDefault("topic") ?? string.Empty));
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (DATASOURCE=\"in\", TYPE=\"memory\")");
        return engine;
    }

    private static RuleDefinition Rule(Dictionary<string, string> properties, int bufferLength = 1024)
    {
        var rule = new RuleDefinition("r", "SELECT a FROM s");
        properties.TryAdd("topic", "main");
        rule.Actions.Add(new RuleAction("flaky", properties));
        rule.Options.BufferLength = bufferLength;
        return rule;
    }

    private static long Metric(EdgeStreamEngine engine, string name) =>
        engine.GetRuleStatus("r").Metrics.TryGetValue("sink_flaky_0_0_" + name, out var value) ? value : -1;

    private static async Task PublishAll(EdgeStreamEngine engine, int from, int to)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        for (var a = from; a <= to; a++)
        {
            await engine.PublishAsync("s", new Dictionary<string, object?> { ["a"] = a }, timeout.Token);
        }
    }

    private static long[] Range(int from, int to) => [.. Enumerable.Range(from, to - from + 1).Select(i => (long)i)];

    [Test]
    public async Task A_destination_that_is_down_does_not_hold_the_rule_back_and_gets_every_row_in_order_when_back()
    {
        var destination = new Destination { Down = true };
        await using var engine = Engine(destination);
        await engine.CreateRuleAsync(Rule(new() { ["enableCache"] = "true", ["bufferLength"] = "1" }, bufferLength: 1));

        // 200 events pass a rule whose input and sink buffers hold one each: the cache takes what the sink cannot.
        await PublishAll(engine, 1, 200);
        await Wait.Until(() => Metric(engine, "cache_length") == 200, "every message cached");
        Assert.That(destination.Received, Is.Empty);

        destination.Down = false;
        await Wait.Until(() => destination.Received.Count == 200, "every row resent");
        Assert.That(destination.Values(), Is.EqualTo(Range(1, 200)));
        await Wait.Until(() => Metric(engine, "resent_total") == 200, "every message counted as resent");
        Assert.That((Metric(engine, "cached_total"), Metric(engine, "cache_length")), Is.EqualTo((200L, 0L)));

        await PublishAll(engine, 201, 202);
        await Wait.Until(() => destination.Received.Count == 202, "new rows written directly");
        Assert.That(Metric(engine, "cached_total"), Is.EqualTo(200L), "nothing more was cached");
    }

    [Test]
    public async Task A_full_cache_holds_the_rule_back_and_loses_nothing()
    {
        var destination = new Destination { Down = true };
        await using var engine = Engine(destination);
        await engine.CreateRuleAsync(Rule(new() { ["enableCache"] = "true", ["memoryCacheThreshold"] = "5", ["bufferLength"] = "1" }, bufferLength: 1));

        var publishing = PublishAll(engine, 1, 50);
        await Wait.Until(() => Metric(engine, "cache_length") == 5, "the cache filled");
        await Task.Delay(300);
        Assert.That(publishing.IsCompleted, Is.False, "the source is slowed, not dropped");
        Assert.That(engine.GetRuleStatus("r").RecordsIn, Is.LessThan(15), "at most the buffers and the cache are taken");
        Assert.That(Metric(engine, "cache_length"), Is.EqualTo(5), "never more than its threshold, with no disk");

        destination.Down = false;
        await publishing;
        await Wait.Until(() => destination.Received.Count == 50, "every row delivered");
        Assert.That(destination.Values(), Is.EqualTo(Range(1, 50)));
    }

    [Test]
    public async Task The_disk_cache_survives_a_restart_and_is_resent_by_the_next_engine()
    {
        var store = new InMemoryStateStore();
        var destination = new Destination { Down = true };
        var properties = new Dictionary<string, string> { ["enableCache"] = "true", ["memoryCacheThreshold"] = "4", ["bufferPageSize"] = "2" };
        await using (var first = Engine(destination, store))
        {
            await first.CreateRuleAsync(Rule(new(properties)));
            await PublishAll(first, 1, 20);
            await Wait.Until(() => Metric(first, "cache_length") == 20, "every message cached");
            Assert.That(Metric(first, "cache_disk_length"), Is.GreaterThanOrEqualTo(16), "past the memory threshold, pages go to disk");
        }

        // The stop moved the rest of memory to disk: twenty messages in ten pages of two.
        var pages = await store.KeysAsync("sinkcache/r/0-flaky/");
        Assert.That(pages, Has.Count.EqualTo(10));

        destination.Down = false;
        await using var second = Engine(destination, store);
        await second.CreateRuleAsync(Rule(new(properties)));
        await Wait.Until(() => destination.Received.Count == 20, "the next run resends them");
        Assert.That(destination.Values(), Is.EqualTo(Range(1, 20)));
        await Wait.Until(async () => (await store.KeysAsync("sinkcache/")).Count == 0, "resent pages are deleted");

        await PublishAll(second, 21, 21);
        await Wait.Until(() => destination.Received.Count == 21, "new rows follow");
        await second.DeleteRuleAsync("r");
    }

    [Test]
    public async Task Clean_cache_at_stop_discards_the_cache_and_counts_it()
    {
        var store = new InMemoryStateStore();
        var destination = new Destination { Down = true };
        var logs = new ListLoggerFactory();
        await using var engine = Engine(destination, store, logs: logs);
        await engine.CreateRuleAsync(Rule(new() { ["enableCache"] = "true", ["memoryCacheThreshold"] = "2", ["cleanCacheAtStop"] = "true" }));
        await PublishAll(engine, 1, 6);
        await Wait.Until(() => Metric(engine, "cache_length") == 6, "every message cached");

        await engine.StopRuleAsync("r");
        Assert.That(await store.KeysAsync("sinkcache/"), Is.Empty);
        Assert.That(Metric(engine, "cache_discarded_total"), Is.EqualTo(6));
        Assert.That(logs.Entries.Select(e => e.Message), Has.Some.Contains("cleanCacheAtStop discarded 6 cached messages"));
    }

    [Test]
    public async Task Without_a_state_store_what_is_still_cached_at_the_stop_is_dead_lettered()
    {
        var destination = new Destination { Down = true };
        await using var engine = Engine(destination);
        using var stop = new CancellationTokenSource();
        var letters = engine.Memory.Subscribe(EdgeStreamEngine.DeadLetterTopic, stop.Token);
        await engine.CreateRuleAsync(Rule(new() { ["enableCache"] = "true" }));
        await PublishAll(engine, 1, 5);
        await Wait.Until(() => Metric(engine, "cache_length") == 5, "every message cached");

        using (var patience = new CancellationTokenSource(TimeSpan.FromSeconds(1)))
        {
            await engine.StopRuleAsync("r", patience.Token); // resends until the stop's patience runs out
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var letter = (await letters.ReadAsync(timeout.Token))[0];
        Assert.That(letter["error"], Does.StartWith("not delivered: the sink stopped with its destination down"));
        var rows = (IEnumerable<object?>)letter["rows"]!;
        Assert.That(rows.Select(r => ((IReadOnlyDictionary<string, object?>)r!)["a"]), Is.EqualTo(Range(1, 5)));
    }

    [Test]
    public async Task Resent_rows_carry_the_indicator_field_and_go_to_the_resend_destination()
    {
        var destination = new Destination { Down = true };
        await using var engine = Engine(destination);
        await engine.CreateRuleAsync(Rule(new() { ["enableCache"] = "true", ["resendIndicatorField"] = "resent", ["resendDestination"] = "backup" }));
        await PublishAll(engine, 1, 3);
        await Wait.Until(() => Metric(engine, "cache_length") == 3, "every message cached");

        destination.Down = false;
        await Wait.Until(() => destination.Received.Count == 3, "resent");
        Assert.That(destination.Values("backup"), Is.EqualTo(Range(1, 3)));
        Assert.That(destination.Received.Select(r => r.Row["resent"]), Is.All.EqualTo(true));

        await Wait.Until(() => Metric(engine, "cache_length") == 0, "the cache emptied");
        await PublishAll(engine, 4, 4);
        await Wait.Until(() => destination.Received.Count == 4, "written");
        var direct = destination.Received.Last();
        Assert.That((direct.Topic, direct.Row.ContainsKey("resent")), Is.EqualTo(("main", false)), "a row written in time is not marked");
    }

    [Test]
    public async Task With_the_alternate_queue_new_rows_do_not_wait_behind_the_resends()
    {
        var destination = new Destination { Down = true };
        await using var engine = Engine(destination, drain: TimeSpan.FromMilliseconds(300)); // the two left are dead-lettered at the end
        await engine.CreateRuleAsync(Rule(new() { ["enableCache"] = "true", ["resendAlterQueue"] = "true", ["resendInterval"] = "600000" }));
        await PublishAll(engine, 1, 3);
        await Wait.Until(() => Metric(engine, "cache_length") == 3, "every message cached");

        destination.Down = false;
        await Wait.Until(() => destination.Received.Count == 1, "the first resend");
        await PublishAll(engine, 4, 4); // the next resend is ten minutes away: this one goes straight through
        await Wait.Until(() => destination.Received.Count == 2, "the new row");
        Assert.That(destination.Values(), Is.EqualTo(new long[] { 1, 4 }));
        Assert.That(Metric(engine, "cache_length"), Is.EqualTo(2));
    }

    [Test]
    public async Task Resends_of_lower_priority_still_make_room_when_the_cache_is_full()
    {
        // resendPriority -1 resends only while no new message waits; a full cache must not wait for that forever.
        var destination = new Destination { Down = true };
        await using var engine = Engine(destination);
        await engine.CreateRuleAsync(Rule(new()
        {
            ["enableCache"] = "true", ["memoryCacheThreshold"] = "3", ["resendAlterQueue"] = "true", ["resendPriority"] = "-1", ["bufferLength"] = "1",
        }, bufferLength: 1));
        var publishing = PublishAll(engine, 1, 20);
        await Wait.Until(() => Metric(engine, "cache_length") == 3, "the cache filled");

        destination.Down = false;
        await publishing;
        await Wait.Until(() => destination.Received.Count == 20, "every row delivered");
        Assert.That(destination.Values().Order(), Is.EqualTo(Range(1, 20)), "each once; the alternate queue does not keep the order");
    }

    [Test]
    public async Task A_cache_of_no_memory_and_no_disk_still_takes_a_batch_at_a_time()
    {
        var destination = new Destination { Down = true };
        await using var engine = Engine(destination);
        await engine.CreateRuleAsync(Rule(new() { ["enableCache"] = "true", ["memoryCacheThreshold"] = "0" }));
        var publishing = PublishAll(engine, 1, 5);
        await Wait.Until(() => Metric(engine, "cache_length") == 1, "one message held");

        destination.Down = false;
        await publishing;
        await Wait.Until(() => destination.Received.Count == 5, "every row delivered");
        Assert.That(destination.Values(), Is.EqualTo(Range(1, 5)));
    }

    [Test]
    public async Task A_destination_down_at_the_start_is_cached_for_too()
    {
        var destination = new Destination { Down = true, RefuseOpen = true };
        await using var engine = Engine(destination);
        await engine.CreateRuleAsync(Rule(new() { ["enableCache"] = "true", ["bufferLength"] = "1" }, bufferLength: 1));
        await PublishAll(engine, 1, 30);
        await Wait.Until(() => Metric(engine, "cache_length") == 30, "cached while the sink cannot open");

        destination.Down = false;
        await Wait.Until(() => destination.Received.Count == 30, "opened and resent");
        Assert.That(destination.Values(), Is.EqualTo(Range(1, 30)));
    }

    [TestCase("resendPriority", "2", "`resendPriority` must be -1, 0 or 1, not `2`")]
    [TestCase("memoryCacheThreshold", "-1", "`memoryCacheThreshold` must be an integer of at least 0, not `-1`")]
    [TestCase("bufferPageSize", "0", "`bufferPageSize` must be an integer of at least 1, not `0`")]
    [TestCase("cleanCacheAtStop", "yes", "`cleanCacheAtStop` must be true or false, not `yes`")]
    [TestCase("concurrency", "2", "`enableCache` needs `concurrency` 1")]
    public async Task Invalid_cache_properties_are_refused_when_the_rule_is_made(string name, string value, string expected)
    {
        await using var engine = Engine(new Destination());
        var error = Assert.ThrowsAsync<ArgumentException>(() => engine.CreateRuleAsync(Rule(new() { ["enableCache"] = "true", [name] = value })))!;
        Assert.That(error.Message, Does.Contain(expected));
    }

    [Test]
    public async Task The_cache_properties_are_applied_so_no_warning_says_otherwise()
    {
        await using var engine = Engine(new Destination());
        await engine.CreateRuleAsync(Rule(new()
        {
            ["enableCache"] = "true", ["memoryCacheThreshold"] = "10", ["maxDiskCache"] = "100", ["bufferPageSize"] = "5",
            ["resendInterval"] = "10", ["cleanCacheAtStop"] = "false", ["resendAlterQueue"] = "true", ["resendPriority"] = "-1",
            ["resendIndicatorField"] = "x", ["resendDestination"] = "y",
        }));
        Assert.That(engine.GetRuleStatus("r").Warnings, Is.Empty);
    }
}
