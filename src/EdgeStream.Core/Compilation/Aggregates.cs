using EdgeStream.Abstractions;

namespace EdgeStream.Compilation;

/// <summary>
/// The built-in aggregates that windows need first (<c>count</c>, <c>sum</c>, <c>avg</c>, <c>min</c>, <c>max</c>,
/// <c>collect</c>) and user <see cref="IAggregateFunction"/>s, evaluated over the current group of rows, and the
/// window functions <c>window_start()</c>, <c>window_end()</c> and <c>event_time()</c>.
/// </summary>
internal static class Aggregates
{
    public static bool IsBuiltin(string name) => name is "count" or "sum" or "avg" or "min" or "max" or "collect"
        or "deduplicate" or "stddev" or "stddevs" or "var" or "vars" or "median" or "percentile_cont" or "percentile_disc"
        or "merge_agg" or "last_value";

    /// <summary>
    /// An aggregate over <see cref="EvalContext.Group"/>: its argument is evaluated on each row of the group in turn
    /// (the row the rest of the select list reads, the group's first, is put back afterwards). <c>*</c> is null.
    /// </summary>
    /// <param name="name">The aggregate's name, lower case.</param>
    /// <param name="argument">Its first argument, evaluated per row; null for <c>*</c>.</param>
    /// <param name="options">Its further arguments (<c>percentile_cont(x, 0.5)</c>'s fraction…), evaluated once per group.</param>
    /// <param name="user">A user aggregate's accumulator factory; null for a built-in.</param>
    /// <param name="id">Its index among the statement's aggregate calls: where a window that aggregates as rows arrive
    /// puts its result (<see cref="EvalContext.AggregateValues"/>).</param>
    /// <param name="filter">Its <c>FILTER (WHERE …)</c>: only rows that meet it are aggregated; null for all rows.</param>
    public static Evaluator Compile(string name, Evaluator? argument, Evaluator[] options, Func<IAggregateAccumulator>? user, int id = -1, Evaluator? filter = null)
    {
        return ctx =>
        {
            if (id >= 0 && ctx.AggregateValues is { } computed)
            {
                return ctx.AggregateErrors?[id] is { } failed ? throw new EvaluationException(failed) : computed[id];
            }

            var group = ctx.Group ?? throw new EvaluationException($"aggregate function `{name}` needs a window");
            if (filter is not null)
            {
                group = Filtered(group, filter, ctx);
            }

            var values = new Value[group.Count];
            var extra = user is not null && options.Length > 0 ? new Value[group.Count * options.Length] : null; // a user aggregate's further arguments, per row
            var current = (Row?[])ctx.Rows.Clone();
            var settings = options.Length == 0 ? [] : options.Select(o => o(ctx)).ToArray();
            var wasInAggregate = ctx.InAggregate;
            ctx.InAggregate = true;
            try
            {
                for (var i = 0; i < group.Count; i++)
                {
                    ctx.SetRow(group[i]);
                    values[i] = argument is not null ? argument(ctx) : name is "collect" or "merge_agg" or "last_value" ? Value.From(Whole(group[i])) : Value.True;
                    for (var j = 0; extra is not null && j < options.Length; j++)
                    {
                        extra[(i * options.Length) + j] = options[j](ctx);
                    }
                }
            }
            finally
            {
                ctx.InAggregate = wasInAggregate;
                ctx.SetParts(current);
            }

            if (user is not null)
            {
                return ApplyUser(name, user, values, extra);
            }

            return name switch
            {
                "deduplicate" => Deduplicate(group, values, settings),
                "last_value" => LastValue(values, settings),
                "merge_agg" => MergeAgg(values),
                "stddev" or "stddevs" or "var" or "vars" or "median" or "percentile_cont" or "percentile_disc" => Statistics.Apply(name, values, settings),
                _ => Apply(name, values),
            };
        };
    }

