using EdgeStream.Abstractions;
using EdgeStream.Compilation;
using EdgeStream.Sql.Ast;

namespace EdgeStream.Runtime;

/// <summary>One window that fired: its rows in the order they entered, and its bounds (Unix ms).</summary>
internal readonly record struct WindowFiring(List<Row> Rows, long Start, long End)
{
    /// <summary>An aggregating window's groups, already aggregated (then <see cref="Rows"/> is empty); null otherwise.</summary>
    public List<PaneGroup>? Groups { get; init; }

    /// <summary>A GROUP BY key that failed on one of an aggregating window's rows: the window fails with it.</summary>
    public string? Error { get; init; }
}

/// <summary>
/// The state of one rule's window, driven by a clock it does not read: each row comes with its time (arrival under
/// processing time, event time under event time), and <see cref="Advance"/> says how far time has got (a timer tick,
/// or the watermark). Every boundary due at or before a row's time fires before the row is taken, so results do not
/// depend on when a timer callback happens to run. Windows that fire are appended to a list the caller emits.
/// </summary>
internal abstract class WindowOperator
{
    /// <summary>Fires what is due at or before <paramref name="time"/>, then takes <paramref name="row"/> (the context's current row).</summary>
    /// <exception cref="EvaluationException">A trigger condition failed on this row; the row is kept, what fired before is in <paramref name="fired"/>.</exception>
    /// <exception cref="InputLimitException">The window holds as many events (or groups) as <see cref="Limits"/> allow: the row is not
    /// taken, what fired before is in <paramref name="fired"/>.</exception>
    public abstract void Add(Row row, long time, EvalContext context, List<WindowFiring> fired);

    /// <summary>The engine's bounds on events per window and groups.</summary>
    public InputLimits Limits { get; set; } = InputLimits.Default;

    /// <summary>Refuses one more event when a window already holds <paramref name="held"/>, the limit.</summary>
    /// <exception cref="InputLimitException">It does.</exception>
    protected void AdmitEvent(int held)
    {
        if (held >= Limits.MaxEventsPerWindow)
        {
            throw new InputLimitException(InputLimitMessages.Events(Limits));
        }
    }

    /// <summary>Refuses one more group when <paramref name="groups"/> are open, the limit.</summary>
    /// <exception cref="InputLimitException">They are.</exception>
    protected void AdmitGroup(int groups)
    {
        if (groups >= Limits.MaxGroupsPerRule)
        {
            throw new InputLimitException(InputLimitMessages.Groups(Limits));
        }
    }

    /// <summary>Time has reached <paramref name="now"/>: fires every boundary at or before it, in time order.</summary>
    public abstract void Advance(long now, List<WindowFiring> fired);

    /// <summary>
    /// The input has ended (bounded input: a file): fires every window that holds rows as if its end had come. State
    /// windows keep theirs (only their emit condition closes them).
    /// </summary>
    public abstract void Flush(List<WindowFiring> fired);

    /// <summary>When the next boundary is due (a timer should fire then); <see cref="long.MaxValue"/> for none.</summary>
    public virtual long NextDeadline => long.MaxValue;

    /// <summary>
    /// Under event time, a row accepted by the watermark, before it waits there (the context's current row): a sliding
    /// window evaluates its trigger condition now, in arrival order.
    /// </summary>
    /// <exception cref="EvaluationException">The trigger condition failed on this row.</exception>
    public virtual void OnArrival(Row row, long time, EvalContext context)
    {
    }

    /// <summary>The rows held for windows that have not fired (dead-lettered if the rule fails).</summary>
    public abstract IEnumerable<Row> Held { get; }

    /// <summary>Writes the window's whole state (rows, aggregates, boundaries, triggers) for a rule snapshot.</summary>
    public abstract void Save(RuleStateWriter writer);

    /// <summary>Replaces the state with one <see cref="Save"/> wrote (the same statement's window).</summary>
    public abstract void Load(RuleStateReader reader);

