namespace EdgeStream;

/// <summary>Options of an <see cref="EdgeStreamEngine"/>.</summary>
public sealed class EdgeStreamEngineOptions
{
    /// <summary>The clock of every rule: event timestamps, windows and timers. Tests inject a fake one.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// How long <see cref="EdgeStreamEngine.DisposeAsync"/> lets rules and sinks finish what they hold (30 s by default).
    /// Rows still undelivered then — a sink that stays down — are counted and logged as not delivered.
    /// </summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The zone whose wall clock aligns <c>hh</c> and <c>dd</c> windows (a day window ends at its midnight, also on the
    /// 23- and 25-hour days of a daylight-saving change). Defaults to the host's zone, as eKuiper.
    /// </summary>
    public TimeZoneInfo TimeZone { get; set; } = TimeZoneInfo.Local;

    /// <summary>
    /// Tests only: run every window over its rows when it fires, never aggregating as rows arrive, so the two ways can
    /// be compared (the differential tests).
    /// </summary>
    internal bool GeneralWindowsOnly { get; set; }

    /// <summary>Where the engine and the <c>log</c> sink write; nothing is logged when null.</summary>
    public Microsoft.Extensions.Logging.ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>
    /// The store <c>get_keyed_state(key, type, default)</c> reads; null (the default) for none, when every call gets
    /// its default. <see cref="InMemoryKeyedStateStore"/> is a ready one.
    /// </summary>
    public IKeyedStateStore? KeyedState { get; set; }

    /// <summary>
    /// Where rules with <see cref="RuleOptions.Qos"/> 1 or 2 save their checkpoints, under the keys
    /// <c>checkpoint/{rule id}</c>; null (the default) for none. <c>SqliteStateStore</c> (package
    /// <c>EdgeStream.State.Sqlite</c>) keeps them in a file that survives the process; a rule created again with the
    /// same id and statement in a new process resumes from its last checkpoint.
    /// </summary>
    public State.IStateStore? StateStore { get; set; }

    /// <summary>
    /// Also keep the streams, tables and rules in <see cref="StateStore"/> (keys <c>stream/{name}</c> and
    /// <c>rule/{id}</c>, the rule in eKuiper's rule JSON with <c>triggered</c> saying whether it runs), so that
    /// <see cref="EdgeStreamEngine.RestoreDefinitionsAsync"/> in the next process gets them back: running rules run
    /// again (from their checkpoints), stopped ones stay stopped. Default false: the host declares them itself.
    /// </summary>
    public bool PersistDefinitions { get; set; }

    /// <summary>
    /// Bounds on payload size, nesting, string length, events per window, groups per rule and match time; an input
    /// over one fails alone (see <see cref="EdgeStreamLimits"/> for the defaults).
    /// </summary>
    public EdgeStreamLimits Limits { get; set; } = new();
}
