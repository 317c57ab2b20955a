using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;

namespace EdgeStream.Testing;

/// <summary>
/// A unit test of stream SQL, in process and on a fake clock, from any test framework: declare streams, start rules
/// (with your own sinks and functions registered on <see cref="Engine"/>), send events at chosen times, and assert
/// what each rule emitted.
/// </summary>
/// <example>
/// <code>
/// await using var test = new StreamSqlTest();
/// test.Declare("CREATE STREAM demo (color string, size bigint) WITH (DATASOURCE=\"demo\")");
/// var rule = await test.StartRuleAsync("SELECT color, count(*) AS n FROM demo GROUP BY color, TUMBLINGWINDOW(ss, 10)");
/// await test.SendAsync("demo", """{"color": "red", "size": 3}""", at: TimeSpan.FromSeconds(1));
/// await test.SendAsync("demo", """{"color": "red", "size": 5}""", at: TimeSpan.FromSeconds(2));
/// await test.AdvanceToAsync(TimeSpan.FromSeconds(10));
/// await rule.AssertEmissionsAsync("""[[{"color": "red", "n": 2}]]""");
/// </code>
/// </example>
/// <remarks>
/// The clock starts at <see cref="Start"/> (by default 2025-01-01T00:00:00Z, a whole minute, so windows align with
/// it) and only moves when the test moves it: <see cref="SendAsync(string, string, TimeSpan)"/> moves it to the
/// event's time first, <see cref="AdvanceToAsync"/> moves it without an event. Timers due on the way (window ends,
/// checkpoints) fire in order, and each call returns once every rule has processed what it was given and what came
/// due. The rows reach the capture through the rule's sink stage, so read <see cref="RuleUnderTest.Emissions"/>
/// after <see cref="RuleUnderTest.WaitForEmissionsAsync"/> or <see cref="RuleUnderTest.StopAsync"/>. The engine's
/// time zone is UTC.
/// </remarks>
public sealed class StreamSqlTest : IAsyncDisposable
{
    private readonly FakeTimeProvider clock;
    private readonly CancellationTokenSource stop = new();
    private readonly List<RuleUnderTest> rules = [];