    /// <summary>The operator for a statement's window.</summary>
    /// <param name="window">The window.</param>
    /// <param name="trigger">A sliding window's <c>OVER (WHEN …)</c> on the context's row; true for every row without one.</param>
    /// <param name="start">When the rule started (processing time aligns its first boundary after it).</param>
    /// <param name="eventTime">Whether times are event times: the first boundary then follows the first row.</param>
    /// <param name="aggregating">Set when the statement's aggregates all have accumulators (see <see cref="PaneWindowOperator"/>):
    /// the GROUP BY key of the context's row and the aggregate calls.</param>
    /// <param name="state">A state window's begin and emit conditions and its partition key, on the context's row.</param>
    public static WindowOperator Create(WindowPlan window, Func<EvalContext, bool> trigger, long start, bool eventTime,
        (Func<EvalContext, object> KeyOf, IReadOnlyList<AggregateSpec> Specs)? aggregating = null,
        (Func<EvalContext, bool> Begin, Func<EvalContext, bool> Emit, Func<EvalContext, object> PartitionOf)? state = null) => window.Kind switch
    {
        WindowKind.State => new StateWindowOperator(state!.Value.Begin, state.Value.Emit, state.Value.PartitionOf),
        WindowKind.Tumbling or WindowKind.Hopping when aggregating is { } incremental =>
            new PaneWindowOperator(window, incremental.KeyOf, incremental.Specs, eventTime ? null : start),
        WindowKind.Count => new CountWindowOperator(window),
        WindowKind.Sliding => new SlidingWindowOperator(window, trigger, eventTime),
        WindowKind.Session => new SessionWindowOperator(window, eventTime ? null : start),
        _ => new TimeWindowOperator(window, eventTime ? null : start),
    };

    /// <summary>
    /// The start a window reports: its own, except that eKuiper's event-time windows start the first window at its
    /// first row (a hopping one, a hop before it); <paramref name="firstRow"/> is then forgotten.
    /// </summary>
    protected static long ReportedStart(WindowPlan window, long start, ref long? firstRow)
    {
        if (firstRow is not { } first)
        {
            return start;
        }

        firstRow = null;
        return Math.Max(start, first - Math.Max(0, window.Length - window.Interval));
    }

    /// <summary>How many empty windows in a row a window sends when time jumps ahead (a clock change, a restore much later).</summary>
    protected const long MaxEmptyWindows = 1_000;

    /// <summary>
    /// With no row held, a jump in time would fire one empty window per boundary (millions, for a far-ahead time): the
    /// boundary moves on so that at most <see cref="MaxEmptyWindows"/> of them fire, the last ones before <paramref name="now"/>.
    /// </summary>
    protected static long SkipEmpty(WindowPlan window, long nextEnd, long now)
    {
        if (nextEnd == long.MinValue || nextEnd > now || window.Interval <= 0 || window.Unit is Sql.Ast.TimeUnit.Hours or Sql.Ast.TimeUnit.Days)
        {
            return nextEnd;
        }

        var pending = ((now - nextEnd) / window.Interval) + 1;
        return pending > MaxEmptyWindows ? nextEnd + ((pending - MaxEmptyWindows) * window.Interval) : nextEnd;
    }

    /// <summary>The rows of <paramref name="rows"/> whose time lies in [from, to) (or [from, to] when <paramref name="inclusive"/>).</summary>
    protected static List<Row> Between(List<(Row Row, long At)> rows, long from, long to, bool inclusive = false)
    {
        var result = new List<Row>();
        foreach (var (row, at) in rows)
        {
            if (at >= from && (at < to || (inclusive && at == to)))
            {
                result.Add(row);
            }
        }

        return result;
    }
}

