namespace EdgeStream;

/// <summary>
/// Bounds on what one input may cost, so that hostile or broken data fails alone instead of taking the host's memory
/// or time. An event over a bound is an error of its own (counted in the rule's metrics, reported, and sent to
/// <see cref="EdgeStreamEngine.DeadLetterTopic"/> with its payload); the rule goes on. The defaults suit an edge
/// gateway; raise them for a host that expects bigger data.
/// </summary>
public sealed class EdgeStreamLimits
{
    /// <summary>The largest payload a stream decodes, in bytes (4 MiB by default).</summary>
    public int MaxPayloadBytes { get; set; } = 4 << 20;

    /// <summary>How deep objects and arrays may nest in a payload (64 by default).</summary>
    public int MaxNestingDepth { get; set; } = 64;

    /// <summary>The longest string a payload may hold, in characters (1 Mi by default).</summary>
    public int MaxStringLength { get; set; } = 1 << 20;

    /// <summary>
    /// How many events one window may hold before it fires (1,000,000 by default): a further event is refused until
    /// the window fires. An aggregating window holds no events, only its groups (see <see cref="MaxGroupsPerRule"/>).
    /// </summary>
    public int MaxEventsPerWindow { get; set; } = 1_000_000;

    /// <summary>
    /// How many GROUP BY groups a rule may keep at once (100,000 by default): in one pane of an aggregating window,
    /// or in all for GROUP BY without a window. An event that would open one more group is refused.
    /// </summary>
    public int MaxGroupsPerRule { get; set; } = 100_000;

    /// <summary>
    /// How long one <c>LIKE</c> or regular-expression match (<c>regexp_matches</c>, <c>regexp_replace</c>,
    /// <c>regexp_substr</c>) may take (1 s by default); a longer one fails its row. The regular expressions are
    /// linear-time already (no catastrophic backtracking): this bounds huge inputs. The <c>=~</c> filters of
    /// <c>json_path</c> keep the default.
    /// </summary>
    public TimeSpan MatchTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The limits as the engine applies them, checked.</summary>
    internal Runtime.InputLimits Snapshot()
    {
        Positive(MaxPayloadBytes, nameof(MaxPayloadBytes));
        Positive(MaxNestingDepth, nameof(MaxNestingDepth));
        Positive(MaxStringLength, nameof(MaxStringLength));
        Positive(MaxEventsPerWindow, nameof(MaxEventsPerWindow));
        Positive(MaxGroupsPerRule, nameof(MaxGroupsPerRule));
        if (MatchTimeout <= TimeSpan.Zero || MatchTimeout > TimeSpan.FromDays(24))
        {
            throw new ArgumentOutOfRangeException(nameof(MatchTimeout), MatchTimeout, "EdgeStreamLimits.MatchTimeout must be positive and at most 24 days");
        }

        return new(MaxPayloadBytes, MaxNestingDepth, MaxStringLength, MaxEventsPerWindow, MaxGroupsPerRule, MatchTimeout);
    }

    private static void Positive(int value, string name)
    {
        if (value <= 0)
        {
            throw new ArgumentOutOfRangeException(name, value, $"EdgeStreamLimits.{name} must be positive");
        }
    }
}