    /// <summary>Creates a test whose clock starts at 2025-01-01T00:00:00Z.</summary>
    public StreamSqlTest()
        : this(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero))
    {
    }

    /// <summary>Creates a test whose clock starts at <paramref name="start"/>.</summary>
    /// <param name="start">The clock's starting time.</param>
    public StreamSqlTest(DateTimeOffset start)
    {
        Start = start;
        clock = new FakeTimeProvider(start);
        Engine = new EdgeStreamEngine(new EdgeStreamEngineOptions { TimeProvider = clock, TimeZone = TimeZoneInfo.Utc });
    }

    /// <summary>The engine under test: register your sinks, sources, functions and formats on it before starting rules.</summary>
    public EdgeStreamEngine Engine { get; }

    /// <summary>When the clock started.</summary>
    public DateTimeOffset Start { get; }

    /// <summary>The clock's time now.</summary>
    public DateTimeOffset Now => clock.GetUtcNow();

    /// <summary>Declares a stream or table (<c>CREATE STREAM</c>, <c>CREATE TABLE</c>).</summary>
    /// <param name="statement">The statement.</param>
    /// <exception cref="SqlException">It is invalid, with line and column.</exception>
    public void Declare(string statement) => Engine.Execute(statement);

    /// <summary>Starts a rule with this SQL and no action but the test's capture.</summary>
    /// <param name="sql">The rule's SQL.</param>
    /// <returns>The running rule, whose emissions the test captures.</returns>
    /// <exception cref="SqlException">The SQL is invalid.</exception>
    public Task<RuleUnderTest> StartRuleAsync(string sql) =>
        StartRuleAsync(new RuleDefinition("rule" + (rules.Count + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), sql));

    /// <summary>
    /// Starts a rule as defined (its options and its own actions, which run too), adding an action that captures
    /// every emission for <see cref="RuleUnderTest.Emissions"/>.
    /// </summary>
    /// <param name="rule">The rule.</param>
    /// <returns>The running rule.</returns>
    public async Task<RuleUnderTest> StartRuleAsync(RuleDefinition rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        var topic = "edgestream-test/" + rule.Id;
        rule.Actions.Add(new RuleAction("memory", new Dictionary<string, string> { ["topic"] = topic }));
        var captured = new RuleUnderTest(this, rule.Id, Engine.Memory.Subscribe(topic, stop.Token, capacity: int.MaxValue));
        await Engine.CreateRuleAsync(rule).ConfigureAwait(false);
        rules.Add(captured);
        return captured;
    }

    /// <summary>Sends one event, a JSON object as a source would deliver it, after moving the clock to <paramref name="at"/>.</summary>
    /// <param name="stream">The stream.</param>
    /// <param name="json">The event.</param>
    /// <param name="at">Its arrival time, from <see cref="Start"/>; not before the clock's time now.</param>
    /// <returns>When the engine has taken it.</returns>
    public async Task SendAsync(string stream, string json, TimeSpan at)
    {
        ArgumentNullException.ThrowIfNull(json);
        await MoveAsync(at).ConfigureAwait(false);
        await Engine.PublishJsonAsync(stream, Encoding.UTF8.GetBytes(json)).ConfigureAwait(false);
        await SettleAsync().ConfigureAwait(false);
    }

    /// <summary>Sends one event given as fields, after moving the clock to <paramref name="at"/>.</summary>
    /// <param name="stream">The stream.</param>
    /// <param name="row">The event's fields.</param>
    /// <param name="at">Its arrival time, from <see cref="Start"/>; not before the clock's time now.</param>
    /// <returns>When the engine has taken it.</returns>
    public async Task SendAsync(string stream, IReadOnlyDictionary<string, object?> row, TimeSpan at)
    {
        await MoveAsync(at).ConfigureAwait(false);
        await Engine.PublishAsync(stream, row).ConfigureAwait(false);
        await SettleAsync().ConfigureAwait(false);
    }

    /// <summary>Moves the clock to <paramref name="at"/> without an event, firing the timers due on the way (windows close).</summary>
    /// <param name="at">The time, from <see cref="Start"/>; not before the clock's time now.</param>
    /// <returns>When every rule has handled what came due.</returns>
    public Task AdvanceToAsync(TimeSpan at) => MoveAsync(at);

    /// <summary>Stops every rule and the engine.</summary>
    /// <returns>When done.</returns>
    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync().ConfigureAwait(false);
        await Engine.DisposeAsync().ConfigureAwait(false);
        stop.Dispose();
    }

    /// <summary>Moves the clock, then waits until every rule has handled what came due (a window's end, say).</summary>
    private async Task MoveAsync(TimeSpan at)
    {
        var target = Start + at;
        if (target < clock.GetUtcNow())
        {
            throw new ArgumentOutOfRangeException(nameof(at), at, $"the clock is at {clock.GetUtcNow() - Start} from the start already; time only moves forward");
        }

        clock.SetUtcNow(target);
        await SettleAsync().ConfigureAwait(false);
    }

    /// <summary>Waits until every running rule has processed what was queued to it (and what that queued in turn).</summary>
    private async Task SettleAsync()
    {
        foreach (var rule in rules)
        {
            try
            {
                await Engine.SettleRuleAsync(rule.Id, stop.Token).WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            }
            catch (KeyNotFoundException)
            {
                // Deleted by the test.
            }
        }
    }
}

/// <summary>A rule started by a <see cref="StreamSqlTest"/>, with what it emitted.</summary>
public sealed class RuleUnderTest
{
    private readonly StreamSqlTest test;
    private readonly System.Threading.Channels.ChannelReader<IReadOnlyList<IReadOnlyDictionary<string, object?>>> output;
    private readonly List<IReadOnlyList<IReadOnlyDictionary<string, object?>>> emissions = [];

    internal RuleUnderTest(StreamSqlTest test, string id, System.Threading.Channels.ChannelReader<IReadOnlyList<IReadOnlyDictionary<string, object?>>> output)
    {
        this.test = test;
        Id = id;
        this.output = output;
    }