/// <summary>
/// Tumbling and hopping windows: rows with <c>start &lt;= time &lt; end</c> belong to the window ending at <c>end</c>.
/// Under processing time the first boundary is the aligned one after the rule started; under event time, the aligned
/// one after the first row, and that first window starts at the first row (as eKuiper reports it).
/// </summary>
internal sealed class TimeWindowOperator : WindowOperator
{
    private readonly WindowPlan window;
    private readonly List<(Row Row, long At)> rows = [];
    private long nextEnd;
    private long lastEnd = long.MinValue;
    private long? firstRow;

    public TimeWindowOperator(WindowPlan window, long? start)
    {
        this.window = window;
        nextEnd = start is { } at ? window.FirstEnd(at) : long.MinValue;
    }

    public override long NextDeadline => nextEnd == long.MinValue ? long.MaxValue : nextEnd;

    public override IEnumerable<Row> Held => rows.Select(r => r.Row);

    public override void Add(Row row, long time, EvalContext context, List<WindowFiring> fired)
    {
        if (nextEnd == long.MinValue)
        {
            nextEnd = window.FirstEnd(time);
            firstRow = time;
        }

        Advance(time, fired);
        AdmitEvent(rows.Count);

        // A row that reached the window after the boundary it arrived before had fired (it waited for buffer room)
        // counts in the next window: it is late, never lost.
        rows.Add((row, Math.Max(time, lastEnd)));
    }

    public override void Save(RuleStateWriter writer)
    {
        writer.Write(nextEnd);
        writer.Write(lastEnd);
        writer.Write(firstRow.HasValue);
        writer.Write(firstRow ?? 0);
        writer.Write(rows);
    }

    public override void Load(RuleStateReader reader)
    {
        nextEnd = reader.ReadLong();
        lastEnd = reader.ReadLong();
        var hasFirst = reader.ReadBool();
        var first = reader.ReadLong();
        firstRow = hasFirst ? first : null;
        rows.Clear();
        rows.AddRange(reader.ReadRows());
    }

    public override void Flush(List<WindowFiring> fired)
    {
        if (rows.Count > 0)
        {
            var last = rows.Max(r => r.At);
            while (window.StartOf(nextEnd) <= last)
            {
                Advance(nextEnd, fired);
            }
        }
    }

    public override void Advance(long now, List<WindowFiring> fired)
    {
        while (nextEnd != long.MinValue && nextEnd <= now)
        {
            if (rows.Count == 0 && (nextEnd = SkipEmpty(window, nextEnd, now)) > now)
            {
                break;
            }

            var end = nextEnd;
            var start = window.StartOf(end);
            var reported = ReportedStart(window, start, ref firstRow);

            fired.Add(new WindowFiring(Between(rows, start, end), reported, end));
            lastEnd = end;
            nextEnd = window.NextEnd(end);
            var keepFrom = window.StartOf(nextEnd);
            rows.RemoveAll(r => r.At < keepFrom);
        }
    }
}

/// <summary>
/// A sliding window: a row that meets <c>OVER (WHEN …)</c> (every row without one) fires the window of the
/// <see cref="WindowPlan.Length"/> before it, itself included (<c>[t - length, t]</c>); with a delay <c>D</c>, the
/// trigger at <c>t</c> fires at <c>t + D</c> over <c>(t - length, t + D)</c>. <c>last_hit_time()</c> in the condition
/// is the previous trigger's time. Under event time the condition is evaluated as rows arrive (in arrival order, as
/// eKuiper does, see <see cref="OnArrival"/>) and each trigger fires once the watermark reaches it, over the rows
/// released by then.
/// </summary>
internal sealed class SlidingWindowOperator(WindowPlan window, Func<EvalContext, bool> trigger, bool eventTime) : WindowOperator
{
    private readonly List<(Row Row, long At)> rows = [];
    private readonly PriorityQueue<long, long> pending = new();
    private long lastTrigger;
    private int dropped;

    public override long NextDeadline => pending.TryPeek(out _, out var deadline) ? deadline : long.MaxValue;

    public override IEnumerable<Row> Held => rows.Skip(dropped).Select(r => r.Row);

