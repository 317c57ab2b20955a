using System.Text.Json;

namespace EdgeStream.Testing;

/// <summary>
/// One replayable case: stream declarations with their events, a rule's SQL and options, and the emissions the
/// rule must produce. The format is the one of EdgeStream's conformance corpus (derived from eKuiper's rule tests);
/// unknown fields are ignored.
/// </summary>
public sealed class ConformanceCase
{
    private ConformanceCase(string name, string sql, IReadOnlyList<CaseSource> streams, CaseOptions options, JsonElement expected, string? deviation, IReadOnlyDictionary<string, long> expectedMetrics)
    {
        ExpectedMetrics = expectedMetrics;
        Deviation = deviation;
        Name = name;
        Sql = sql;
        Streams = streams;
        Options = options;
        Expected = expected;
    }

    /// <summary>The case's unique name.</summary>
    public string Name { get; }

    /// <summary>The rule's SELECT statement.</summary>
    public string Sql { get; }

    /// <summary>The streams and tables, in the order the case declares them.</summary>
    public IReadOnlyList<CaseSource> Streams { get; }

    /// <summary>The rule options that change results.</summary>
    public CaseOptions Options { get; }

    /// <summary>The expected emissions: a JSON array with one array of row objects per sink emission.</summary>
    public JsonElement Expected { get; }

    /// <summary>
    /// The rule's expected metrics after the replay, with eKuiper's names (the case's <c>"expectedMetrics"</c>);
    /// <c>process_latency_us</c> values are lower bounds. Empty when the case gives none.
    /// </summary>
    public IReadOnlyDictionary<string, long> ExpectedMetrics { get; }

    /// <summary>
    /// When set (the case's <c>"deviation"</c> field), why EdgeStream deliberately gives other results than the
    /// expected ones; a failing replay then counts as a recorded deviation rather than a failure.
    /// </summary>
    public string? Deviation { get; }

    /// <summary>Reads a case file.</summary>
    /// <param name="path">The JSON file.</param>
    /// <returns>The case.</returns>
    /// <exception cref="FormatException">The file is not a valid case.</exception>
    public static ConformanceCase Load(string path) => Parse(File.ReadAllText(path), Path.GetFileNameWithoutExtension(path));

    /// <summary>Parses a case from its JSON text.</summary>
    /// <param name="json">The case document.</param>
    /// <param name="fallbackName">The name to use when the document has none.</param>
    /// <returns>The case.</returns>
    /// <exception cref="FormatException">The text is not a valid case.</exception>
    public static ConformanceCase Parse(string json, string fallbackName = "case")
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            var name = root.TryGetProperty("name", out var n) ? n.GetString() ?? fallbackName : fallbackName;
            var streams = new List<CaseSource>();
            foreach (var s in root.GetProperty("streams").EnumerateObject())
            {
                var events = new List<CaseEvent>();
                if (s.Value.TryGetProperty("events", out var list))
                {
                    foreach (var e in list.EnumerateArray())
                    {
                        events.Add(new CaseEvent(e.GetProperty("ts").GetInt64(), e.GetProperty("data").GetRawText()));
                    }
                }

                var kind = s.Value.TryGetProperty("kind", out var k) ? k.GetString() : null;
                streams.Add(new CaseSource(s.Name, s.Value.GetProperty("ddl").GetString()!, events, kind)
                {
                    TableRows = s.Value.TryGetProperty("rows", out var rows) && rows.ValueKind == JsonValueKind.Array ? rows.GetRawText() : null,
                });
            }

