namespace EdgeStream.Runtime;

/// <summary>The engine's <see cref="EdgeStreamLimits"/>, fixed when the engine is made.</summary>
internal sealed record InputLimits(int MaxPayloadBytes, int MaxNestingDepth, int MaxStringLength, int MaxEventsPerWindow, int MaxGroupsPerRule, TimeSpan MatchTimeout)
{
    /// <summary>The documented defaults.</summary>
    public static InputLimits Default { get; } = new EdgeStreamLimits().Snapshot();
}

/// <summary>
/// An event refused by one of the <see cref="EdgeStreamLimits"/>: it is reported and dead-lettered, and the rule goes on.
/// </summary>
internal sealed class InputLimitException(string message) : Exception(message);

/// <summary>The words of a refusal by a limit, the same wherever it applies.</summary>
internal static class InputLimitMessages
{
    public static string Groups(InputLimits limits) =>
        $"the event would open a group beyond the limit of {limits.MaxGroupsPerRule} groups (EdgeStreamLimits.MaxGroupsPerRule); it is dead-lettered";

    public static string Events(InputLimits limits) =>
        $"the window already holds the limit of {limits.MaxEventsPerWindow} events (EdgeStreamLimits.MaxEventsPerWindow); the event is dead-lettered";
}