    public override void OnArrival(Row row, long time, EvalContext context)
    {
        if (eventTime && Triggers(time, context))
        {
            pending.Enqueue(time, time + window.Delay);
        }
    }

    public override void Add(Row row, long time, EvalContext context, List<WindowFiring> fired)
    {
        // A trigger due at this time fires before the row enters, unless it is undelayed (its own time is inside it).
        FireDue(time, window.Delay == 0 ? time - 1 : time, fired);
        AdmitEvent(rows.Count - dropped);
        rows.Add((row, time));
        Prune(pending.TryPeek(out var oldest, out _) ? Math.Min(oldest, time) : time);
        if (eventTime || !Triggers(time, context))
        {
            return;
        }

        if (window.Delay == 0)
        {
            fired.Add(Fire(time));
        }
        else
        {
            pending.Enqueue(time, time + window.Delay);
        }
    }

    public override void Advance(long now, List<WindowFiring> fired) => FireDue(now, now, fired);

    public override void Flush(List<WindowFiring> fired) => FireDue(long.MaxValue, long.MaxValue, fired);

    public override void Save(RuleStateWriter writer)
    {
        writer.Write(rows.Skip(dropped).ToList());
        writer.Write(lastTrigger);
        writer.Write(pending.Count);
        foreach (var (at, deadline) in pending.UnorderedItems)
        {
            writer.Write(at);
            writer.Write(deadline);
        }
    }

    public override void Load(RuleStateReader reader)
    {
        rows.Clear();
        dropped = 0;
        rows.AddRange(reader.ReadRows());
        lastTrigger = reader.ReadLong();
        pending.Clear();
        for (var i = reader.ReadInt(); i > 0; i--)
        {
            var at = reader.ReadLong();
            pending.Enqueue(at, reader.ReadLong());
        }
    }

    private bool Triggers(long time, EvalContext context)
    {
        context.LastHitTime = lastTrigger;
        if (!trigger(context))
        {
            return false;
        }

        lastTrigger = time;
        return true;
    }

    private void FireDue(long now, long limit, List<WindowFiring> fired)
    {
        while (pending.TryPeek(out _, out var deadline) && deadline <= limit && deadline <= now)
        {
            fired.Add(Fire(pending.Dequeue()));
        }
    }

    private WindowFiring Fire(long t)
    {
        var result = new List<Row>();
        var (from, to) = (t - window.Length, t + window.Delay);
        for (var i = dropped; i < rows.Count; i++)
        {
            var at = rows[i].At;
            if ((window.Delay == 0 ? at >= from : at > from) && at <= to)
            {
                result.Add(rows[i].Row);
            }
        }

        return new WindowFiring(result, from, to);
    }

    /// <summary>Forgets rows no pending or future trigger can reach, in amortised constant time per row.</summary>
    private void Prune(long oldestTrigger)
    {
        var keepFrom = oldestTrigger - window.Length;
        while (dropped < rows.Count && rows[dropped].At < keepFrom)
        {
            rows[dropped++] = default;
        }

        if (dropped > 64 && dropped * 2 > rows.Count)
        {
            rows.RemoveRange(0, dropped);
            dropped = 0;
        }
    }
}

/// <summary>
/// A session window <c>SESSIONWINDOW(unit, maxLength, timeout)</c>: the first row opens a session and every row
/// restarts its timeout; when the timeout passes, the session's rows fire with the timeout as their end. An aligned
/// tick every max length also closes a session whose first row is at least max length old. A session opened after a
/// timeout starts at its first row; one that follows a close at a tick starts at that tick (as eKuiper reports it).
/// </summary>
internal sealed class SessionWindowOperator : WindowOperator
{
    private readonly WindowPlan window;
    private readonly List<(Row Row, long At)> rows = [];
    private long nextTick;
    private long timeoutAt = long.MaxValue;
    private long? sessionStart;

