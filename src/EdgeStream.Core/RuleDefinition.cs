namespace EdgeStream;

/// <summary>
/// A rule: one SELECT statement over declared streams, and the actions (sinks) its results go to.
/// The shape follows eKuiper's rule JSON (<c>id</c>, <c>sql</c>, <c>actions</c>, <c>options</c>, <c>triggered</c>).
/// </summary>
public sealed class RuleDefinition
{
    /// <summary>Creates a rule definition.</summary>
    /// <param name="id">The rule's unique id.</param>
    /// <param name="sql">The SELECT statement.</param>
    public RuleDefinition(string id, string sql)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        ArgumentException.ThrowIfNullOrWhiteSpace(sql);
        Id = id;
        Sql = sql;
    }

    /// <summary>The rule's unique id.</summary>
    public string Id { get; }

    /// <summary>The SELECT statement.</summary>
    public string Sql { get; }

    /// <summary>Where results go, in order; each names a sink type and its properties.</summary>
    public IList<RuleAction> Actions { get; } = [];

    /// <summary>Rule options (eKuiper's <c>options</c>).</summary>
    public RuleOptions Options { get; } = new();

    /// <summary>Whether the rule starts as soon as it is created (eKuiper's <c>triggered</c>, default true).</summary>
    public bool Triggered { get; set; } = true;

    /// <summary>
    /// The eKuiper rule options given in the rule JSON that this version accepts but does not apply yet
    /// (<c>qos</c>, <c>checkpointInterval</c>…), so a caller can warn about them. Empty for rules built in code.
    /// </summary>
    public IReadOnlyList<string> UnsupportedOptions { get; internal set; } = [];

    /// <summary>
    /// Reads eKuiper's rule JSON: <c>{"id": "r1", "sql": "SELECT …", "actions": [{"memory": {"topic": "out"}}],
    /// "options": {"sendError": true}, "triggered": true}</c>. Every option name eKuiper documents is accepted;
    /// those not applied yet are listed in <see cref="UnsupportedOptions"/>. Action property values that are not
    /// strings are kept as their JSON text.
    /// </summary>
    /// <param name="json">The rule JSON.</param>
    /// <returns>The rule definition.</returns>
    /// <exception cref="FormatException">The JSON is malformed, lacks <c>id</c> or <c>sql</c>, or names a property or
    /// option eKuiper does not know (the message names the closest known one).</exception>
    public static RuleDefinition FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return RuleJson.Parse(json);
    }
}

/// <summary>One action of a rule: a sink type (<c>memory</c>, <c>nop</c>…) and its properties.</summary>
public sealed class RuleAction
{
    /// <summary>Creates an action.</summary>
    /// <param name="sinkType">The registered sink type, e.g. <c>memory</c>.</param>
    /// <param name="properties">The sink's properties, e.g. <c>topic</c> for <c>memory</c>.</param>
    public RuleAction(string sinkType, IReadOnlyDictionary<string, string>? properties = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sinkType);
        SinkType = sinkType;
        Properties = properties ?? new Dictionary<string, string>();
    }

    /// <summary>The registered sink type.</summary>
    public string SinkType { get; }

    /// <summary>The sink's properties.</summary>
    public IReadOnlyDictionary<string, string> Properties { get; }
}

/// <summary>Rule options, with eKuiper's names and defaults.</summary>
public sealed class RuleOptions
{
    /// <summary>Send runtime errors to the sinks as <c>{"error": "…"}</c> rows (eKuiper's <c>sendError</c>, default false).
    /// Errors are counted in the rule status either way.</summary>
    public bool SendError { get; set; }

    /// <summary>Keep null columns in result rows (eKuiper's <c>sendNilField</c>, default false: null columns are left out).</summary>
    public bool SendNilField { get; set; }

    /// <summary>
    /// Give each result row the metadata of the event it came from (eKuiper's <c>sendMetaToSink</c>, default false),
    /// as an object under the column <c>__meta</c> — what a source passed with the event (a topic, a partition…).
    /// Sinks see it like any column: <c>{{.__meta.topic}}</c> in a <c>dataTemplate</c>, or drop it with
    /// <c>excludeFields</c>. Events without metadata get no such column.
    /// </summary>
    public bool SendMetaToSink { get; set; }

    /// <summary>How many messages may wait between stages (eKuiper's <c>bufferLength</c>, default 1024).
    /// A full buffer slows the writer down (see <see cref="DropOldestWhenFull"/>).</summary>
    public int BufferLength { get; set; } = 1024;

