using EdgeStream.Runtime;

namespace EdgeStream.Tests.Runtime;

public sealed class RowGateTests
{
    [Test]
    public async Task Writers_wait_first_come_first_served_until_rows_are_released()
    {
        var gate = new RowGate(4);
        Assert.That(await gate.WaitAsync(3, CancellationToken.None), Is.True);
        var big = gate.WaitAsync(2, CancellationToken.None).AsTask();
        var small = gate.WaitAsync(1, CancellationToken.None).AsTask();
        Assert.That((big.IsCompleted, small.IsCompleted), Is.EqualTo((false, false)), "the small one queues behind the big one");

        gate.Release(3);
        Assert.That(await big.WaitAsync(TimeSpan.FromSeconds(5)), Is.True);
        Assert.That(await small.WaitAsync(TimeSpan.FromSeconds(5)), Is.True);
    }

    [Test]
    public async Task A_batch_larger_than_the_capacity_waits_for_an_empty_buffer_not_forever()
    {
        var gate = new RowGate(4);
        Assert.That(await gate.WaitAsync(1, CancellationToken.None), Is.True);
        var huge = gate.WaitAsync(100, CancellationToken.None).AsTask();
        Assert.That(huge.IsCompleted, Is.False);
        gate.Release(1);
        Assert.That(await huge.WaitAsync(TimeSpan.FromSeconds(5)), Is.True);
        Assert.That(gate.WaitAsync(1, CancellationToken.None).AsTask().IsCompleted, Is.False, "it took the whole capacity");
    }

    [Test]
    public async Task A_cancelled_waiter_stops_blocking_those_behind_it_and_closing_releases_everyone()
    {
        var gate = new RowGate(2);
        Assert.That(await gate.WaitAsync(1, CancellationToken.None), Is.True);
        using var cancel = new CancellationTokenSource();
        var blocked = gate.WaitAsync(2, cancel.Token).AsTask();
        var behind = gate.WaitAsync(1, CancellationToken.None).AsTask();
        await cancel.CancelAsync();
        Assert.That(async () => await blocked, Throws.InstanceOf<OperationCanceledException>());
        Assert.That(await behind.WaitAsync(TimeSpan.FromSeconds(5)), Is.True);

        var waiting = gate.WaitAsync(1, CancellationToken.None).AsTask();
        gate.Close();
        Assert.That(await waiting.WaitAsync(TimeSpan.FromSeconds(5)), Is.False);
        Assert.That(await gate.WaitAsync(1, CancellationToken.None), Is.False);
    }
}
