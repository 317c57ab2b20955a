namespace EdgeStream.Runtime;

/// <summary>Starts the engine's long-running tasks (rule loops, sink and source runners) and counts those alive, for leak checks.</summary>
internal static class EngineTasks
{
    private static int live;

    /// <summary>Engine tasks started and not yet finished, across all engines in the process.</summary>
    public static int Live => Volatile.Read(ref live);

    public static Task Run(Func<Task> work)
    {
        Interlocked.Increment(ref live);
        return Task.Run(async () =>
        {
            try
            {
                await work().ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref live);
            }
        });
    }
}