    public SessionWindowOperator(WindowPlan window, long? start)
    {
        this.window = window;
        nextTick = start is { } at ? window.FirstEnd(at) : long.MinValue;
    }

    public override long NextDeadline => Math.Min(timeoutAt, nextTick == long.MinValue ? long.MaxValue : nextTick);

    public override IEnumerable<Row> Held => rows.Select(r => r.Row);

    public override void Add(Row row, long time, EvalContext context, List<WindowFiring> fired)
    {
        if (nextTick == long.MinValue)
        {
            nextTick = window.FirstEnd(time);
        }

        Advance(time, fired);
        AdmitEvent(rows.Count);
        sessionStart ??= time;
        rows.Add((row, time));
        timeoutAt = time + window.Timeout;
    }

    public override void Flush(List<WindowFiring> fired)
    {
        if (rows.Count > 0)
        {
            Advance(timeoutAt, fired); // the open session closes at its timeout (or at a tick before it)
        }
    }

    /// <summary>With no session open a tick does nothing: the next tick after <paramref name="until"/>, without visiting each.</summary>
    private long SkipIdleTicks(long tick, long until)
    {
        if (window.Unit is Sql.Ast.TimeUnit.Hours or Sql.Ast.TimeUnit.Days || until == long.MaxValue)
        {
            return window.NextEnd(tick);
        }

        var steps = Math.Max(1, ((until - tick) / window.Interval) + 1);
        return tick + (steps * window.Interval);
    }

    public override void Save(RuleStateWriter writer)
    {
        writer.Write(rows);
        writer.Write(nextTick);
        writer.Write(timeoutAt);
        writer.Write(sessionStart.HasValue);
        writer.Write(sessionStart ?? 0);
    }

    public override void Load(RuleStateReader reader)
    {
        rows.Clear();
        rows.AddRange(reader.ReadRows());
        nextTick = reader.ReadLong();
        timeoutAt = reader.ReadLong();
        var started = reader.ReadBool();
        var start = reader.ReadLong();
        sessionStart = started ? start : null;
    }

    public override void Advance(long now, List<WindowFiring> fired)
    {
        while (true)
        {
            var tick = nextTick == long.MinValue ? long.MaxValue : nextTick;
            if (Math.Min(timeoutAt, tick) > now)
            {
                return;
            }

            if (timeoutAt <= tick)
            {
                if (rows.Count > 0)
                {
                    fired.Add(new WindowFiring(rows.Select(r => r.Row).ToList(), sessionStart ?? rows[0].At, timeoutAt));
                    rows.Clear();
                }

                sessionStart = null;
                timeoutAt = long.MaxValue;
                continue;
            }

            nextTick = rows.Count == 0 ? SkipIdleTicks(tick, Math.Min(now, timeoutAt)) : window.NextEnd(tick);
            if (rows.Count > 0 && rows[0].At <= tick - window.Length)
            {
                fired.Add(new WindowFiring(rows.Select(r => r.Row).ToList(), sessionStart ?? rows[0].At, tick));
                rows.Clear();
                sessionStart = tick;
            }
        }
    }
}

/// <summary>
/// <c>COUNTWINDOW(n)</c> fires with every n-th row and starts again; <c>COUNTWINDOW(n, m)</c> fires every m rows with
/// the last n, once n have arrived. A window ends when its last row arrived.
/// </summary>
internal sealed class CountWindowOperator(WindowPlan window) : WindowOperator
{
    private readonly Queue<(Row Row, long At)> rows = new();
    private long seen;
    private long seenAtLastWindow;

    public override IEnumerable<Row> Held => rows.Select(r => r.Row);

    public override void Add(Row row, long time, EvalContext context, List<WindowFiring> fired)
    {
        rows.Enqueue((row, time));
        seen++;
        if (rows.Count > window.Size)
        {
            rows.Dequeue();
        }

        if (seen % window.Hop == 0 && rows.Count >= window.Size)
        {
            var list = rows.Select(r => r.Row).ToList();
            fired.Add(new WindowFiring(list, rows.Peek().At, time));
            seenAtLastWindow = seen;
            if (window.Hop >= window.Size)
            {
                rows.Clear();
            }
        }
    }

