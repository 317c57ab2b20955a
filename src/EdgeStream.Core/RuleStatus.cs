namespace EdgeStream;

/// <summary>Whether a rule runs.</summary>
public enum RuleState
{
    /// <summary>Created and not running (never started, or stopped).</summary>
    Stopped = 0,

    /// <summary>Running.</summary>
    Running,

    /// <summary>Stopped because it failed; <see cref="RuleStatus.LastError"/> says why.</summary>
    StoppedByError,
}

/// <summary>A snapshot of a rule's state and counters.</summary>
public sealed class RuleStatus
{
    internal RuleStatus(string id, RuleState state, long recordsIn, long recordsOut, long errors, string? lastError, IReadOnlyList<string> warnings, IReadOnlyDictionary<string, long>? metrics = null, IReadOnlyDictionary<string, string>? lastExceptions = null)
    {
        LastExceptions = lastExceptions ?? new Dictionary<string, string>();
        Metrics = metrics ?? new Dictionary<string, long>();
        Warnings = warnings;
        Id = id;
        State = state;
        RecordsIn = recordsIn;
        RecordsOut = recordsOut;
        Errors = errors;
        LastError = lastError;
    }

    /// <summary>The same status with its texts (last error, warnings, last exceptions) passed through <paramref name="scrub"/>.</summary>
    internal RuleStatus WithTexts(Func<string?, string?> scrub) =>
        new(Id, State, RecordsIn, RecordsOut, Errors, scrub(LastError), [.. Warnings.Select(w => scrub(w)!)], Metrics,
            LastExceptions.ToDictionary(e => e.Key, e => scrub(e.Value)!, StringComparer.Ordinal));

    /// <summary>The same status with other metrics.</summary>
    internal RuleStatus WithMetrics(IReadOnlyDictionary<string, long> metrics) =>
        new(Id, State, RecordsIn, RecordsOut, Errors, LastError, Warnings, metrics, LastExceptions);

    /// <summary>The rule's id.</summary>
    public string Id { get; }

    /// <summary>Whether it runs.</summary>
    public RuleState State { get; }

    /// <summary>Events received from the rule's source.</summary>
    public long RecordsIn { get; }

    /// <summary>Result rows sent to the rule's sinks.</summary>
    public long RecordsOut { get; }

    /// <summary>Events and rows that failed (undecodable input, runtime errors in expressions).</summary>
    public long Errors { get; }

    /// <summary>The last error's message, if any.</summary>
    public string? LastError { get; }

    /// <summary>
    /// Counters per logical operator with eKuiper's metric names, since the rule last started:
    /// <c>source_{stream}_0_records_in_total</c>, <c>op_2_filter_0_records_out_total</c>,
    /// <c>op_3_project_0_exceptions_total</c>, <c>sink_{type}_{index}_0_records_out_total</c>, each operator's
    /// <c>process_latency_us</c> (the latest event's), and <c>source_{stream}_0_dropped_total</c> (events dropped by the
    /// <c>dropOldest</c> buffer policy). Sinks run by the engine's sink runner add <c>rows_out_total</c> (rows written;
    /// <c>records_out_total</c> counts messages, as eKuiper does), <c>batches_total</c>, <c>retries_total</c>,
    /// <c>buffer_length</c> (messages waiting) and <c>rows_waiting</c> (rows taken and not yet written, a batch being
    /// retried included). Adjacent operators run fused in one stage but keep their own counters.
    /// </summary>
    public IReadOnlyDictionary<string, long> Metrics { get; }

    /// <summary>
    /// Each operator's last failure, as eKuiper's <c>{operator}_last_exception</c> (so far sinks': a refused or failed
    /// open or write, such as <c>sink_mysql_0_0_last_exception</c>); its time, in Unix milliseconds, is in
    /// <see cref="Metrics"/> under <c>{operator}_last_exception_time</c>. Messages never carry secrets.
    /// </summary>
    public IReadOnlyDictionary<string, string> LastExceptions { get; }

    /// <summary>What the rule's definition asks for that this version accepts but does not apply yet (options, sink properties).</summary>
    public IReadOnlyList<string> Warnings { get; }
}