    /// <summary>The rule's id.</summary>
    public string Id { get; }

    /// <summary>The rule's status (counts, errors, metrics).</summary>
    public RuleStatus Status => test.Engine.GetRuleStatus(Id);

    /// <summary>What the rule emitted so far, one list of rows per emission. Events still being processed may add more; <see cref="StopAsync"/> waits for them.</summary>
    public IReadOnlyList<IReadOnlyList<IReadOnlyDictionary<string, object?>>> Emissions
    {
        get
        {
            lock (emissions)
            {
                while (output.TryRead(out var emission))
                {
                    emissions.Add(emission);
                }

                return [.. emissions];
            }
        }
    }

    /// <summary>The emissions so far as compact JSON, one array per emission (bytes as <c>{"$base64": …}</c>).</summary>
    public string EmissionsJson => ResultJson.Write(Emissions);

    /// <summary>Waits (real time) until the rule has emitted at least <paramref name="count"/> times.</summary>
    /// <param name="count">How many emissions.</param>
    /// <param name="timeout">How long to wait; 10 s when null.</param>
    /// <returns>The emissions so far.</returns>
    /// <exception cref="TimeoutException">Fewer arrived in time; the message says how many.</exception>
    public async Task<IReadOnlyList<IReadOnlyList<IReadOnlyDictionary<string, object?>>>> WaitForEmissionsAsync(int count, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var now = Emissions;
            if (now.Count >= count)
            {
                return now;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"rule `{Id}` emitted {now.Count} time(s), not {count}: {ResultJson.Write(now)}");
            }

            await Task.Delay(5).ConfigureAwait(false);
        }
    }

    /// <summary>Stops the rule once it has processed every event it took (what its windows hold is not emitted), and returns all its emissions.</summary>
    /// <returns>Every emission.</returns>
    public async Task<IReadOnlyList<IReadOnlyList<IReadOnlyDictionary<string, object?>>>> StopAsync()
    {
        await test.Engine.StopRuleAsync(Id).ConfigureAwait(false);
        return Emissions;
    }

    /// <summary>
    /// Stops the rule (see <see cref="StopAsync"/>) and checks its emissions against <paramref name="expectedJson"/>,
    /// an array of emissions, each an array of row objects, compared as eKuiper's tests compare them (numbers by value,
    /// rows in order unless <paramref name="rowOrderMatters"/> is false).
    /// </summary>
    /// <param name="expectedJson">The expected emissions, e.g. <c>[[{"color": "red", "n": 2}]]</c>.</param>
    /// <param name="rowOrderMatters">Whether rows within an emission must come in the expected order.</param>
    /// <returns>When they match.</returns>
    /// <exception cref="EmissionMismatchException">They differ; the message has both and the first difference.</exception>
    public async Task AssertEmissionsAsync(string expectedJson, bool rowOrderMatters = true)
    {
        ArgumentNullException.ThrowIfNull(expectedJson);
        var actual = ResultJson.Write(await StopAsync().ConfigureAwait(false));
        using var expected = JsonDocument.Parse(expectedJson);
        using var actualDoc = JsonDocument.Parse(actual);
        if (EmissionComparer.Compare(expected.RootElement, actualDoc.RootElement, rowOrderMatters) is { } difference)
        {
            throw new EmissionMismatchException($"rule `{Id}` emitted other results: {difference}{Environment.NewLine}expected: {ResultJson.Compact(expected.RootElement)}{Environment.NewLine}actual:   {actual}");
        }
    }
}

/// <summary>A rule under test emitted other results than expected (<see cref="RuleUnderTest.AssertEmissionsAsync"/>); every test framework reports it as a failure.</summary>
public sealed class EmissionMismatchException : Exception
{
    /// <summary>Creates the exception.</summary>
    public EmissionMismatchException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What differs.</param>
    public EmissionMismatchException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">What differs.</param>
    /// <param name="innerException">The cause.</param>
    public EmissionMismatchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