    /// <summary>
    /// How many tasks process the rule's events in parallel (eKuiper's <c>concurrency</c>, default 1). Above 1, results
    /// may leave in a different order than events arrived; each task has its own evaluation state. A rule that keeps
    /// state between events (a window, event time, a join, analytic functions, GROUP BY without a window) runs on one
    /// task whatever this says.
    /// </summary>
    public int Concurrency { get; set; } = 1;

    /// <summary>
    /// When the rule's input buffer is full, drop the oldest waiting event instead of making the source wait
    /// (rule JSON: <c>"bufferFullPolicy": "dropOldest"</c>; default <c>"block"</c>). Every drop is counted in the
    /// status metric <c>source_{stream}_0_dropped_total</c>. eKuiper always drops; EdgeStream blocks unless asked.
    /// </summary>
    public bool DropOldestWhenFull { get; set; }

    /// <summary>
    /// Run on event time (eKuiper's <c>isEventTime</c>, default false): each row's time is the stream's <c>TIMESTAMP</c>
    /// column, rows are reordered by it behind a watermark, windows close when the watermark passes their end, and a
    /// row older than the watermark is late: counted (<c>op_N_watermark_0_late_total</c>) and sent to
    /// <see cref="EdgeStreamEngine.DeadLetterTopic"/>, never merged into a closed window.
    /// </summary>
    public bool IsEventTime { get; set; }

    /// <summary>How far behind the newest event time the watermark stays (eKuiper's <c>lateTolerance</c>, default 0).</summary>
    public TimeSpan LateTolerance { get; set; }

    /// <summary>
    /// Event time only: a stream that has sent no row for this long stops holding the watermark back (one silent
    /// stream of a join no longer stalls it), and when every stream is quiet the watermark moves on with the clock (by
    /// the quiet time), so the last windows close even when data stops (rule JSON: <c>watermarkIdleTimeout</c>, ms).
    /// Null, the default, keeps eKuiper's behaviour: the watermark moves only when rows arrive.
    /// </summary>
    public TimeSpan? WatermarkIdleTimeout { get; set; }

    /// <summary>
    /// The processing guarantee (eKuiper's <c>qos</c>): 0 at most once (the default: no checkpoints), 1 at least once,
    /// 2 exactly once where the sink is idempotent or transactional (an upsert key, for example). At 1 and 2 the rule's
    /// state (windows, aggregates, analytic functions, tables) is saved to the engine's
    /// <see cref="EdgeStreamEngineOptions.StateStore"/> every <see cref="CheckpointInterval"/>, once its sinks have
    /// every result of the events before the checkpoint, and a rule that starts again (after a stop, a failure or a
    /// restart of the process) resumes from the last one. Without a state store the option has no effect, and the
    /// rule says so in its warnings.
    /// </summary>
    public int Qos { get; set; }

    /// <summary>How often a rule with <see cref="Qos"/> 1 or 2 saves a checkpoint (eKuiper's <c>checkpointInterval</c>, default 5 minutes).</summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How a rule that fails entirely is restarted (eKuiper's <c>restartStrategy</c>).</summary>
    public RestartStrategy RestartStrategy { get; } = new();
}

/// <summary>
/// eKuiper's <c>restartStrategy</c>: after a rule fails entirely (not a bad event, which only counts), it is started
/// again after <see cref="Delay"/>, growing by <see cref="Multiplier"/> up to <see cref="MaxDelay"/>, each delay varied
/// by up to <see cref="JitterFactor"/> either way, at most <see cref="Attempts"/> times.
/// </summary>
public sealed class RestartStrategy
{
    /// <summary>How many restarts to try; 0 (the default) never restarts.</summary>
    public int Attempts { get; set; }

    /// <summary>The first delay (default 1 s).</summary>
    public TimeSpan Delay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How much each delay grows (default 2).</summary>
    public double Multiplier { get; set; } = 2;

    /// <summary>The longest delay (default 30 s).</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How much a delay may randomly vary, as a fraction (default 0.1).</summary>
    public double JitterFactor { get; set; } = 0.1;

    /// <summary>The delay before restart number <paramref name="attempt"/> (from 1), with jitter drawn from <paramref name="random"/>.</summary>
    internal TimeSpan DelayBefore(int attempt, Random random)
    {
        // At most a day: timers take no more than about 49 days, and a rule waiting longer is effectively stopped.
        var ms = Math.Min(Delay.TotalMilliseconds * Math.Pow(Multiplier, attempt - 1), MaxDelay.TotalMilliseconds);
        var jitter = 1 + (JitterFactor * ((random.NextDouble() * 2) - 1));
        return TimeSpan.FromMilliseconds(Math.Clamp(ms * jitter, 0, TimeSpan.FromDays(1).TotalMilliseconds));
    }
}
