namespace EdgeStream.Tests.Support;

/// <summary>Moving a <see cref="ClockedRule"/>'s fake clock while the rule's task re-arms its timer behind it.</summary>
internal static class ClockSteps
{
    /// <summary>
    /// Advances the clock in steps of <paramref name="stepMs"/> until <paramref name="done"/> holds or the clock has
    /// reached <paramref name="limit"/>, then waits for <paramref name="done"/>. The rule arms its timer relative to
    /// the clock it last read, so one jump can leave a timer armed just past the new time; small steps fire it anyway.
    /// </summary>
    public static async Task AdvanceUntil(this ClockedRule rule, long limit, Func<bool> done, string what, long stepMs = 100)
    {
        while (!done() && rule.Clock.GetUtcNow().ToUnixTimeMilliseconds() < limit)
        {
            var now = rule.Clock.GetUtcNow().ToUnixTimeMilliseconds();
            rule.Clock.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(Math.Min(limit, now + stepMs)));
            await Task.Delay(1);
        }

        await Wait.Until(done, what);
    }
}
