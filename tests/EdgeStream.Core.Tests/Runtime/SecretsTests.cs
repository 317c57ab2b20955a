using EdgeStream.Tests.Support;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Tests.Runtime;

/// <summary>
/// Secrets given to sinks and streams never appear in what the engine shows: rule status, logs (the engine's and the
/// sinks' own), explain, and the exceptions it throws. The sinks here leak on purpose, everywhere they can.
/// </summary>
public sealed class SecretsTests
{
    private static readonly Dictionary<string, string> Properties = new()
    {
        ["password"] = "pw-Hunter2!",
        ["token"] = "tok-4f9a77",
        ["privateKey"] = "-----BEGIN KEY-----abc123",
        ["clientSecret"] = "cs-secret-61",
        ["server"] = "tcp://alice:url-pass-77@broker:1883",
        ["dsn"] = "bob:dsn-pass-88@tcp(db:3306)/x",
        ["connection"] = "Server=db;Password=conn-pass-99;",
        ["topic"] = "plain-topic",
    };

    /// <summary>Every secret above, and the stream's, in the forms that must not be seen.</summary>
    private static readonly string[] Secrets =
        ["pw-Hunter2!", "tok-4f9a77", "-----BEGIN KEY-----abc123", "cs-secret-61", "url-pass-77", "dsn-pass-88", "conn-pass-99", "stream-pass-55", "never-declared-42"];

    /// <summary>A sink that logs and throws everything it was given.</summary>
    private sealed class LeakySink(SinkContext context) : ISink
    {
        private string All => string.Join(", ", context.Properties.Select(p => $"{p.Key}={p.Value}"));

        public ValueTask OpenAsync(CancellationToken cancellationToken)
        {
#pragma warning disable CA1848, CA2254 // a careless sink, on purpose
            context.Logger.LogWarning("opening with {Properties}", All);
            context.Logger.LogError(new InvalidOperationException("inner: " + All), "open trouble, also tcp://x:never-declared-42@host");
#pragma warning restore CA1848, CA2254
            return ValueTask.CompletedTask;
        }

        public ValueTask WriteAsync(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows, CancellationToken cancellationToken) =>
            throw new SinkException("write refused by the destination: " + All, isTransient: false, new InvalidOperationException(All));

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Test]
    public async Task No_secret_appears_in_status_logs_explain_or_exceptions()
    {
        var logs = new ListLoggerFactory();
        await using var engine = new EdgeStreamEngine(new EdgeStreamEngineOptions { LoggerFactory = logs });
        engine.RegisterSink("leaky", context => new LeakySink(context));
        engine.RegisterSink("refusing", context => throw new ArgumentException("cannot use " + string.Join(", ", context.Properties.Values)));
        engine.Execute("CREATE STREAM s () WITH (DATASOURCE=\"in\", TYPE=\"memory\", CONF_KEY=\"mqtt://carol:stream-pass-55@h\")");
        var texts = new List<string>();

        var rule = new RuleDefinition("r", "SELECT * FROM s");
        rule.Actions.Add(new RuleAction("leaky", new Dictionary<string, string>(Properties)));
        await engine.CreateRuleAsync(rule);
        await engine.PublishAsync("s", new Dictionary<string, object?> { ["a"] = 1 });
        await Wait.Until(() => engine.GetRuleStatus("r").LastExceptions.Count > 0, "the sink's failure is in the status");

        var status = engine.GetRuleStatus("r");
        texts.Add(status.LastError ?? string.Empty);
        texts.AddRange(status.Warnings);
        texts.AddRange(status.LastExceptions.Select(e => $"{e.Key}={e.Value}"));
        texts.AddRange(status.Metrics.Keys);
        texts.Add(engine.ExplainRule("r"));

        var refused = new RuleDefinition("bad", "SELECT * FROM s");
        refused.Actions.Add(new RuleAction("refusing", new Dictionary<string, string>(Properties)));
        texts.Add(Assert.ThrowsAsync<ArgumentException>(() => engine.CreateRuleAsync(refused))!.ToString());
        texts.Add(Assert.Throws<ArgumentException>(() => engine.ValidateRule(refused))!.ToString());

        await engine.StopRuleAsync("r");
        texts.AddRange(logs.Everything);

        foreach (var secret in Secrets)
        {
            Assert.That(texts.Where(t => t.Contains(secret, StringComparison.Ordinal)), Is.Empty, $"`{secret}` leaked");
        }

        // What was shown is still useful: the failures are there, with the secrets masked and the rest intact.
        Assert.That(status.LastExceptions.Values, Has.Some.Contains("write refused by the destination").And.Contains("password=***"));
        Assert.That(texts, Has.Some.Contains("cannot use ***"));
        Assert.That(logs.Everything, Has.Some.Contains("opening with").And.Contains("topic=plain-topic"));
        Assert.That(logs.Everything, Has.Some.Contains("tcp://x:***@host"));
    }
}