    public override void Advance(long now, List<WindowFiring> fired)
    {
    }

    public override void Save(RuleStateWriter writer)
    {
        writer.Write(rows.ToList());
        writer.Write(seen);
        writer.Write(seenAtLastWindow);
    }

    public override void Load(RuleStateReader reader)
    {
        rows.Clear();
        foreach (var row in reader.ReadRows())
        {
            rows.Enqueue(row);
        }

        seen = reader.ReadLong();
        seenAtLastWindow = reader.ReadLong();
    }

    /// <summary>
    /// When rows arrived since the last window, the rows held fire as a last window: fewer than n when the input ended
    /// early; with COUNTWINDOW(n, m), the last n (the window the next m-th row would have sent, as far as it got).
    /// </summary>
    public override void Flush(List<WindowFiring> fired)
    {
        if (rows.Count > 0 && seen > seenAtLastWindow)
        {
            fired.Add(new WindowFiring(rows.Select(r => r.Row).ToList(), rows.Peek().At, rows.Last().At));
            seenAtLastWindow = seen;
            if (window.Hop >= window.Size)
            {
                rows.Clear();
            }
        }
    }
}

/// <summary>One group of a window that aggregated as rows arrived: its first row and its aggregates' states.</summary>
internal sealed record PaneGroup(Row First, Accumulator[] Accumulators);

/// <summary>
/// Tumbling and hopping windows of a statement whose aggregates all have accumulators: rows are not kept. Each row
/// goes, by its time, into a pane (the greatest common divisor of length and hop), where it updates its group's
/// aggregates at once; a window that fires merges the panes it covers, group by group, in time order. A hopping window
/// of length L and hop H thus reads each row once, not L/H times, and holds per group only what its aggregates need
/// (a count, a sum; every value only for collect and the statistics). Results equal <see cref="TimeWindowOperator"/>'s
/// followed by grouping (float sums up to rounding), which the differential tests check on random input.
/// </summary>
internal sealed class PaneWindowOperator : WindowOperator
{
    private readonly WindowPlan window;
    private readonly Func<EvalContext, object> keyOf;
    private readonly AggregateSpec[] specs;
    private readonly Accumulator[] prototypes;
    private readonly long paneLength;
    private readonly List<Pane> panes = [];
    private long nextEnd;
    private long lastEnd = long.MinValue;
    private long anchor;
    private long? firstRow;

    /// <param name="window">The window (tumbling or hopping).</param>
    /// <param name="keyOf">The current row's GROUP BY key.</param>
    /// <param name="specs">The statement's aggregate calls; each must have an accumulator.</param>
    /// <param name="start">When the rule started (processing time); null under event time.</param>
    public PaneWindowOperator(WindowPlan window, Func<EvalContext, object> keyOf, IReadOnlyList<AggregateSpec> specs, long? start)
    {
        this.window = window;
        this.keyOf = keyOf;
        this.specs = [.. specs];
        prototypes = this.specs.Select(s => Accumulator.Create(s.Name)!).ToArray();
        paneLength = Gcd(window.Length, window.Interval);
        nextEnd = start is { } at ? window.FirstEnd(at) : long.MinValue;
        anchor = nextEnd;
    }

    public override long NextDeadline => nextEnd == long.MinValue ? long.MaxValue : nextEnd;

    /// <summary>An aggregating window holds no rows, only each group's first.</summary>
    public override IEnumerable<Row> Held => panes.SelectMany(p => p.Groups.Values.Select(g => g.First));

