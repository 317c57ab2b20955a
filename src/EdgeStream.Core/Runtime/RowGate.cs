using System.Threading.Tasks.Sources;

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

            waiter = pool.TryPop(out var pooled) ? pooled : new Waiter(this);
            waiter.Arm(weight);
            waiters.Enqueue(waiter);
        }

        if (cancellationToken.CanBeCanceled)
        {
            waiter.Registration = cancellationToken.Register(static state => ((Waiter)state!).Cancel(), waiter);
        }

        return new ValueTask<bool>(waiter, waiter.Version);
    }

    /// <summary>Waiters are reused once their result is read: a publisher that waits often allocates nothing.</summary>
    private readonly Stack<Waiter> pool = new();

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
                if (!waiter.Done)
                {
                    waiter.Complete(false, null);
                }
            }
        }
    }

    private void Grant()
    {
        while (waiters.TryPeek(out var next))
        {
            if (next.Done)
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
            next.Complete(true, null);
        }
    }

    /// <summary>One waiting writer, as a reusable value-task source. Completed under the gate's lock.</summary>
    private sealed class Waiter(RowGate owner) : IValueTaskSource<bool>
    {
        private ManualResetValueTaskSourceCore<bool> core = new() { RunContinuationsAsynchronously = true };

        public int Weight { get; private set; }

        public bool Done { get; private set; }

        public CancellationTokenRegistration Registration { get; set; }

        public short Version => core.Version;

        public void Arm(int weight)
        {
            core.Reset();
            Weight = weight;
            Done = false;
        }

        private bool cancelled;

        public void Complete(bool granted, Exception? error)
        {
            Done = true;
            cancelled = error is not null;
            if (error is null)
            {
                core.SetResult(granted);
            }
            else
            {
                core.SetException(error);
            }
        }

        public void Cancel()
        {
            lock (owner.gate)
            {
                if (Done)
                {
                    return; // granted meanwhile: the credits are the caller's, who sees no cancellation
                }

                Complete(false, new OperationCanceledException());
                owner.Grant(); // a cancelled head may have been blocking smaller writers behind it
            }
        }

        public bool GetResult(short token)
        {
            try
            {
                return core.GetResult(token);
            }
            finally
            {
                Registration.Dispose();
                Registration = default;

                // A cancelled waiter may still sit in the queue (Grant skips it later), so only granted or closed ones,
                // already dequeued, are reused.
                if (!cancelled)
                {
                    lock (owner.gate)
                    {
                        owner.pool.Push(this);
                    }
                }
            }
        }

        public ValueTaskSourceStatus GetStatus(short token) => core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            core.OnCompleted(continuation, state, token, flags);
    }
}