            var options = root.TryGetProperty("options", out var o) && o.ValueKind == JsonValueKind.Object ? o : default;
            bool Flag(string key) => options.ValueKind == JsonValueKind.Object && options.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.True;
            long Number(string key) => options.ValueKind == JsonValueKind.Object && options.TryGetProperty(key, out var v) && v.TryGetInt64(out var l) ? l : 0;
            var caseOptions = new CaseOptions(Flag("sendError"), Flag("isEventTime"), Number("lateTolerance"))
            {
                Qos = (int)Number("qos"),
                CheckpointInterval = options.ValueKind == JsonValueKind.Object && options.TryGetProperty("checkpointInterval", out var interval)
                    ? Interval(interval)
                    : null,
            };
            var deviation = root.TryGetProperty("deviation", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
            var metrics = new Dictionary<string, long>(StringComparer.Ordinal);
            if (root.TryGetProperty("expectedMetrics", out var m) && m.ValueKind == JsonValueKind.Object)
            {
                foreach (var metric in m.EnumerateObject())
                {
                    metrics[metric.Name] = metric.Value.GetInt64();
                }
            }

            CaseCheckpoint? checkpoint = null;
            if (root.TryGetProperty("harness", out var harness) && harness.ValueKind == JsonValueKind.Object
                && harness.TryGetProperty("checkpoint", out var c) && c.ValueKind == JsonValueKind.Object)
            {
                checkpoint = new CaseCheckpoint(c.GetProperty("pauseAfterEvents").GetInt32(), c.GetProperty("completedCheckpointsAtPause").GetInt32())
                {
                    ReplayGapMs = c.TryGetProperty("replayGapMs", out var gap) ? gap.GetInt32() : CaseCheckpoint.TimeLeapMs,
                };
            }

            return new ConformanceCase(name, root.GetProperty("sql").GetString()!, streams, caseOptions, root.GetProperty("expected").Clone(), deviation, metrics)
            {
                Checkpoint = checkpoint,
            };
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new FormatException($"not a conformance case: {e.Message}", e);
        }
    }

    /// <summary>The checkpoint/restart procedure the case asks for (its <c>harness.checkpoint</c>); null for none.</summary>
    public CaseCheckpoint? Checkpoint { get; private init; }

    /// <summary>A duration as eKuiper's rule JSON writes it: milliseconds, or text such as <c>"600ms"</c>, <c>"5s"</c>.</summary>
    private static TimeSpan? Interval(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number => TimeSpan.FromMilliseconds(value.GetInt64()),
        JsonValueKind.String when value.GetString() is { } text && text.EndsWith("ms", StringComparison.Ordinal) => TimeSpan.FromMilliseconds(long.Parse(text[..^2], System.Globalization.CultureInfo.InvariantCulture)),
        JsonValueKind.String when value.GetString() is { } text && text.EndsWith('s') => TimeSpan.FromSeconds(long.Parse(text[..^1], System.Globalization.CultureInfo.InvariantCulture)),
        JsonValueKind.String when value.GetString() is { } text && text.EndsWith('m') => TimeSpan.FromMinutes(long.Parse(text[..^1], System.Globalization.CultureInfo.InvariantCulture)),
        _ => throw new FormatException($"checkpointInterval `{value.GetRawText()}` is not a duration"),
    };

    /// <inheritdoc />
    public override string ToString() => Name;
}

/// <summary>A stream (or table) of a case: its declaration and its events (named for what it is, a source of the rule).</summary>
public sealed class CaseSource
{
    /// <summary>Creates a stream of a case.</summary>
    /// <param name="name">The stream's name.</param>
    /// <param name="ddl">Its <c>CREATE STREAM</c> / <c>CREATE TABLE</c>.</param>
    /// <param name="events">Its events in the case's order.</param>
    /// <param name="kind">For tables, how the case feeds them (<c>scan_table</c>, <c>lookup_file_table</c>); else null.</param>
    public CaseSource(string name, string ddl, IReadOnlyList<CaseEvent> events, string? kind)
    {
        Name = name;
        Ddl = ddl;
        Events = events;
        Kind = kind;
    }

    /// <summary>The stream's name.</summary>
    public string Name { get; }

    /// <summary>Its <c>CREATE STREAM</c> / <c>CREATE TABLE</c>.</summary>
    public string Ddl { get; }

