namespace EdgeStream.Runtime;

/// <summary>
/// Bounds a buffer by rows rather than by messages, so a message carrying a batch of 500 rows weighs 500 and
/// <c>bufferLength</c> means what it says. Writers take credits before enqueueing and wait, first come first served,
/// while too few are free; the reader gives them back once a message is processed. A batch larger than the whole
/// capacity takes all of it (it waits for an empty buffer, never forever).
/// </summary>
internal sealed class RowGate
{
    private readonly Lock gate = new();
    private readonly Queue<Waiter> waiters = new();
    private readonly int capacity;
    private int available;
    private bool closed;

    public RowGate(int capacity) => (this.capacity, available) = (capacity, capacity);

    public int Capacity => capacity;

    /// <summary>How many credits a message of <paramref name="rows"/> rows takes.</summary>
    public int Weight(int rows) => Math.Clamp(rows, 1, capacity);

    /// <summary>Takes credits for <paramref name="rows"/> rows; false when the gate closed (the reader is gone).</summary>
    public ValueTask<bool> WaitAsync(int rows, CancellationToken cancellationToken)
    {
        var weight = Weight(rows);
        Waiter waiter;
        lock (gate)
        {
            if (closed)
            {
                return ValueTask.FromResult(false);
            }

            if (waiters.Count == 0 && available >= weight)
            {
                available -= weight;
                return ValueTask.FromResult(true);
            }

            waiter = new Waiter(weight);
            waiters.Enqueue(waiter);
        }

        return WaitSlowAsync(waiter, cancellationToken);
    }

    private async ValueTask<bool> WaitSlowAsync(Waiter waiter, CancellationToken cancellationToken)
    {
        using (cancellationToken.Register(() => Cancel(waiter, cancellationToken)))
        {
            return await waiter.Completion.Task.ConfigureAwait(false);
        }
    }

    private void Cancel(Waiter waiter, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            if (!waiter.Completion.TrySetCanceled(cancellationToken))
            {
                return; // granted meanwhile: the credits are the caller's, who sees no cancellation
            }

            Grant(); // a cancelled head may have been blocking smaller writers behind it
        }
    }

    /// <summary>Gives back the credits of a processed message of <paramref name="rows"/> rows.</summary>
    public void Release(int rows)
    {
        lock (gate)
        {
            available += Weight(rows);
            Grant();
        }
    }

    /// <summary>No more credits: waiting and later writers get false at once.</summary>
    public void Close()
    {
        lock (gate)
        {
            closed = true;
            while (waiters.TryDequeue(out var waiter))
            {
                waiter.Completion.TrySetResult(false);
            }
        }
    }

    private void Grant()
    {
        while (waiters.TryPeek(out var next))
        {
            if (next.Completion.Task.IsCompleted)
            {
                waiters.Dequeue(); // cancelled
                continue;
            }

            if (available < next.Weight)
            {
                return;
            }

            waiters.Dequeue();
            available -= next.Weight;
            next.Completion.TrySetResult(true);
        }
    }

    private sealed class Waiter(int weight)
    {
        public int Weight { get; } = weight;

        public TaskCompletionSource<bool> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
