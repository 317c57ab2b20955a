using EdgeStream.Abstractions;

namespace EdgeStream.Runtime;

/// <summary>
/// Event time's reorder buffer (eKuiper's watermark operator): rows wait here sorted by event time; the watermark is
/// the least, over the rule's sources, of the greatest event time each has sent, minus the late tolerance (no
/// watermark until every source has sent a row); a row older than the watermark is late and refused; rows at
/// or before the watermark are released in event-time order (ties in arrival order).
/// </summary>
/// <remarks>
/// eKuiper's watermark moves only when a row arrives, so the last rows wait until more data comes.
/// <see cref="AdvanceIdle"/> lets the rule move it on the clock instead when the source has been quiet for a while
/// (the rule option <c>watermarkIdleTimeout</c>), treating the quiet time as if event time had passed with it.
/// </remarks>
/// <param name="lateTolerance">How far behind the newest event time the watermark stays, ms.</param>
/// <param name="counted">For each source of the rule, whether it moves the watermark (streams do; tables do not).</param>
internal sealed class Watermark(long lateTolerance, bool[] counted)
{
    private readonly PriorityQueue<Row, (long Time, long Order)> buffer = new();
    private readonly long[] maxSeen = Array.ConvertAll(counted, c => c ? long.MinValue : long.MaxValue);
    private long order;

    /// <summary>The current watermark (Unix ms); <see cref="long.MinValue"/> before the first row.</summary>
    public long Current { get; private set; } = long.MinValue;

    /// <summary>How many rows wait for the watermark.</summary>
    public int Waiting => buffer.Count;

    /// <summary>The rows waiting, in no particular order (dead-lettered if the rule fails).</summary>
    public IEnumerable<Row> Held => buffer.UnorderedItems.Select(i => i.Element);

    /// <summary>Takes a row with its event time; false when it is late (older than the watermark), and then it is not kept.</summary>
    public bool Offer(Row row, long time)
    {
        if (time < Current)
        {
            return false;
        }

        buffer.Enqueue(row, (time, order++));
        if (time > maxSeen[row.Source])
        {
            maxSeen[row.Source] = time;
            Current = Math.Max(Current, SaturatingSubtract(maxSeen.Min(), lateTolerance));
        }

        return true;
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
