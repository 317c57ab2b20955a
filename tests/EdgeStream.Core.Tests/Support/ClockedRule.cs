using Microsoft.Extensions.Time.Testing;

namespace EdgeStream.Tests.Support;

/// <summary>
/// An engine on a fake clock with one stream and one rule whose results go to a memory topic that this fixture
/// records: the common setup of the window tests.
/// </summary>
internal sealed class ClockedRule : IAsyncDisposable
{
    private readonly List<IReadOnlyList<IReadOnlyDictionary<string, object?>>> emissions = [];
    private readonly IDisposable subscription;

    private ClockedRule(long start, EdgeStreamLimits? limits)
    {
        Clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(start));
        Engine = new EdgeStreamEngine(new EdgeStreamEngineOptions { TimeProvider = Clock, Limits = limits ?? new() });
        subscription = Engine.Memory.Subscribe("out", (rows, _) =>
        {
            lock (emissions)
            {
                emissions.Add(rows);
            }

            return ValueTask.CompletedTask;
        });
    }

    public FakeTimeProvider Clock { get; }

    public EdgeStreamEngine Engine { get; }

    public RuleDefinition Rule { get; private set; } = null!;

    /// <summary>What the rule emitted so far.</summary>
    public List<IReadOnlyList<IReadOnlyDictionary<string, object?>>> Emissions
    {
        get
        {
            lock (emissions)
            {
                return [.. emissions];
            }
        }
    }

    /// <summary>Declares <paramref name="stream"/> (named <c>s</c>, topic <c>in</c>), then creates the rule writing to <c>out</c>.</summary>
    public static async Task<ClockedRule> StartAsync(string sql, long start, string stream = "CREATE STREAM s () WITH (DATASOURCE=\"in\", TYPE=\"memory\")",
        Action<EdgeStreamEngine>? register = null, Action<RuleOptions>? options = null, EdgeStreamLimits? limits = null)
    {
        var fixture = new ClockedRule(start, limits);
        register?.Invoke(fixture.Engine);
        fixture.Engine.Execute(stream);
        fixture.Rule = new RuleDefinition("r", sql);
        fixture.Rule.Actions.Add(new RuleAction("memory", new Dictionary<string, string> { ["topic"] = "out" }));
        options?.Invoke(fixture.Rule.Options);
        await fixture.Engine.CreateRuleAsync(fixture.Rule);
        return fixture;
    }

    /// <summary>Moves the clock to <paramref name="time"/> (firing due timers) and pushes one event.</summary>
    public async Task At(long time, IReadOnlyDictionary<string, object?> fields)
    {
        Clock.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(time));
        await Engine.PublishAsync("s", fields);
    }

    /// <summary>Stops the rule (open windows are not flushed) and returns its status.</summary>
    public async Task<RuleStatus> StopAsync()
    {
        await Engine.StopRuleAsync("r");
        return Engine.GetRuleStatus("r");
    }

    public async ValueTask DisposeAsync()
    {
        subscription.Dispose();
        await Engine.DisposeAsync();
    }
}

/// <summary>Polls until a condition holds (10 s at most): for effects of background tasks.</summary>
internal static class Wait
{
    public static async Task Until(Func<bool> condition, string what = "the condition")
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!condition())
        {
            await Task.Delay(5, timeout.Token);
        }

        Assert.That(condition(), Is.True, what);
    }

    public static async Task Until(Func<Task<bool>> condition, string what = "the condition")
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!await condition())
        {
            await Task.Delay(5, timeout.Token);
        }

        Assert.That(await condition(), Is.True, what);
    }
}
