using EdgeStream.TestExtensions;

namespace EdgeStream.Tests.Runtime;

/// <summary>Failures in one part (a rule's loop, a host callback, a template) lose nothing and stop nothing else.</summary>
public sealed class FaultIsolationTests
{
    [Test]
    public async Task A_failed_rule_stops_its_source_and_dead_letters_the_event_it_was_processing()
    {
        var logs = new Support.ListLoggerFactory { FailOn = "result", Failures = 100 };
        var feed = new SourceFeed();
        await using var engine = new EdgeStreamEngine(new EdgeStreamEngineOptions { LoggerFactory = logs });
        engine.RegisterSource("feed", context => new FeedSource(feed, context));
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (TYPE=\"feed\", DATASOURCE=\"x\")");
        using var stop = new CancellationTokenSource();
        var letters = engine.Memory.Subscribe(EdgeStreamEngine.DeadLetterTopic, stop.Token);
        var rule = new RuleDefinition("r", "SELECT a FROM s");
        rule.Actions.Add(new RuleAction("log"));
        await engine.CreateRuleAsync(rule);

        await feed.For("x").WriteAsync("row:1");
        await Support.Wait.Until(() => engine.GetRuleStatus("r").State == RuleState.StoppedByError);
        var letter = (await letters.ReadAsync(stop.Token))[0];
        Assert.That((letter["payload"] as IReadOnlyDictionary<string, object?>)?["a"], Is.EqualTo(1L));
        Assert.That(letter["error"], Is.EqualTo("not fully processed: the rule failed (logging provider failed)"));

        // The source is being stopped: the next event either stays at the source (stopped in time) or, read in the
        // moment before, is dead-lettered. Never both, never neither.
        await feed.For("x").WriteAsync("row:2");
        await Task.Delay(200);
        if (feed.Pending("x") == 0)
        {
            var late = (await letters.ReadAsync(stop.Token))[0];
            Assert.That(((IReadOnlyDictionary<string, object?>)late["payload"]!)["a"], Is.EqualTo(2L));
            Assert.That(late["error"], Is.EqualTo("not processed: the rule had failed"));
        }
        else
        {
            Assert.That(letters.TryRead(out _), Is.False);
        }

        await feed.For("x").WriteAsync("row:3");
        await Task.Delay(100);
        Assert.That(feed.Pending("x"), Is.GreaterThanOrEqualTo(1), "by now the source has stopped reading");
    }

    [Test]
    public async Task A_throwing_callback_does_not_keep_a_message_from_the_other_subscribers()
    {
        await using var engine = new EdgeStreamEngine();
        using var failing = engine.Memory.Subscribe("in", (_, _) => throw new InvalidOperationException("host callback failed"));
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (TYPE=\"memory\", DATASOURCE=\"in\")");
        using var stop = new CancellationTokenSource();
        var output = engine.Memory.Subscribe("out", stop.Token);
        var rule = new RuleDefinition("r", "SELECT a FROM s");
        rule.Actions.Add(new RuleAction("memory", new Dictionary<string, string> { ["topic"] = "out" }));
        await engine.CreateRuleAsync(rule);

        Assert.That(async () => await engine.Memory.PublishAsync("in", new Dictionary<string, object?> { ["a"] = 1 }),
            Throws.InvalidOperationException.With.Message.EqualTo("host callback failed"), "the publisher learns of the failure");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        Assert.That((await output.ReadAsync(timeout.Token))[0]["a"], Is.EqualTo(1L), "and the rule, subscribed after the callback, still got the event");
    }

    [Test]
    public async Task A_template_that_throws_something_unexpected_fails_only_its_row()
    {
        await using var engine = new EdgeStreamEngine();
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (TYPE=\"memory\", DATASOURCE=\"in\")");
        using var stop = new CancellationTokenSource();
        var output = engine.Memory.Subscribe("out", stop.Token);
        var rule = new RuleDefinition("r", "SELECT a FROM s");
        rule.Actions.Add(new RuleAction("memory", new Dictionary<string, string>
        {
            ["topic"] = "out", ["sendSingle"] = "true", ["dataTemplate"] = """{"c": "{{printf "%c" .a}}"}""",
        }));
        await engine.CreateRuleAsync(rule);
        await engine.PublishAsync("s", new Dictionary<string, object?> { ["a"] = -1 });   // no such code point
        await engine.PublishAsync("s", new Dictionary<string, object?> { ["a"] = 65 });

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        Assert.That((await output.ReadAsync(timeout.Token))[0]["c"], Is.EqualTo("A"));
        var status = engine.GetRuleStatus("r");
        Assert.That((status.State, status.Errors), Is.EqualTo((RuleState.Running, 1L)));
    }

    [Test]
    public async Task Leaving_a_result_loop_early_unsubscribes()
    {
        await using var engine = new EdgeStreamEngine();
        using var stop = new CancellationTokenSource();
        var rows = engine.Memory.ReadAllAsync("t", stop.Token);
        Assert.That(engine.Memory.TopicCount, Is.EqualTo(1));
        await engine.Memory.PublishAsync("t", new Dictionary<string, object?> { ["a"] = 1 });
        await foreach (var row in rows)
        {
            Assert.That(row["a"], Is.EqualTo(1L));
            break;
        }

        Assert.That(engine.Memory.TopicCount, Is.Zero, "a reader that left cannot stall publishers");
    }
}