    /// <summary>The rows of a group that meet an aggregate's <c>FILTER (WHERE …)</c> (the context's rows are put back).</summary>
    private static List<Row> Filtered(IReadOnlyList<Row> group, Evaluator filter, EvalContext ctx)
    {
        var current = (Row?[])ctx.Rows.Clone();
        var kept = new List<Row>(group.Count);
        try
        {
            foreach (var row in group)
            {
                ctx.SetRow(row);
                if (Operators.IsTrue(filter(ctx)))
                {
                    kept.Add(row);
                }
            }
        }
        finally
        {
            ctx.SetParts(current);
        }

        return kept;
    }

    /// <summary>
    /// <c>deduplicate(col, all)</c>: the rows whose <c>col</c> was not seen in an earlier row of the group — all of them
    /// as an array of row objects when <c>all</c> is true; else the newest row when its value is new, or null.
    /// </summary>
    private static Value Deduplicate(IReadOnlyList<Row> group, Value[] values, Value[] settings)
    {
        var all = settings.Length > 0 && settings[0].Kind == ValueKind.Boolean ? settings[0].AsBoolean
            : settings.Length > 0 ? throw new EvaluationException($"deduplicate's second argument must be a bool, not {settings[0].Describe()}") : false;
        var seen = new HashSet<Value>();
        var kept = new List<Value>();
        var newestIsNew = false;
        for (var i = 0; i < values.Length; i++)
        {
            newestIsNew = seen.Add(values[i]);
            if (newestIsNew && all)
            {
                kept.Add(Value.From(Whole(group[i])));
            }
        }

        if (all)
        {
            return Value.From(kept.ToArray());
        }

        return values.Length > 0 && newestIsNew ? Value.From(Whole(group[^1])) : Value.Null;
    }

    /// <summary><c>last_value(col, ignoreNull)</c>: the group's last value, or its last non-null one.</summary>
    private static Value LastValue(Value[] values, Value[] settings)
    {
        var ignoreNull = settings.Length > 0 && settings[0].Kind == ValueKind.Boolean ? settings[0].AsBoolean
            : settings.Length > 0 ? throw new EvaluationException($"last_value's second argument must be a bool, not {settings[0].Describe()}") : true;
        for (var i = values.Length - 1; i >= 0; i--)
        {
            if (!ignoreNull || !values[i].IsNull)
            {
                return values[i];
            }
        }

        return Value.Null;
    }

    /// <summary><c>merge_agg(x)</c>: the group's objects merged into one, later keys over earlier ones; nulls skipped.</summary>
    private static Value MergeAgg(Value[] values)
    {
        var merged = new ValueObject();
        foreach (var value in values)
        {
            if (value.IsNull)
            {
                continue;
            }

            if (value.Kind != ValueKind.Object)
            {
                throw new EvaluationException($"run merge_agg function error: requires an object but found {value.Describe()}");
            }

            foreach (var (key, field) in value.AsObject.Fields)
            {
                merged[key] = field;
            }
        }

        return Value.From(merged);
    }

    /// <summary>A row as an object: what <c>collect(*)</c> gathers.</summary>
    internal static ValueObject Whole(Row row)
    {
        var fields = new ValueObject(row.Values.Length);
        foreach (var (name, value) in row.Fields())
        {
            fields[name] = value;
        }

        return fields;
    }

    /// <summary>
    /// A user aggregate: each row's arguments (the first in <paramref name="values"/>, the others in
    /// <paramref name="extra"/>, row by row) go to its accumulator; rows whose first argument is null are skipped, as
    /// the built-ins skip them. Its failure fails the row.
    /// </summary>
    private static Value ApplyUser(string name, Func<IAggregateAccumulator> create, Value[] values, Value[]? extra)
    {
        try
        {
            var accumulator = create();
            var width = extra is null ? 1 : 1 + (extra.Length / Math.Max(1, values.Length));
            var arguments = new SqlValue[width];
            for (var i = 0; i < values.Length; i++)
            {
                if (values[i].IsNull)
                {
                    continue;
                }

                arguments[0] = new SqlValue(values[i]);
                for (var j = 1; j < width; j++)
                {
                    arguments[j] = new SqlValue(extra![(i * (width - 1)) + j - 1]);
                }

                accumulator.Add(arguments);
            }

            return accumulator.GetResult().Inner;
        }
        catch (Exception e) when (e is not EvaluationException)
        {
            throw new EvaluationException($"function `{name}` failed: {e.Message}");
        }
    }

