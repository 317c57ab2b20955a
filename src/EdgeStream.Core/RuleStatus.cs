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
    internal RuleStatus(string id, RuleState state, long recordsIn, long recordsOut, long errors, string? lastError, IReadOnlyList<string> warnings)
    {
        Warnings = warnings;
        Id = id;
        State = state;
        RecordsIn = recordsIn;
        RecordsOut = recordsOut;
        Errors = errors;
        LastError = lastError;
    }

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

    /// <summary>What the rule's definition asks for that this version accepts but does not apply yet (options, sink properties).</summary>
    public IReadOnlyList<string> Warnings { get; }
}