    public override void Add(Row row, long time, EvalContext context, List<WindowFiring> fired)
    {
        if (nextEnd == long.MinValue)
        {
            nextEnd = anchor = window.FirstEnd(time);
            firstRow = time;
        }

        Advance(time, fired);
        var at = Math.Max(time, lastEnd);
        var pane = PaneAt(anchor + (FloorDiv(at - anchor, paneLength) * paneLength));
        pane.Rows++;
        object key;
        try
        {
            key = keyOf(context);
        }
        catch (EvaluationException e)
        {
            pane.Error ??= e.Message;
            return;
        }

        if (!pane.Groups.TryGetValue(key, out var group))
        {
            if (pane.Groups.Count >= Limits.MaxGroupsPerRule)
            {
                pane.Rows--;
                AdmitGroup(pane.Groups.Count);
            }

            group = new PaneGroup(row, Array.ConvertAll(prototypes, p => p.Empty()));
            pane.Groups.Add(key, group);
        }

        var wasInAggregate = context.InAggregate;
        context.InAggregate = true;
        try
        {
            for (var i = 0; i < specs.Length; i++)
            {
                try
                {
                    if (specs[i].Takes(context))
                    {
                        group.Accumulators[i].Add(specs[i].ValueOf(context));
                    }
                }
                catch (EvaluationException e)
                {
                    group.Accumulators[i].Fail(e.Message);
                }
            }
        }
        finally
        {
            context.InAggregate = wasInAggregate;
        }
    }

    public override void Advance(long now, List<WindowFiring> fired)
    {
        while (nextEnd != long.MinValue && nextEnd <= now)
        {
            if (panes.Count == 0 && (nextEnd = SkipEmpty(window, nextEnd, now)) > now)
            {
                break;
            }

            var end = nextEnd;
            var start = window.StartOf(end);
            var reported = ReportedStart(window, start, ref firstRow);

            var tumbling = window.Length == window.Interval;
            var merged = new OrderedDictionary<object, PaneGroup>();
            var rows = 0;
            string? error = null;
            foreach (var pane in panes)
            {
                if (pane.Start < start || pane.Start >= end)
                {
                    continue;
                }

                rows += pane.Rows;
                error ??= pane.Error;
                foreach (var (key, group) in pane.Groups)
                {
                    if (merged.TryGetValue(key, out var into))
                    {
                        for (var i = 0; i < into.Accumulators.Length; i++)
                        {
                            into.Accumulators[i].Merge(group.Accumulators[i]);
                        }
                    }
                    else
                    {
                        // A tumbling window's panes are its own and go when it fires; a hopping window's are shared.
                        merged.Add(key, tumbling ? group : new PaneGroup(group.First, Array.ConvertAll(group.Accumulators, Copy)));
                    }
                }
            }

            fired.Add(new WindowFiring([], reported, end) { Groups = [.. merged.Values], Error = error });
            lastEnd = end;
            nextEnd = window.NextEnd(end);
            var keepFrom = window.StartOf(nextEnd);
            panes.RemoveAll(p => p.Start < keepFrom);
        }
    }

    public override void Save(RuleStateWriter writer)
    {
        writer.Write(nextEnd);
        writer.Write(lastEnd);
        writer.Write(anchor);
        writer.Write(firstRow.HasValue);
        writer.Write(firstRow ?? 0);
        writer.Write(panes.Count);
        foreach (var pane in panes)
        {
            writer.Write(pane.Start);
            writer.Write(pane.Rows);
            writer.Write(pane.Error);
            writer.Write(pane.Groups.Count);
            foreach (var (key, group) in pane.Groups)
            {
                writer.WriteKey(key);
                writer.Write(group.First);
                foreach (var accumulator in group.Accumulators)
                {
                    accumulator.Save(writer);
                }
            }
        }
    }

