using System.Text;
using EdgeStream.Abstractions;
using EdgeStream.Compilation;
using EdgeStream.Functions.Builtins;
using EdgeStream.Runtime.Json;
using EdgeStream.Tests.Support;

namespace EdgeStream.Tests.Runtime;

/// <summary>
/// Inputs over the engine's limits (<see cref="EdgeStreamLimits"/>), and payloads built to confuse a decoder, fail
/// alone: each with an error naming the limit, dead-lettered with its payload; the rule goes on and every other
/// event gets through.
/// </summary>
public sealed class HostileInputTests
{
    private const string Stream = "CREATE STREAM s () WITH (DATASOURCE=\"in\", TYPE=\"memory\")";

    private static async Task<List<IReadOnlyDictionary<string, object?>>> Letters(
        System.Threading.Channels.ChannelReader<IReadOnlyList<IReadOnlyDictionary<string, object?>>> reader, int count)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var letters = new List<IReadOnlyDictionary<string, object?>>();
        while (letters.Count < count)
        {
            letters.AddRange(await reader.ReadAsync(timeout.Token));
        }

        return letters;
    }

    /// <summary>Publishes each payload to a stateless rule and returns what came out and what was dead-lettered.</summary>
    private static async Task<(List<IReadOnlyDictionary<string, object?>> Out, List<IReadOnlyDictionary<string, object?>> Letters, RuleStatus Status)> Feed(
        EdgeStreamLimits limits, int expectedOut, int expectedLetters, params byte[][] payloads)
    {
        await using var engine = new EdgeStreamEngine(new EdgeStreamEngineOptions { Limits = limits });
        engine.Execute(Stream);
        var rule = new RuleDefinition("r", "SELECT * FROM s");
        rule.Actions.Add(new RuleAction("memory", new Dictionary<string, string> { ["topic"] = "out" }));
        await engine.CreateRuleAsync(rule);
        using var stop = new CancellationTokenSource();
        var output = engine.Memory.Subscribe("out", stop.Token);
        var letters = engine.Memory.Subscribe(EdgeStreamEngine.DeadLetterTopic, stop.Token);
        foreach (var payload in payloads)
        {
            await engine.PublishJsonAsync("s", payload);
        }

        var rows = await Letters(output, expectedOut);
        var dead = await Letters(letters, expectedLetters);
        await Wait.Until(() => engine.GetRuleStatus("r").RecordsIn == payloads.Length, "every event counted");
        return (rows, dead, engine.GetRuleStatus("r"));
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    [Test]
    public async Task A_payload_over_the_size_limit_is_dead_lettered_and_the_next_one_passes()
    {
        var big = Utf8($$"""{"a": "{{new string('x', 2000)}}"}""");
        var (rows, letters, status) = await Feed(new EdgeStreamLimits { MaxPayloadBytes = 1000 }, 2, 1,
            Utf8("""{"a": 1}"""), big, Utf8("""{"a": 2}"""));

        Assert.That(rows.Select(r => r["a"]), Is.EqualTo(new object[] { 1L, 2L }));
        Assert.That(letters[0]["error"], Is.EqualTo($"decode error: the payload of {big.Length} bytes is larger than the limit of 1000 (EdgeStreamLimits.MaxPayloadBytes)"));
        Assert.That(letters[0]["payload"], Is.EqualTo(Encoding.UTF8.GetString(big)), "the payload is kept whole");
        Assert.That((status.State, status.Errors), Is.EqualTo((RuleState.Running, 1L)));
    }

    [Test]
    public async Task Nesting_past_the_limit_is_an_error_and_at_the_limit_is_fine()
    {
        static byte[] Nested(int levels) => Utf8("{\"a\": " + string.Concat(Enumerable.Repeat("[", levels - 1)) + "1" + string.Concat(Enumerable.Repeat("]", levels - 1)) + "}");

        // The event's object is level 1: 8 levels in all are allowed, 9 are not.
        var (rows, letters, _) = await Feed(new EdgeStreamLimits { MaxNestingDepth = 8 }, 1, 1, Nested(9), Nested(8));
        Assert.That(rows, Has.Count.EqualTo(1));
        Assert.That(letters[0]["error"], Does.Contain("values nest deeper than the limit of 8 levels (EdgeStreamLimits.MaxNestingDepth)"));
    }

    [Test]
    public async Task A_string_or_key_over_the_length_limit_is_an_error()
    {
        var (rows, letters, _) = await Feed(new EdgeStreamLimits { MaxStringLength = 10 }, 1, 2,
            Utf8("""{"a": "0123456789a"}"""), Utf8("""{"0123456789a": 1}"""), Utf8("""{"a": "0123456789"}"""));
        Assert.That(rows.Single()["a"], Is.EqualTo("0123456789"));
        Assert.That(letters.Select(l => l["error"]), Is.All.Contains("a string of 11 characters is longer than the limit of 10 (EdgeStreamLimits.MaxStringLength)"));
    }

    [Test]
    public async Task Invalid_utf8_is_a_decode_error_whose_dead_letter_keeps_the_exact_bytes()
    {
        byte[] badValue = [.. "{\"a\": \""u8, 0xC3, 0x28, .. "\"}"u8];
        byte[] badKey = [.. "{\""u8, 0xFF, .. "\": 1}"u8];
        var (rows, letters, status) = await Feed(new EdgeStreamLimits(), 1, 2, badValue, badKey, Utf8("""{"a": "ok"}"""));

        Assert.That(rows.Single()["a"], Is.EqualTo("ok"));
        Assert.That(letters.Select(l => l["error"]), Is.All.StartWith("decode error: invalid JSON: invalid UTF-8 in a string"));
        Assert.That(letters.Select(l => l["payload"]), Is.EqualTo(new object[] { badValue, badKey }), "not replaced by U+FFFD");
        Assert.That(status.State, Is.EqualTo(RuleState.Running));
    }

    [Test]
    public async Task Numbers_beyond_a_double_are_errors_and_integers_beyond_64_bits_become_floats()
    {
        var (rows, letters, _) = await Feed(new EdgeStreamLimits(), 2, 3,
            Utf8("""{"a": 1e400}"""), Utf8("""{"a": -1e400}"""), Utf8("""{"a": NaN}"""),
            Utf8("""{"a": 123456789012345678901234567890}"""), Utf8("""{"a": 9223372036854775807}"""));

        Assert.That(rows[0]["a"], Is.EqualTo(1.2345678901234568e29));
        Assert.That(rows[1]["a"], Is.EqualTo(long.MaxValue));
        Assert.That(letters[0]["error"], Is.EqualTo("decode error: invalid JSON: the number 1e400 is beyond the range of a 64-bit float"));
        Assert.That(letters[1]["error"], Is.EqualTo("decode error: invalid JSON: the number -1e400 is beyond the range of a 64-bit float"));
        Assert.That(letters[2]["error"], Does.StartWith("decode error: invalid JSON: "), "JSON has no NaN");
    }

    [Test]
    public async Task A_key_given_twice_keeps_its_last_value_at_its_first_place()
    {
        var (rows, _, _) = await Feed(new EdgeStreamLimits(), 1, 0, Utf8("""{"a": 1, "b": {"x": 1, "y": 2, "x": 3}, "a": 2}"""));
        Assert.That(rows[0]["a"], Is.EqualTo(2L));
        var inner = (IReadOnlyDictionary<string, object?>)rows[0]["b"]!;
        Assert.That(inner.Select(kv => $"{kv.Key}={kv.Value}"), Is.EqualTo(new[] { "x=3", "y=2" }));
    }

    [Test]
    public void Non_finite_floats_are_written_as_strings_never_as_invalid_json()
    {
        Assert.That(JsonValueWriter.ToJson(Value.From(double.NaN)), Is.EqualTo("\"NaN\""));
        Assert.That(JsonValueWriter.ToJson(Value.From(double.PositiveInfinity)), Is.EqualTo("\"Infinity\""));
        Assert.That(JsonValueWriter.ToJson(Value.From(double.NegativeInfinity)), Is.EqualTo("\"-Infinity\""));
    }

    [Test]
    public async Task A_window_holds_at_most_its_limit_of_events_and_dead_letters_the_rest()
    {
        await using var rule = await ClockedRule.StartAsync("SELECT a FROM s GROUP BY TUMBLINGWINDOW(ss, 10)", 0,
            limits: new EdgeStreamLimits { MaxEventsPerWindow = 3 });
        using var stop = new CancellationTokenSource();
        var letters = rule.Engine.Memory.Subscribe(EdgeStreamEngine.DeadLetterTopic, stop.Token);
        for (var i = 1; i <= 5; i++)
        {
            await rule.At(i * 1000, new Dictionary<string, object?> { ["a"] = i });
        }

        await rule.At(11_000, new Dictionary<string, object?> { ["a"] = 6 });
        await rule.AdvanceUntil(20_000, () => rule.Emissions.Count == 2, "two windows");

        Assert.That(rule.Emissions[0].Select(r => r["a"]), Is.EqualTo(new object[] { 1L, 2L, 3L }));
        Assert.That(rule.Emissions[1].Select(r => r["a"]), Is.EqualTo(new object[] { 6L }), "the next window takes events again");
        var dead = await Letters(letters, 2);
        Assert.That(dead.Select(l => ((IReadOnlyDictionary<string, object?>)l["payload"]!)["a"]), Is.EqualTo(new object[] { 4L, 5L }));
        Assert.That(dead[0]["error"], Is.EqualTo("the window already holds the limit of 3 events (EdgeStreamLimits.MaxEventsPerWindow); the event is dead-lettered"));
        var status = await rule.StopAsync();
        Assert.That(status.Metrics.Single(m => m.Key.EndsWith("_window_0_exceptions_total", StringComparison.Ordinal)).Value, Is.EqualTo(2L));
    }

    [TestCase("SELECT k, count(*) AS n FROM s GROUP BY k", TestName = "Groups_without_a_window_stop_at_the_limit")]
    [TestCase("SELECT k, count(*) AS n FROM s GROUP BY k, TUMBLINGWINDOW(ss, 10)", TestName = "Groups_of_an_aggregating_window_stop_at_the_limit")]
    public async Task Groups_stop_at_the_limit(string sql)
    {
        await using var rule = await ClockedRule.StartAsync(sql, 0, limits: new EdgeStreamLimits { MaxGroupsPerRule = 2 });
        using var stop = new CancellationTokenSource();
        var letters = rule.Engine.Memory.Subscribe(EdgeStreamEngine.DeadLetterTopic, stop.Token);
        foreach (var (k, at) in new[] { ("a", 1000), ("b", 2000), ("c", 3000), ("a", 4000) })
        {
            await rule.At(at, new Dictionary<string, object?> { ["k"] = k });
        }

        var dead = await Letters(letters, 1);
        Assert.That(((IReadOnlyDictionary<string, object?>)dead[0]["payload"]!)["k"], Is.EqualTo("c"));
        Assert.That(dead[0]["error"], Is.EqualTo("the event would open a group beyond the limit of 2 groups (EdgeStreamLimits.MaxGroupsPerRule); it is dead-lettered"));
        if (sql.Contains("WINDOW", StringComparison.Ordinal))
        {
            await rule.AdvanceUntil(20_000, () => rule.Emissions.Count == 1, "the window");
            Assert.That(rule.Emissions[0].Select(r => $"{r["k"]}={r["n"]}"), Is.EquivalentTo(new[] { "a=2", "b=1" }));
        }
        else
        {
            await Wait.Until(() => rule.Emissions.Count == 3, "one result per event taken");
            Assert.That(rule.Emissions[^1][0]["n"], Is.EqualTo(2L), "an existing group still counts");
        }
    }

    [Test]
    public void A_like_match_past_its_timeout_fails_its_row()
    {
        // The greedy matcher retries the text after `%` at every position: 200,000 × 50,000 steps without a bound.
        var pattern = new LikePattern("%" + new string('a', 50_000) + "b", '\\', TimeSpan.FromMilliseconds(20));
        var error = Assert.Throws<EvaluationException>(() => pattern.IsMatch(new string('a', 200_000)))!;
        Assert.That(error.Message, Does.StartWith("a LIKE match on 200000 characters took longer than 20 ms"));
        Assert.That(new LikePattern("%ab", '\\', TimeSpan.FromMilliseconds(20)).IsMatch(new string('a', 200_000) + "b"), Is.True);
    }

    [Test]
    public void A_regex_match_past_its_timeout_fails_its_row()
    {
        var regex = GoRegex.Compile("(x+x+)+y", TimeSpan.FromMilliseconds(1));
        var error = Assert.Throws<EvaluationException>(() => regex.IsMatch(new string('x', 20_000_000)))!;
        Assert.That(error.Message, Is.EqualTo("a regular expression match on 20000000 characters took longer than 1 ms (EdgeStreamLimits.MatchTimeout)"));
        Assert.That(GoRegex.Compile("(x+x+)+y").IsMatch("xxy"), Is.True, "the same pattern, with the default timeout, on a short text");
    }

    [Test]
    public async Task A_rule_whose_like_times_out_reports_it_and_goes_on()
    {
        await using var engine = new EdgeStreamEngine(new EdgeStreamEngineOptions { Limits = new EdgeStreamLimits { MatchTimeout = TimeSpan.FromMilliseconds(20) } });
        engine.Execute(Stream);
        var rule = new RuleDefinition("r", "SELECT t FROM s WHERE t LIKE p");
        rule.Actions.Add(new RuleAction("memory", new Dictionary<string, string> { ["topic"] = "out" }));
        await engine.CreateRuleAsync(rule);
        using var stop = new CancellationTokenSource();
        var output = engine.Memory.Subscribe("out", stop.Token);
        await engine.PublishAsync("s", new Dictionary<string, object?> { ["t"] = new string('a', 200_000), ["p"] = "%" + new string('a', 50_000) + "b" });
        await engine.PublishAsync("s", new Dictionary<string, object?> { ["t"] = "ab", ["p"] = "%b" });

        var rows = await Letters(output, 1);
        Assert.That(rows[0]["t"], Is.EqualTo("ab"));
        var status = engine.GetRuleStatus("r");
        Assert.That((status.State, status.Errors), Is.EqualTo((RuleState.Running, 1L)));
        Assert.That(status.LastError, Does.Contain("took longer than 20 ms"));
    }

    [TestCase(0, TestName = "A_zero_limit_is_refused_when_the_engine_is_made")]
    [TestCase(-1, TestName = "A_negative_limit_is_refused_when_the_engine_is_made")]
    public void Limits_must_be_positive(int value)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new EdgeStreamEngine(new EdgeStreamEngineOptions { Limits = new EdgeStreamLimits { MaxGroupsPerRule = value } }))!;
        Assert.That(error.Message, Does.StartWith("EdgeStreamLimits.MaxGroupsPerRule must be positive"));
    }
}
