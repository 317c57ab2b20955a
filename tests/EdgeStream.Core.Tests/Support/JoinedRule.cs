using System.Globalization;
using System.Text;
using Microsoft.Extensions.Time.Testing;

namespace EdgeStream.Tests.Support;

/// <summary>
/// An engine on a fake clock with several streams and tables and one rule (<c>r</c>) whose results go to a memory
/// topic that this fixture records: the common setup of the join tests.
/// </summary>
internal sealed class JoinedRule : IAsyncDisposable
{
    private readonly List<IReadOnlyList<IReadOnlyDictionary<string, object?>>> emissions = [];
    private readonly IDisposable subscription;

    private JoinedRule(long start)
    {
        Clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(start));
        Engine = new EdgeStreamEngine(new EdgeStreamEngineOptions { TimeProvider = Clock });
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

    /// <summary>Each emission as text (see <see cref="Show(IReadOnlyList{IReadOnlyDictionary{string, object?}})"/>).</summary>
    public string[] Shown => Emissions.Select(Show).ToArray();

    /// <summary>Executes <paramref name="ddls"/>, then creates the rule <c>r</c> writing to <c>out</c>.</summary>
    public static async Task<JoinedRule> StartAsync(string sql, long start, IEnumerable<string> ddls, Action<RuleOptions>? options = null)
    {
        var fixture = new JoinedRule(start);
        try
        {
            foreach (var ddl in ddls)
            {
                fixture.Engine.Execute(ddl);
            }

            var rule = new RuleDefinition("r", sql);
            rule.Actions.Add(new RuleAction("memory", new Dictionary<string, string> { ["topic"] = "out" }));
            options?.Invoke(rule.Options);
            await fixture.Engine.CreateRuleAsync(rule);
            return fixture;
        }
        catch
        {
            await fixture.DisposeAsync();
            throw;
        }
    }

    /// <summary>Moves the clock to <paramref name="time"/> (firing due timers) and pushes one JSON event into <paramref name="stream"/>.</summary>
    public async Task At(long time, string stream, string json)
    {
        Clock.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(time));
        await Engine.PublishJsonAsync(stream, Encoding.UTF8.GetBytes(json));
    }

    /// <summary>Pushes one JSON event into <paramref name="stream"/> at the current time.</summary>
    public ValueTask Push(string stream, string json) => Engine.PublishJsonAsync(stream, Encoding.UTF8.GetBytes(json));

    /// <summary>
    /// Advances the clock in steps until <paramref name="done"/> holds or the clock reaches <paramref name="limit"/>,
    /// then waits for it (as <see cref="ClockSteps.AdvanceUntil"/>).
    /// </summary>
    public async Task AdvanceUntil(long limit, Func<bool> done, string what, long stepMs = 100)
    {
        while (!done() && Clock.GetUtcNow().ToUnixTimeMilliseconds() < limit)
        {
            var now = Clock.GetUtcNow().ToUnixTimeMilliseconds();
            Clock.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(Math.Min(limit, now + stepMs)));
            await Task.Delay(1);
        }

        await Wait.Until(done, what);
    }

    /// <summary>A metric of the running rule, found by the end of its name (<c>window_0_records_out_total</c>); 0 when absent.</summary>
    public long Metric(string suffix) =>
        Engine.GetRuleStatus("r").Metrics.FirstOrDefault(m => m.Key.EndsWith(suffix, StringComparison.Ordinal)).Value;

    /// <summary>How many windows the rule's window operator has fired.</summary>
    public long GetWindowsOut() => Metric("_window_0_records_out_total");

    /// <summary>Waits until the rule has emitted <paramref name="count"/> times.</summary>
    public Task Emitted(int count) => Wait.Until(() => Emissions.Count >= count, $"{count} emissions");

    /// <summary>Stops the rule (open windows are not flushed; accepted events are processed) and returns its status.</summary>
    public async Task<RuleStatus> StopAsync()
    {
        await Engine.StopRuleAsync("r");
        return Engine.GetRuleStatus("r");
    }

    /// <summary>
    /// An emission as text: its rows separated by <c> | </c>, each row's fields sorted by name as <c>name=value</c>
    /// (strings in single quotes, null as <c>null</c>), so an absent field and a null one read differently.
    /// </summary>
    public static string Show(IReadOnlyList<IReadOnlyDictionary<string, object?>> emission) =>
        string.Join(" | ", emission.Select(row => "{" + string.Join(", ", row.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => $"{f.Key}={Format(f.Value)}")) + "}"));

    private static string Format(object? value) => value switch
    {
        null => "null",
        string s => $"'{s}'",
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    public async ValueTask DisposeAsync()
    {
        subscription.Dispose();
        await Engine.DisposeAsync();
    }
}