    /// <summary>Its events in the case's order.</summary>
    public IReadOnlyList<CaseEvent> Events { get; }

    /// <summary>For tables, how the case feeds them (<c>scan_table</c>, <c>lookup_file_table</c>); else null.</summary>
    public string? Kind { get; }

    /// <summary>A lookup table's rows, a JSON array, all present before the first event; null when the case gives none.</summary>
    public string? TableRows { get; init; }
}

/// <summary>An event of a case.</summary>
public sealed class CaseEvent
{
    /// <summary>Creates an event.</summary>
    /// <param name="timestamp">Arrival time, Unix milliseconds on the case's clock.</param>
    /// <param name="json">The payload, a JSON object.</param>
    public CaseEvent(long timestamp, string json)
    {
        Timestamp = timestamp;
        Json = json;
    }

    /// <summary>Arrival time, Unix milliseconds on the case's clock.</summary>
    public long Timestamp { get; }

    /// <summary>The payload, a JSON object.</summary>
    public string Json { get; }
}

/// <summary>The options of a case that change results.</summary>
public sealed class CaseOptions
{
    /// <summary>Creates case options.</summary>
    /// <param name="sendError">eKuiper's <c>sendError</c>.</param>
    /// <param name="isEventTime">eKuiper's <c>isEventTime</c>.</param>
    /// <param name="lateTolerance">eKuiper's <c>lateTolerance</c>, ms.</param>
    public CaseOptions(bool sendError, bool isEventTime, long lateTolerance)
    {
        SendError = sendError;
        IsEventTime = isEventTime;
        LateTolerance = lateTolerance;
    }

    /// <summary>eKuiper's <c>sendError</c>: runtime errors become <c>{"error": …}</c> rows.</summary>
    public bool SendError { get; }

    /// <summary>eKuiper's <c>isEventTime</c>.</summary>
    public bool IsEventTime { get; }

    /// <summary>eKuiper's <c>lateTolerance</c>, ms.</summary>
    public long LateTolerance { get; }

    /// <summary>eKuiper's <c>qos</c> (0 when the case gives none).</summary>
    public int Qos { get; init; }

    /// <summary>eKuiper's <c>checkpointInterval</c>; null when the case gives none.</summary>
    public TimeSpan? CheckpointInterval { get; init; }
}

/// <summary>
/// A case's checkpoint/restart procedure: send the first <see cref="PauseAfterEvents"/> events, wait until
/// <see cref="CompletedCheckpointsAtPause"/> checkpoints have completed, stop the rule, start it again from its last
/// checkpoint (the mock source rewinding to the position that checkpoint covers), and send the rest; only the
/// emissions after the restart are compared.
/// </summary>
public sealed class CaseCheckpoint
{
    /// <summary>Creates the procedure.</summary>
    /// <param name="pauseAfterEvents">Events sent before the stop.</param>
    /// <param name="completedCheckpointsAtPause">Checkpoints that must have completed before the stop.</param>
    public CaseCheckpoint(int pauseAfterEvents, int completedCheckpointsAtPause)
    {
        PauseAfterEvents = pauseAfterEvents;
        CompletedCheckpointsAtPause = completedCheckpointsAtPause;
    }

    /// <summary>Events sent before the stop.</summary>
    public int PauseAfterEvents { get; }

    /// <summary>Checkpoints that must have completed before the stop.</summary>
    public int CompletedCheckpointsAtPause { get; }

    /// <summary>eKuiper's mock-source <c>TIMELEAP</c>: 200 ms, the default <see cref="ReplayGapMs"/>.</summary>
    public const int TimeLeapMs = 200;

    /// <summary>
    /// Mock time (ms) between a replayed event whose time has passed and the event sent before it (the case's
    /// <c>harness.checkpoint.replayGapMs</c>); <see cref="TimeLeapMs"/> unless the case says otherwise.
    /// </summary>
    public int ReplayGapMs { get; init; } = TimeLeapMs;
}
