using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace EdgeStream.Testing;

/// <summary>Whether a replayed case matched.</summary>
public enum ReplayStatus
{
    /// <summary>The emissions matched.</summary>
    Pass = 0,

    /// <summary>They did not, or the rule could not run.</summary>
    Fail,

    /// <summary>They did not, and the case is a recorded deviation from eKuiper (with a reason).</summary>
    Deviation,
}

/// <summary>The outcome of replaying one case.</summary>
public sealed class ReplayResult
{
    internal ReplayResult(string name, ReplayStatus status, string expectedJson, string actualJson, string? reason)
    {
        Name = name;
        Status = status;
        ExpectedJson = expectedJson;
        ActualJson = actualJson;
        Reason = reason;
    }

    /// <summary>The case's name.</summary>
    public string Name { get; }

    /// <summary>Pass, fail or deviation.</summary>
    public ReplayStatus Status { get; }

    /// <summary>Whether it passed.</summary>
    public bool Passed => Status == ReplayStatus.Pass;

    /// <summary>The expected emissions, compact JSON.</summary>
    public string ExpectedJson { get; }

    /// <summary>The actual emissions, compact JSON encoded like the expected ones.</summary>
    public string ActualJson { get; }

    /// <summary>Why it did not pass (the first difference, the rule's error, or the deviation's reason); null on a pass.</summary>
    public string? Reason { get; }

    /// <summary>This result marked as a recorded deviation, when it failed.</summary>
    /// <param name="reason">Why EdgeStream deliberately differs.</param>
    /// <returns>The marked result, or this one if it passed.</returns>
    public ReplayResult AsDeviation(string reason) =>
        Passed ? this : new ReplayResult(Name, ReplayStatus.Deviation, ExpectedJson, ActualJson, $"deviation: {reason} ({Reason})");
}

/// <summary>
/// Replays a <see cref="ConformanceCase"/> through a fresh <see cref="EdgeStreamEngine"/>: declares its streams,
/// creates the rule with a memory sink, pushes every event into its stream in arrival order (merged across streams,
/// ties in declaration order), stops the rule (which finishes every event it took) and compares the emissions.
/// </summary>
/// <remarks>
/// The engine runs on a fake clock (<c>FakeTimeProvider</c>) that starts at the first event's whole second and is
/// moved to each event's arrival time before the event is pushed, so rows carry their arrival times and due timers
/// fire in order. A lookup table's rows are published to it, as one message, before the first event.
/// </remarks>
public static class CaseReplayer
{
    private const string OutputTopic = "edgestream-replay-output";

    private static readonly Dictionary<string, object?> MockMetadata = new(StringComparer.Ordinal) { ["topic"] = "mock" };

    /// <summary>How a case's <c>deviation</c> starts when only its expected metrics differ by design.</summary>
    private const string MetricsOnly = "metrics only:";

    /// <summary>Replays one case.</summary>
    /// <param name="conformanceCase">The case.</param>
    /// <param name="cancellationToken">Cancels the replay.</param>
    /// <returns>The outcome; never throws for a failing case.</returns>
    public static async Task<ReplayResult> ReplayAsync(ConformanceCase conformanceCase, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(conformanceCase);
        var result = await ReplayCoreAsync(conformanceCase, cancellationToken).ConfigureAwait(false);
        return conformanceCase.Deviation is { } reason ? result.AsDeviation(reason) : result;
    }