    public override void Load(RuleStateReader reader)
    {
        nextEnd = reader.ReadLong();
        lastEnd = reader.ReadLong();
        anchor = reader.ReadLong();
        var hasFirst = reader.ReadBool();
        var first = reader.ReadLong();
        firstRow = hasFirst ? first : null;
        panes.Clear();
        for (var p = reader.ReadInt(); p > 0; p--)
        {
            var pane = new Pane(reader.ReadLong()) { Rows = reader.ReadInt(), Error = reader.ReadString() };
            for (var g = reader.ReadInt(); g > 0; g--)
            {
                var key = reader.ReadKey();
                var group = new PaneGroup(reader.ReadRow(), Array.ConvertAll(prototypes, a => a.Empty()));
                foreach (var accumulator in group.Accumulators)
                {
                    accumulator.Load(reader);
                }

                pane.Groups.Add(key, group);
            }

            panes.Add(pane);
        }
    }

    public override void Flush(List<WindowFiring> fired)
    {
        if (panes.Count > 0)
        {
            var last = panes[^1].Start;
            while (window.StartOf(nextEnd) <= last)
            {
                Advance(nextEnd, fired);
            }
        }
    }

    private static Accumulator Copy(Accumulator accumulator)
    {
        var copy = accumulator.Empty();
        copy.Merge(accumulator);
        return copy;
    }

    private Pane PaneAt(long start)
    {
        for (var i = panes.Count - 1; i >= 0; i--)
        {
            if (panes[i].Start == start)
            {
                return panes[i];
            }

            if (panes[i].Start < start)
            {
                var added = new Pane(start);
                panes.Insert(i + 1, added);
                return added;
            }
        }

        var oldest = new Pane(start);
        panes.Insert(0, oldest);
        return oldest;
    }

    private static long FloorDiv(long a, long b) => (a / b) - ((a % b != 0 && (a < 0) != (b < 0)) ? 1 : 0);

    private static long Gcd(long a, long b) => b == 0 ? a : Gcd(b, a % b);

    private sealed class Pane(long start)
    {
        public long Start { get; } = start;

        public int Rows { get; set; }

        public string? Error { get; set; }

        public OrderedDictionary<object, PaneGroup> Groups { get; } = [];
    }
}

/// <summary>
/// <c>STATEWINDOW(begin, emit) [OVER (PARTITION BY …)]</c>, per partition: while idle, rows are dropped until one meets
/// <c>begin</c>, which opens the window; while open, every row is kept, and the first that meets <c>emit</c> (the opening
/// row included) closes it: its rows fire, from the opening row's time to the emitting row's. Time plays no part.
/// </summary>
internal sealed class StateWindowOperator(Func<EvalContext, bool> begin, Func<EvalContext, bool> emit, Func<EvalContext, object> partitionOf) : WindowOperator
{
    private readonly Dictionary<object, List<(Row Row, long At)>> open = [];

    public override IEnumerable<Row> Held => open.Values.SelectMany(rows => rows.Select(r => r.Row));

    public override void Add(Row row, long time, EvalContext context, List<WindowFiring> fired)
    {
        var partition = partitionOf(context);
        if (!open.TryGetValue(partition, out var rows))
        {
            if (!begin(context))
            {
                return; // idle: the row belongs to no window
            }

            AdmitGroup(open.Count);
            open[partition] = rows = [];
        }

        AdmitEvent(rows.Count);
        rows.Add((row, time));
        if (emit(context))
        {
            open.Remove(partition);
            fired.Add(new WindowFiring(rows.Select(r => r.Row).ToList(), rows[0].At, time));
        }
    }

    public override void Advance(long now, List<WindowFiring> fired)
    {
    }

    public override void Flush(List<WindowFiring> fired)
    {
    }

    public override void Save(RuleStateWriter writer)
    {
        writer.Write(open.Count);
        foreach (var (partition, rows) in open)
        {
            writer.WriteKey(partition);
            writer.Write(rows);
        }
    }

    public override void Load(RuleStateReader reader)
    {
        open.Clear();
        for (var i = reader.ReadInt(); i > 0; i--)
        {
            var partition = reader.ReadKey();
            open[partition] = reader.ReadRows();
        }
    }
}
