using EdgeStream.Testing;

namespace EdgeStream.Tests.TestingApi;

/// <summary>The user-facing testing API: streams, timed events on a fake clock, rules with own sinks and functions, asserted emissions.</summary>
public sealed class StreamSqlTestTests
{
    private const string Demo = "CREATE STREAM demo (color string, size bigint) WITH (DATASOURCE=\"demo\")";

    [Test]
    public async Task A_tumbling_window_emits_when_the_test_clock_passes_its_end()
    {
        await using var test = new StreamSqlTest();
        test.Declare(Demo);
        var rule = await test.StartRuleAsync("SELECT color, count(*) AS n FROM demo GROUP BY color, TUMBLINGWINDOW(ss, 10) ORDER BY color");

        await test.SendAsync("demo", """{"color": "red", "size": 3}""", at: TimeSpan.FromSeconds(1));
        await test.SendAsync("demo", """{"color": "blue", "size": 4}""", at: TimeSpan.FromSeconds(2));
        await test.SendAsync("demo", new Dictionary<string, object?> { ["color"] = "red", ["size"] = 5L }, at: TimeSpan.FromSeconds(9));
        Assert.That(rule.Emissions, Is.Empty, "nothing before the window ends");

        await test.AdvanceToAsync(TimeSpan.FromSeconds(10));
        await test.SendAsync("demo", """{"color": "red", "size": 1}""", at: TimeSpan.FromSeconds(11)); // next window
        await test.AdvanceToAsync(TimeSpan.FromSeconds(20));

        await rule.AssertEmissionsAsync("""[[{"color": "blue", "n": 1}, {"color": "red", "n": 2}], [{"color": "red", "n": 1}]]""");
        Assert.That(test.Now, Is.EqualTo(test.Start.AddSeconds(20)));
    }

    [Test]
    public async Task A_mismatch_fails_with_both_results_and_the_first_difference()
    {
        await using var test = new StreamSqlTest();
        test.Declare(Demo);
        var rule = await test.StartRuleAsync("SELECT color FROM demo WHERE size > 3");
        await test.SendAsync("demo", """{"color": "red", "size": 5}""", at: TimeSpan.FromSeconds(1));
        await rule.WaitForEmissionsAsync(1);

        var e = Assert.ThrowsAsync<EmissionMismatchException>(() => rule.AssertEmissionsAsync("""[[{"color": "blue"}]]"""))!;
        Assert.Multiple(() =>
        {
            Assert.That(e.Message, Does.StartWith("rule `rule1` emitted other results: "));
            Assert.That(e.Message, Does.Contain("""expected: [[{"color":"blue"}]]"""));
            Assert.That(e.Message, Does.Contain("""actual:   [[{"color":"red"}]]"""));
        });
    }

    [Test]
    public async Task A_rule_runs_with_the_users_own_function_and_sink()
    {
        await using var test = new StreamSqlTest();
        var written = new List<IReadOnlyDictionary<string, object?>>();
        test.Engine.RegisterFunction("triple", new Triple());
        test.Engine.RegisterSink("mine", _ => new ListSink(written));
        test.Declare(Demo);
        var definition = new RuleDefinition("tripled", "SELECT color, triple(size) AS big FROM demo");
        definition.Actions.Add(new RuleAction("mine"));
        var rule = await test.StartRuleAsync(definition);

        await test.SendAsync("demo", """{"color": "red", "size": 2}""", at: TimeSpan.FromMilliseconds(500));
        await rule.AssertEmissionsAsync("""[[{"color": "red", "big": 6}]]""");
        lock (written)
        {
            Assert.That(written.Single()["big"], Is.EqualTo(6L), "the user's own sink got the row too");
        }

        Assert.That(rule.Status.RecordsIn, Is.EqualTo(1));
    }

    [Test]
    public async Task Time_only_moves_forward_and_bad_sql_is_reported_with_its_position()
    {
        await using var test = new StreamSqlTest(new DateTimeOffset(2030, 6, 1, 12, 0, 0, TimeSpan.Zero));
        test.Declare(Demo);
        await test.AdvanceToAsync(TimeSpan.FromSeconds(5));
        Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => test.SendAsync("demo", "{}", at: TimeSpan.FromSeconds(4)));
        var e = Assert.ThrowsAsync<SqlException>(() => test.StartRuleAsync("SELECT color FORM demo"))!;
        Assert.That(e.Message, Does.Contain("line 1, column 14"));
    }

    private sealed class Triple : IFunction
    {
        public int MinArguments => 1;

        public int MaxArguments => 1;

        public SqlValue Invoke(ReadOnlySpan<SqlValue> arguments, FunctionContext context) => SqlValue.From((long)arguments[0].AsDouble() * 3);
    }

    private sealed class ListSink(List<IReadOnlyDictionary<string, object?>> written) : ISink
    {
        public ValueTask OpenAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask WriteAsync(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows, CancellationToken cancellationToken)
        {
            lock (written)
            {
                written.AddRange(rows);
            }

            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