    private static async Task<ReplayResult> ReplayCoreAsync(ConformanceCase conformanceCase, CancellationToken cancellationToken)
    {
        if (conformanceCase.Checkpoint is { } checkpoint)
        {
            return await ReplayWithRestartAsync(conformanceCase, checkpoint, cancellationToken).ConfigureAwait(false);
        }

        var expected = ResultJson.Compact(conformanceCase.Expected);
        var emissions = new List<IReadOnlyList<IReadOnlyDictionary<string, object?>>>();
        IReadOnlyDictionary<string, long> metrics;
        // The mock clock of eKuiper's test driver: it starts at the first event's second and moves to each event's
        // arrival time before the event is sent, firing due timers on the way.
        var events = conformanceCase.Streams
            .SelectMany((s, order) => s.Events.Select((e, index) => (Event: e, Order: order, Index: index, Stream: s.Name)))
            .OrderBy(e => e.Event.Timestamp).ThenBy(e => e.Index).ThenBy(e => e.Order)
            .ToList();
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(StartTime(conformanceCase) / 1000 * 1000));
        var engine = new EdgeStreamEngine(new EdgeStreamEngineOptions { TimeProvider = clock, TimeZone = TimeZoneInfo.Utc });
        await using (engine.ConfigureAwait(false))
        {
            using var stop = new CancellationTokenSource();
            try
            {
                var rule = Declare(engine, conformanceCase);
                var output = engine.Memory.Subscribe(OutputTopic, stop.Token, capacity: int.MaxValue);
                await engine.CreateRuleAsync(rule, cancellationToken).ConfigureAwait(false);

                // A lookup table's rows are loaded before the first event, as one load (eKuiper reads its file at once).
                foreach (var table in conformanceCase.Streams.Where(s => s.TableRows is not null))
                {
                    await engine.PublishJsonAsync(table.Name, Encoding.UTF8.GetBytes(table.TableRows!), cancellationToken).ConfigureAwait(false);
                }

                foreach (var e in events)
                {
                    if (e.Event.Timestamp > clock.GetUtcNow().ToUnixTimeMilliseconds())
                    {
                        clock.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(e.Event.Timestamp));
                    }

                    // An event is the source's decoded row; bytes (`{"$base64": …}`, a binary stream's `self`) cannot travel
                    // as a JSON payload, so such an event is pushed as fields.
                    if (e.Event.Json.Contains("\"$base64\"", StringComparison.Ordinal))
                    {
                        await engine.PublishAsync(e.Stream, EventFields(e.Event.Json), cancellationToken).ConfigureAwait(false);
                    }
                    else
                    {
                        // eKuiper's mock source passes each event with the metadata {"topic": "mock"}.
                        await engine.PublishJsonWithMetadataAsync(e.Stream, Encoding.UTF8.GetBytes(e.Event.Json), MockMetadata, cancellationToken).ConfigureAwait(false);
                    }
                }

                await engine.StopRuleAsync("replay", cancellationToken).ConfigureAwait(false);
                metrics = engine.GetRuleStatus("replay").Metrics;
                while (output.TryRead(out var emission))
                {
                    emissions.Add(emission);
                }
            }
            catch (Exception e) when (e is SqlException or ArgumentException or KeyNotFoundException)
            {
                return Fail("rule refused: " + e.Message);
            }
        }

        return Compare(conformanceCase, emissions, metrics);

        ReplayResult Fail(string reason) => new(conformanceCase.Name, ReplayStatus.Fail, expected, "[]", reason);
    }

    private static ReplayResult Compare(ConformanceCase conformanceCase, List<IReadOnlyList<IReadOnlyDictionary<string, object?>>> emissions, IReadOnlyDictionary<string, long> metrics)
    {
        var expected = ResultJson.Compact(conformanceCase.Expected);

        // As eKuiper's test driver: trailing empty emissions beyond the expected ones are dropped.
        var expectedCount = conformanceCase.Expected.GetArrayLength();
        while (expectedCount > 0 && emissions.Count > expectedCount && emissions[^1].Count == 0)
        {
            emissions.RemoveAt(emissions.Count - 1);
        }

        var actual = ResultJson.Write(emissions);
        using var actualDoc = JsonDocument.Parse(actual);
        // A deviation that says "metrics only:" excuses the metrics; the emissions must still match.
        var metricsExcused = conformanceCase.Deviation?.StartsWith(MetricsOnly, StringComparison.Ordinal) == true;
        var difference = EmissionComparer.Compare(conformanceCase.Expected, actualDoc.RootElement, RowOrderMatters(conformanceCase.Sql))
            ?? (metricsExcused ? null : CompareMetrics(conformanceCase.ExpectedMetrics, metrics));
        return new ReplayResult(conformanceCase.Name, difference is null ? ReplayStatus.Pass : ReplayStatus.Fail, expected, actual, difference);
    }

    /// <summary>
    /// The checkpoint cases (<see cref="ConformanceCase.Checkpoint"/>), as eKuiper's <c>checkpoint_test.go</c> runs
    /// them: the streams' events come from a rewindable mock source (each event's position is its index), the rule
    /// takes checkpoints into an in-memory state store at the case's <c>qos</c> and <c>checkpointInterval</c>; after
    /// <see cref="CaseCheckpoint.PauseAfterEvents"/> events the clock moves on in 100 ms steps until
    /// <see cref="CaseCheckpoint.CompletedCheckpointsAtPause"/> checkpoints have completed, the rule stops and starts
    /// again from its last checkpoint, and the source sends again every event that checkpoint does not cover, then the
    /// rest. An event whose time has passed is sent <see cref="CaseCheckpoint.ReplayGapMs"/> of mock time after the
    /// previous one (200 ms, eKuiper's <c>TIMELEAP</c>, unless the case says otherwise). Only the emissions and metrics after the restart are compared.
    /// </summary>
    private static async Task<ReplayResult> ReplayWithRestartAsync(ConformanceCase conformanceCase, CaseCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        var expected = ResultJson.Compact(conformanceCase.Expected);
        var events = conformanceCase.Streams
            .SelectMany((s, order) => s.Events.Select((e, index) => (Event: e, Order: order, Index: index, Stream: s.Name)))
            .OrderBy(e => e.Event.Timestamp).ThenBy(e => e.Index).ThenBy(e => e.Order)
            .ToList();
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(StartTime(conformanceCase) / 1000 * 1000));
        var feeds = new System.Collections.Concurrent.ConcurrentDictionary<string, MockFeed>(StringComparer.OrdinalIgnoreCase);
        var engine = new EdgeStreamEngine(new EdgeStreamEngineOptions { TimeProvider = clock, TimeZone = TimeZoneInfo.Utc, StateStore = new State.InMemoryStateStore() });
        var emissions = new List<IReadOnlyList<IReadOnlyDictionary<string, object?>>>();
        IReadOnlyDictionary<string, long> metrics;
        await using (engine.ConfigureAwait(false))
        {
            using var stop = new CancellationTokenSource();
            try
            {
                engine.RegisterSource("mock", context => new MockSource(feeds.GetOrAdd(context.StreamName, _ => new MockFeed()), context));
                var rule = Declare(engine, conformanceCase);
                rule.Options.Qos = Math.Max(1, conformanceCase.Options.Qos);
                rule.Options.CheckpointInterval = conformanceCase.Options.CheckpointInterval ?? TimeSpan.FromSeconds(1);
                var output = engine.Memory.Subscribe(OutputTopic, stop.Token, capacity: int.MaxValue);
                await engine.CreateRuleAsync(rule, cancellationToken).ConfigureAwait(false);
                await LoadTablesAsync(engine, conformanceCase, cancellationToken).ConfigureAwait(false);

                var pause = Math.Min(checkpoint.PauseAfterEvents, events.Count);
                for (var i = 0; i < pause; i++)
                {
                    if (events[i].Event.Timestamp > clock.GetUtcNow().ToUnixTimeMilliseconds())
                    {
                        // Like the mock clock, whose timers' effects are over before it moves on: a checkpoint that
                        // fired on the way completes before the event is sent.
                        clock.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(events[i].Event.Timestamp));
                        await CheckpointSettledAsync(engine, cancellationToken).ConfigureAwait(false);
                    }

                    await SendAsync(feeds, events[i].Stream, events[i].Index, events[i].Event.Json, cancellationToken).ConfigureAwait(false);
                }

                // Time moves on in 100 ms steps until enough checkpoints have completed.
                for (var step = 0; Completed(engine) < checkpoint.CompletedCheckpointsAtPause && step < 600; step++)
                {
                    clock.Advance(TimeSpan.FromMilliseconds(100));
                    await CheckpointSettledAsync(engine, cancellationToken).ConfigureAwait(false);
                }

                await engine.StopRuleAsync("replay", cancellationToken).ConfigureAwait(false);
                while (output.TryRead(out _))
                {
                    // Before the restart: not compared.
                }

                await engine.StartRuleAsync("replay", cancellationToken).ConfigureAwait(false);

                // A lookup table's source reads its file whenever the rule starts, on top of the table the checkpoint
                // restored (eKuiper's at-least-once duplicates: every row twice).
                await LoadTablesAsync(engine, conformanceCase, cancellationToken).ConfigureAwait(false);
                for (var i = 0; i < events.Count; i++)
                {
                    var e = events[i];
                    var resume = feeds.TryGetValue(e.Stream, out var feed) ? feed.Resume : -1;
                    if (i < pause && e.Index <= resume)
                    {
                        continue; // the checkpoint covers it
                    }

                    var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
                    clock.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(e.Event.Timestamp > now ? e.Event.Timestamp : now + checkpoint.ReplayGapMs));
                    await SendAsync(feeds, e.Stream, e.Index, e.Event.Json, cancellationToken).ConfigureAwait(false);
                }

                await engine.StopRuleAsync("replay", cancellationToken).ConfigureAwait(false);
                metrics = engine.GetRuleStatus("replay").Metrics;
                while (output.TryRead(out var emission))
                {
                    emissions.Add(emission);
                }
            }
            catch (Exception e) when (e is SqlException or ArgumentException or KeyNotFoundException)
            {
                return new(conformanceCase.Name, ReplayStatus.Fail, expected, "[]", "rule refused: " + e.Message);
            }
        }

        return Compare(conformanceCase, emissions, metrics);

        static long Completed(EdgeStreamEngine engine) => engine.GetRuleStatus("replay").Metrics.GetValueOrDefault("checkpoints_completed_total");
    }

    /// <summary>Waits (real time, at most 10 s) until no checkpoint of the replayed rule is in progress.</summary>
    private static async Task CheckpointSettledAsync(EdgeStreamEngine engine, CancellationToken cancellationToken)
    {
        for (var tries = 0; tries < 5_000 && engine.GetRuleStatus("replay").Metrics.GetValueOrDefault("checkpoint_in_progress") != 0; tries++)
        {
            await Task.Delay(2, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Declares the case's streams and returns its rule, writing to <see cref="OutputTopic"/>, with the case's options.</summary>
    private static RuleDefinition Declare(EdgeStreamEngine engine, ConformanceCase conformanceCase)
    {
        foreach (var stream in conformanceCase.Streams)
        {
            engine.Execute(stream.Ddl);
        }

        var rule = new RuleDefinition("replay", conformanceCase.Sql);
        rule.Actions.Add(new RuleAction("memory", new Dictionary<string, string> { ["topic"] = OutputTopic }));
        rule.Options.SendError = conformanceCase.Options.SendError;
        rule.Options.IsEventTime = conformanceCase.Options.IsEventTime;
        rule.Options.LateTolerance = TimeSpan.FromMilliseconds(conformanceCase.Options.LateTolerance);
        return rule;
    }

    /// <summary>A lookup table's rows, loaded before the first event as one load (eKuiper reads its file at once).</summary>
    private static async Task LoadTablesAsync(EdgeStreamEngine engine, ConformanceCase conformanceCase, CancellationToken cancellationToken)
    {
        foreach (var table in conformanceCase.Streams.Where(s => s.TableRows is not null))
        {
            await engine.PublishJsonAsync(table.Name, Encoding.UTF8.GetBytes(table.TableRows!), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Hands one event to its stream's mock source; completes once the rule took it.</summary>
    private static async Task SendAsync(System.Collections.Concurrent.ConcurrentDictionary<string, MockFeed> feeds, string stream, int index, string json, CancellationToken cancellationToken)
    {
        var feed = feeds.GetOrAdd(stream, _ => new MockFeed());
        var taken = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await feed.Events.Writer.WriteAsync((Encoding.UTF8.GetBytes(json), index, taken), cancellationToken).ConfigureAwait(false);
        await taken.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>What the replayer hands a mock source, and where the last instance resumed (-1: from the start).</summary>
    private sealed class MockFeed
    {
        public System.Threading.Channels.Channel<(byte[] Payload, int Index, TaskCompletionSource Taken)> Events { get; } =
            System.Threading.Channels.Channel.CreateUnbounded<(byte[], int, TaskCompletionSource)>();

        public int Resume { get; set; } = -1;
    }

    /// <summary>eKuiper's rewindable mock source: each event's position is its index in the stream's list.</summary>
    private sealed class MockSource : ISource
    {
        private readonly MockFeed feed;

        /// <summary>Made when the rule starts: where it resumes is known before the replayer sends anything.</summary>
        public MockSource(MockFeed feed, SourceContext context)
        {
            this.feed = feed;
            feed.Resume = int.TryParse(context.ResumePosition, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var at) ? at : -1;
        }

        public async Task RunAsync(ISourceWriter writer, CancellationToken cancellationToken)
        {
            await foreach (var (payload, index, taken) in feed.Events.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                await writer.WritePayloadAsync(payload, MockMetadata, index.ToString(System.Globalization.CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false);
                taken.TrySetResult();
            }
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>The first expected metric that differs (<c>process_latency_us</c> is a lower bound); null when all match.</summary>
    internal static string? CompareMetrics(IReadOnlyDictionary<string, long> expected, IReadOnlyDictionary<string, long> actual)
    {
        foreach (var (name, value) in expected.OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            if (!actual.TryGetValue(name, out var got))
            {
                return $"metric {name}: expected {value}, but the rule has no such metric";
            }

            if (name.EndsWith("process_latency_us", StringComparison.Ordinal) ? got < value : got != value)
            {
                return $"metric {name}: expected {value}, got {got}";
            }
        }

        return null;
    }

    /// <summary>
    /// Rows keep their order unless the statement groups by keys without ORDER BY (eKuiper leaves the order of groups
    /// unspecified).
    /// </summary>
    internal static bool RowOrderMatters(string sql)
    {
        var group = Regex.Match(sql, @"\bGROUP\s+BY\b(.*?)(\bHAVING\b|\bORDER\s+BY\b|\bLIMIT\b|$)", RegexOptions.IgnoreCase | RegexOptions.Singleline | RegexOptions.CultureInvariant);
        if (!group.Success || Regex.IsMatch(sql, @"\bORDER\s+BY\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant))
        {
            return true;
        }

        var depth = 0;
        var items = 1;
        foreach (var c in group.Groups[1].Value)
        {
            depth += c == '(' ? 1 : c == ')' ? -1 : 0;
            items += c == ',' && depth == 0 ? 1 : 0;
        }

        var onlyWindow = items == 1 && Regex.IsMatch(group.Groups[1].Value, @"^\s*\w*window\s*\(", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        return onlyWindow;
    }

    /// <summary>The first arrival time of the first stream the SQL names (eKuiper's driver starts its clock there), else of any stream.</summary>
    private static long StartTime(ConformanceCase conformanceCase)
    {
        string? first = null;
        try
        {
            first = EdgeSql.SourcesOf(conformanceCase.Sql) is [var name, ..] ? name : null;
        }
        catch (SqlException)
        {
            // The replay reports the SQL error; any start time will do.
        }

        var stream = conformanceCase.Streams.FirstOrDefault(s => string.Equals(s.Name, first, StringComparison.OrdinalIgnoreCase) && s.Events.Count > 0)
            ?? conformanceCase.Streams.FirstOrDefault(s => s.Events.Count > 0);
        return stream?.Events[0].Timestamp ?? 0;
    }

    /// <summary>A case event's JSON object as plain values: integers as long, other numbers as double, <c>{"$base64": …}</c> as bytes.</summary>
    private static Dictionary<string, object?> EventFields(string json)
    {
        using var document = System.Text.Json.JsonDocument.Parse(json);
        return (Dictionary<string, object?>)Plain(document.RootElement)!;

        static object? Plain(System.Text.Json.JsonElement element) => element.ValueKind switch
        {
            System.Text.Json.JsonValueKind.Object when element.EnumerateObject().ToArray() is [{ Name: "$base64" } only] => Convert.FromBase64String(only.Value.GetString()!),
            System.Text.Json.JsonValueKind.Object => element.EnumerateObject().ToDictionary(p => p.Name, p => Plain(p.Value), StringComparer.Ordinal),
            System.Text.Json.JsonValueKind.Array => element.EnumerateArray().Select(Plain).ToArray(),
            System.Text.Json.JsonValueKind.String => element.GetString(),
            System.Text.Json.JsonValueKind.Number => element.TryGetInt64(out var l) ? l : element.GetDouble(),
            System.Text.Json.JsonValueKind.True => true,
            System.Text.Json.JsonValueKind.False => false,
            _ => null,
        };
    }
}