    /// <summary>eKuiper's semantics: nulls are skipped (except by <c>collect</c>); integers stay integers where they can.</summary>
    private static Value Apply(string name, Value[] values)
    {
        switch (name)
        {
            case "count":
                return Value.From((long)values.Count(v => !v.IsNull));
            case "collect":
                return Value.From(values);
        }

        var present = values.Where(v => !v.IsNull).ToArray();
        if (present.Length == 0)
        {
            return Value.Null;
        }

        if (name is "min" or "max")
        {
            var best = present[0];
            foreach (var v in present.Skip(1))
            {
                var order = Order(v, best, name);
                if (name == "min" ? order < 0 : order > 0)
                {
                    best = v;
                }
            }

            return best;
        }

        if (present.Any(v => !v.IsNumber))
        {
            var bad = present.First(v => !v.IsNumber);
            throw new EvaluationException($"run {name} function error: requires number but found {bad.Describe()}");
        }

        // Integer sums wrap around on overflow, as Go's int64 does; they never throw.
        var integers = present.All(v => v.Kind == ValueKind.Integer);
        long integerSum = 0;
        double floatSum = 0;
        foreach (var v in present)
        {
            integerSum = unchecked(integerSum + (integers ? v.AsInteger : 0));
            floatSum += v.AsDouble;
        }

        if (name == "sum")
        {
            return integers ? Value.From(integerSum) : Value.From(floatSum);
        }

        // avg: an integer mean stays an integer (truncated), as eKuiper computes it over int64; floats give a float.
        return integers ? Value.From(integerSum / present.Length) : Value.From(floatSum / present.Length);
    }

    internal static int Order(Value a, Value b, string name)
    {
        if (a.IsNumber && b.IsNumber)
        {
            return a.Kind == ValueKind.Integer && b.Kind == ValueKind.Integer ? a.AsInteger.CompareTo(b.AsInteger) : a.AsDouble.CompareTo(b.AsDouble);
        }

        if (a.Kind == ValueKind.String && b.Kind == ValueKind.String)
        {
            return string.CompareOrdinal(a.AsString, b.AsString);
        }

        throw new EvaluationException($"run {name} function error: cannot compare {a.Describe()} and {b.Describe()}");
    }

    /// <summary>
    /// <c>window_start()</c>, <c>window_end()</c> and <c>window_trigger()</c> of the window being emitted;
    /// <c>event_time()</c>: the window's end for a grouped result (as eKuiper), else the row's time (inside an
    /// aggregate's argument too); <c>last_hit_time()</c>/<c>last_hit_count()</c>: the time and number of earlier hits
    /// (rows that passed WHERE, or a sliding window's previous trigger); <c>last_agg_hit_time()</c>/<c>last_agg_hit_count()</c>:
    /// the same for windows that passed HAVING.
    /// </summary>
    public static Evaluator? CompileWindowFunction(string name) => name switch
    {
        "window_start" => ctx => ctx.WindowEnd == 0 ? Value.Null : Value.From(ctx.WindowStart),
        "window_end" => ctx => ctx.WindowEnd == 0 ? Value.Null : Value.From(ctx.WindowEnd),
        "window_trigger" => ctx => ctx.WindowEnd == 0 ? Value.Null : Value.From(ctx.WindowEnd),
        "event_time" => ctx => ctx.Group is not null && !ctx.InAggregate && ctx.WindowEnd != 0 ? Value.From(ctx.WindowEnd) : Array.Find(ctx.Rows, r => r is not null) is { } row ? Value.From(row.Timestamp) : Value.Null,
        "last_hit_time" => ctx => Value.From(ctx.LastHitTime),
        "last_hit_count" => ctx => Value.From(ctx.LastHitCount),
        "last_agg_hit_time" => ctx => Value.From(ctx.LastAggHitTime),
        "last_agg_hit_count" => ctx => Value.From(ctx.LastAggHitCount),
        _ => null,
    };
}
