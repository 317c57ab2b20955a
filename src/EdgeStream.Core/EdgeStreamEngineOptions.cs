namespace EdgeStream;

/// <summary>Options of an <see cref="EdgeStreamEngine"/>.</summary>
public sealed class EdgeStreamEngineOptions
{
    /// <summary>The clock of every rule: event timestamps, windows and timers. Tests inject a fake one.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
