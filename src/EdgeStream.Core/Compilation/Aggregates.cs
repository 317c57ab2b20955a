using EdgeStream.Abstractions;

namespace EdgeStream.Compilation;

/// <summary>
/// The built-in aggregates that windows need first (<c>count</c>, <c>sum</c>, <c>avg</c>, <c>min</c>, <c>max</c>,
/// <c>collect</c>) and user <see cref="IAggregateFunction"/>s, evaluated over the current group of rows, and the
/// window functions <c>window_start()</c>, <c>window_end()</c> and <c>event_time()</c>.
/// </summary>
internal static class Aggregates
{
    public static bool IsBuiltin(string name) => name is "count" or "sum" or "avg" or "min" or "max" or "collect";

    /// <summary>
    /// An aggregate over <see cref="EvalContext.Group"/>: its argument is evaluated on each row of the group in turn
    /// (the row the rest of the select list reads, the group's first, is put back afterwards). <c>*</c> is null.
    /// </summary>
    public static Evaluator Compile(string name, Evaluator? argument, Func<IAggregateAccumulator>? user)
    {
        return ctx =>
        {
            var group = ctx.Group ?? throw new EvaluationException($"aggregate function `{name}` needs a window");
            var values = new Value[group.Count];
            var current = ctx.Rows[0];
            try
            {
                for (var i = 0; i < group.Count; i++)
                {
                    ctx.SetRow(group[i]);
                    values[i] = argument is not null ? argument(ctx) : name == "collect" ? Value.From(Whole(group[i])) : Value.True;
                }
            }
            finally
            {
                if (current is not null)
                {
                    ctx.SetRow(current);
                }
            }

            return user is null ? Apply(name, values) : ApplyUser(name, user, values);
        };
    }

    /// <summary>A row as an object: what <c>collect(*)</c> gathers.</summary>
    private static ValueObject Whole(Row row)
    {
        var fields = new ValueObject(row.Values.Length);
        foreach (var (name, value) in row.Fields())
        {
            fields[name] = value;
        }

        return fields;
    }

    /// <summary>A user aggregate: rows whose argument is null are skipped, as the built-ins skip them; its failure fails the row.</summary>
    private static Value ApplyUser(string name, Func<IAggregateAccumulator> create, Value[] values)
    {
        try
        {
            var accumulator = create();
            var one = new SqlValue[1];
            foreach (var value in values)
            {
                if (!value.IsNull)
                {
                    one[0] = new SqlValue(value);
                    accumulator.Add(one);
                }
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

    private static int Order(Value a, Value b, string name)
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
    /// <c>window_start()</c> and <c>window_end()</c> of the window being emitted; <c>event_time()</c>: the window's end
    /// for a grouped result (as eKuiper), else the row's arrival time.
    /// </summary>
    public static Evaluator? CompileWindowFunction(string name) => name switch
    {
        "window_start" => ctx => ctx.WindowEnd == 0 ? Value.Null : Value.From(ctx.WindowStart),
        "window_end" => ctx => ctx.WindowEnd == 0 ? Value.Null : Value.From(ctx.WindowEnd),
        "event_time" => ctx => ctx.Group is not null ? Value.From(ctx.WindowEnd) : ctx.Rows[0] is { } row ? Value.From(row.Timestamp) : Value.Null,
        _ => null,
    };
}
