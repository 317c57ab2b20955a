using EdgeStream.Abstractions;

namespace EdgeStream.Runtime;

/// <summary>
/// Event time's reorder buffer (eKuiper's watermark operator): rows wait here sorted by event time; the watermark is
/// the least, over the rule's sources, of the greatest event time each has sent, minus the late tolerance (no
/// watermark until every source has sent a row); a row older than the watermark is late and refused; rows at
/// or before the watermark are released in event-time order (ties in arrival order).
/// </summary>
/// <remarks>
/// eKuiper's watermark moves only when a row arrives, so the last rows wait until more data comes, and one silent
/// stream of a join holds it back for good. With an idle timeout (the rule option <c>watermarkIdleTimeout</c>), a
/// stream quiet for that long no longer holds the watermark back (<see cref="Refresh"/>), and when every stream is
/// quiet <see cref="AdvanceIdle"/> moves it on with the clock, as if event time had passed with it.
/// </remarks>
/// <param name="lateTolerance">How far behind the newest event time the watermark stays, ms.</param>
/// <param name="counted">For each source of the rule, whether it moves the watermark (streams do; tables do not).</param>
/// <param name="idleTimeout">How long a stream may be quiet before it stops holding the watermark back, ms; 0 for never (eKuiper).</param>
/// <param name="start">When the rule started (the clock, ms): a stream that has sent nothing is quiet since then.</param>
internal sealed class Watermark(long lateTolerance, bool[] counted, long idleTimeout = 0, long start = 0)
{
    private readonly PriorityQueue<Row, (long Time, long Order)> buffer = new();
    private readonly long[] maxSeen = Array.ConvertAll(counted, c => c ? long.MinValue : long.MaxValue);
    private readonly long[] lastArrival = Array.ConvertAll(counted, _ => start);
    private long order;

    /// <summary>The current watermark (Unix ms); <see cref="long.MinValue"/> before the first row.</summary>
    public long Current { get; private set; } = long.MinValue;

    /// <summary>How many rows wait for the watermark.</summary>
    public int Waiting => buffer.Count;

    /// <summary>The rows waiting, in no particular order (dead-lettered if the rule fails).</summary>
    public IEnumerable<Row> Held => buffer.UnorderedItems.Select(i => i.Element);

    /// <summary>Takes a row with its event time, arriving at <paramref name="now"/> (the clock); false when it is late (older than the watermark), and then it is not kept.</summary>
    public bool Offer(Row row, long time, long now = 0)
    {
        if (time < Current)
        {
            return false;
        }

        buffer.Enqueue(row, (time, order++));
        lastArrival[row.Source] = now;
        if (time > maxSeen[row.Source])
        {
            maxSeen[row.Source] = time;
            Refresh(now);
        }

        return true;
    }

    /// <summary>
    /// Recomputes the watermark from the streams that hold it back: all of them, or with an idle timeout those that
    /// sent a row within it. False when it did not move.
    /// </summary>
    public bool Refresh(long now)
    {
        var least = long.MaxValue;
        var active = 0;
        for (var i = 0; i < maxSeen.Length; i++)
        {
            if (!counted[i] || (idleTimeout > 0 && now - lastArrival[i] >= idleTimeout))
            {
                continue;
            }

            active++;
            least = Math.Min(least, maxSeen[i]);
        }

        if (active == 0 || least == long.MinValue)
        {
            return false;
        }

        var next = SaturatingSubtract(least, lateTolerance);
        if (next <= Current)
        {
            return false;
        }

        Current = next;
        return true;
    }

    /// <summary>When the next stream becomes quiet (its last row plus the idle timeout); <see cref="long.MaxValue"/> without a timeout.</summary>
    public long NextIdleAt(long now)
    {
        if (idleTimeout <= 0)
        {
            return long.MaxValue;
        }

        var next = long.MaxValue;
        for (var i = 0; i < lastArrival.Length; i++)
        {
            if (counted[i] && lastArrival[i] + idleTimeout > now)
            {
                next = Math.Min(next, lastArrival[i] + idleTimeout);
            }
        }

        return next;
    }

    /// <summary>Moves the watermark to at least <paramref name="time"/> (an idle source's clock); false when it did not move.</summary>
    public bool AdvanceIdle(long time)
    {
        if (time <= Current)
        {
            return false;
        }

        Current = time;
        return true;
    }

    /// <summary>Writes the buffer, the newest times seen and the watermark, for a rule snapshot.</summary>
    public void Save(RuleStateWriter writer)
    {
        writer.Write(Current);
        writer.Write(order);
        writer.Write(maxSeen.Length);
        foreach (var max in maxSeen)
        {
            writer.Write(max);
        }

        writer.Write(buffer.Count);
        foreach (var (row, (time, rank)) in buffer.UnorderedItems)
        {
            writer.Write(row);
            writer.Write(time);
            writer.Write(rank);
        }
    }

    /// <summary>Replaces the state with one <see cref="Save"/> wrote.</summary>
    public void Load(RuleStateReader reader)
    {
        Current = reader.ReadLong();
        order = reader.ReadLong();
        var sources = reader.ReadInt();
        for (var i = 0; i < sources; i++)
        {
            var max = reader.ReadLong();
            if (i < maxSeen.Length)
            {
                maxSeen[i] = max;
            }
        }

        buffer.Clear();
        for (var i = reader.ReadInt(); i > 0; i--)
        {
            var row = reader.ReadRow();
            var time = reader.ReadLong();
            buffer.Enqueue(row, (time, reader.ReadLong()));
        }
    }

    /// <summary>The input has ended: the watermark moves to the newest event time seen, so every waiting row is released.</summary>
    public void Finish()
    {
        var newest = maxSeen.Where(m => m != long.MaxValue).DefaultIfEmpty(long.MinValue).Max();
        Current = Math.Max(Current, newest);
    }

    /// <summary>The next row at or before the watermark, with its event time.</summary>
    public bool TryRelease(out Row row, out long time)
    {
        if (buffer.TryPeek(out var next, out var key) && key.Time <= Current)
        {
            buffer.Dequeue();
            (row, time) = (next, key.Time);
            return true;
        }

        (row, time) = (null!, 0);
        return false;
    }

    private static long SaturatingSubtract(long value, long amount) => value < long.MinValue + amount ? long.MinValue : value - amount;
}
