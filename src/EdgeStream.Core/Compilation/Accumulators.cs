using EdgeStream.Abstractions;

namespace EdgeStream.Compilation;

/// <summary>
/// One aggregate call of a statement, for windows that aggregate as rows arrive (<see cref="Accumulator"/>) instead
/// of over the window's rows when it fires.
/// </summary>
/// <param name="Id">Its index in <see cref="EvalContext.AggregateValues"/>.</param>
/// <param name="Name">The aggregate, lower case.</param>
/// <param name="Argument">Its first argument per row; null for <c>*</c>.</param>
/// <param name="Options">Its further arguments, evaluated once per group when the window fires.</param>
internal sealed record AggregateSpec(int Id, string Name, Evaluator? Argument, Evaluator[] Options)
{
    /// <summary>Its <c>FILTER (WHERE …)</c>, or null: a row that does not meet it is not aggregated.</summary>
    public Evaluator? Filter { get; init; }

    /// <summary>Whether the context's row is aggregated (it meets the FILTER).</summary>
    /// <exception cref="EvaluationException">The FILTER failed on this row.</exception>
    public bool Takes(EvalContext context) => Filter is null || Operators.IsTrue(Filter(context));

    /// <summary>The value a row gives the aggregate: its argument, or for <c>*</c> the whole row (collect, merge_agg, last_value) or true.</summary>
    public Value ValueOf(EvalContext context) => Argument is not null
        ? Argument(context)
        : Name is "collect" or "merge_agg" or "last_value" ? Value.From(Aggregates.Whole(context.Rows[0]!)) : Value.True;
}

/// <summary>
/// The running state of one aggregate over some rows: rows are added one at a time, and two states over
/// consecutive rows merge into the state over both (so a hopping window merges its panes instead of re-reading its
/// rows). Results equal what <see cref="Aggregates"/> computes over the same rows in the same order (float sums up to
/// rounding, as merging adds partial sums in another order), errors included:
/// a value the aggregate cannot take is remembered and raised when the result is asked for, as it would be then.
/// </summary>
internal abstract class Accumulator
{
    private string? error;

    /// <summary>The accumulator of a built-in aggregate; null when it has none (<c>deduplicate</c>, user aggregates).</summary>
    public static Accumulator? Create(string name) => name switch
    {
        "count" => new CountAccumulator(),
        "sum" or "avg" => new SumAccumulator(name),
        "min" or "max" => new ExtremeAccumulator(name),
        "last_value" => new LastValueAccumulator(),
        "merge_agg" => new MergeAccumulator(),
        "collect" or "stddev" or "stddevs" or "var" or "vars" or "median" or "percentile_cont" or "percentile_disc" => new ValuesAccumulator(name),
        _ => null,
    };

    /// <summary>Whether <paramref name="name"/>'s accumulator keeps constant state (not every value, as collect and the statistics do).</summary>
    public static bool IsBounded(string name) => name is "count" or "sum" or "avg" or "min" or "max" or "last_value" or "merge_agg";

    /// <summary>Whether <paramref name="name"/> has an accumulator.</summary>
    public static bool Supports(string name) => Create(name) is not null;

    public void Add(Value value)
    {
        if (error is null)
        {
            try
            {
                Take(value);
            }
            catch (EvaluationException e)
            {
                error = e.Message;
            }
        }
    }

    /// <summary>Throws the error <see cref="Add"/> would record for <paramref name="value"/>, changing nothing (a running aggregation refuses the row).</summary>
    /// <exception cref="EvaluationException">The aggregate cannot take the value.</exception>
    public void Check(Value value)
    {
        if (error is not null)
        {
            throw new EvaluationException(error);
        }

        Validate(value);
    }

    /// <summary>Throws when <see cref="Take"/> would; changes nothing.</summary>
    protected virtual void Validate(Value value)
    {
    }

    /// <summary>A row whose argument failed: the aggregate fails with its error.</summary>
    public void Fail(string message) => error ??= message;

    /// <summary>Adds the rows of <paramref name="later"/>, which came after this one's.</summary>
    public void Merge(Accumulator later)
    {
        if (error is null && later.error is not null)
        {
            error = later.error;
        }
        else if (error is null)
        {
            try
            {
                MergeFrom(later);
            }
            catch (EvaluationException e)
            {
                error = e.Message;
            }
        }
    }

    /// <exception cref="EvaluationException">A value could not be aggregated.</exception>
    public Value Result(Value[] options) => error is not null ? throw new EvaluationException(error) : Compute(options);

    /// <summary>An empty accumulator of the same aggregate.</summary>
    public abstract Accumulator Empty();

    /// <summary>Writes the state (for a rule snapshot).</summary>
    public void Save(Runtime.RuleStateWriter writer)
    {
        writer.Write(error);
        SaveState(writer);
    }

    /// <summary>Reads a state <see cref="Save"/> wrote into this empty accumulator.</summary>
    public void Load(Runtime.RuleStateReader reader)
    {
        error = reader.ReadString();
        LoadState(reader);
    }

    protected abstract void SaveState(Runtime.RuleStateWriter writer);

    protected abstract void LoadState(Runtime.RuleStateReader reader);

    protected abstract void Take(Value value);

    protected abstract void MergeFrom(Accumulator later);

    protected abstract Value Compute(Value[] options);

    private sealed class CountAccumulator : Accumulator
    {
        private long count;

        public override Accumulator Empty() => new CountAccumulator();

        protected override void Take(Value value) => count += value.IsNull ? 0 : 1;

        protected override void MergeFrom(Accumulator later) => count += ((CountAccumulator)later).count;

        protected override Value Compute(Value[] options) => Value.From(count);

        protected override void SaveState(Runtime.RuleStateWriter writer) => writer.Write(count);

        protected override void LoadState(Runtime.RuleStateReader reader) => count = reader.ReadLong();
    }

    /// <summary>sum and avg: integers stay integers (wrapping as Go's int64), a float makes the result a float.</summary>
    private sealed class SumAccumulator(string name) : Accumulator
    {
        private long count;
        private long integers;
        private double floats;
        private bool allIntegers = true;

        public override Accumulator Empty() => new SumAccumulator(name);

        protected override void Validate(Value value)
        {
            if (!value.IsNull && !value.IsNumber)
            {
                throw new EvaluationException($"run {name} function error: requires number but found {value.Describe()}");
            }
        }

        protected override void Take(Value value)
        {
            if (value.IsNull)
            {
                return;
            }

            if (!value.IsNumber)
            {
                throw new EvaluationException($"run {name} function error: requires number but found {value.Describe()}");
            }

            count++;
            if (value.Kind == ValueKind.Integer)
            {
                integers = unchecked(integers + value.AsInteger);
            }
            else
            {
                allIntegers = false;
            }

            floats += value.AsDouble;
        }

        protected override void MergeFrom(Accumulator later)
        {
            var other = (SumAccumulator)later;
            count += other.count;
            integers = unchecked(integers + other.integers);
            floats += other.floats;
            allIntegers &= other.allIntegers;
        }

        protected override Value Compute(Value[] options)
        {
            if (count == 0)
            {
                return Value.Null;
            }

            if (name == "sum")
            {
                return allIntegers ? Value.From(integers) : Value.From(floats);
            }

            return allIntegers ? Value.From(integers / count) : Value.From(floats / count);
        }

        protected override void SaveState(Runtime.RuleStateWriter writer)
        {
            writer.Write(count);
            writer.Write(integers);
            writer.Write(Value.From(floats));
            writer.Write(allIntegers);
        }

        protected override void LoadState(Runtime.RuleStateReader reader)
        {
            count = reader.ReadLong();
            integers = reader.ReadLong();
            floats = reader.ReadValue().AsFloat;
            allIntegers = reader.ReadBool();
        }
    }

    private sealed class ExtremeAccumulator(string name) : Accumulator
    {
        private Value best = Value.Null;

        public override Accumulator Empty() => new ExtremeAccumulator(name);

        protected override void Validate(Value value)
        {
            if (!value.IsNull && !best.IsNull)
            {
                Aggregates.Order(value, best, name);
            }
        }

        protected override void Take(Value value)
        {
            if (value.IsNull)
            {
                return;
            }

            if (best.IsNull)
            {
                best = value;
                return;
            }

            var order = Aggregates.Order(value, best, name);
            if (name == "min" ? order < 0 : order > 0)
            {
                best = value;
            }
        }

        protected override void MergeFrom(Accumulator later) => Take(((ExtremeAccumulator)later).best);

        protected override Value Compute(Value[] options) => best;

        protected override void SaveState(Runtime.RuleStateWriter writer) => writer.Write(best);

        protected override void LoadState(Runtime.RuleStateReader reader) => best = reader.ReadValue();
    }

    private sealed class LastValueAccumulator : Accumulator
    {
        private Value last = Value.Null;
        private Value lastPresent = Value.Null;
        private bool any;

        public override Accumulator Empty() => new LastValueAccumulator();

        protected override void Take(Value value)
        {
            any = true;
            last = value;
            if (!value.IsNull)
            {
                lastPresent = value;
            }
        }

        protected override void MergeFrom(Accumulator later)
        {
            var other = (LastValueAccumulator)later;
            if (other.any)
            {
                any = true;
                last = other.last;
                if (!other.lastPresent.IsNull)
                {
                    lastPresent = other.lastPresent;
                }
            }
        }

        protected override Value Compute(Value[] options)
        {
            var ignoreNull = options.Length > 0 && options[0].Kind == ValueKind.Boolean ? options[0].AsBoolean
                : options.Length > 0 ? throw new EvaluationException($"last_value's second argument must be a bool, not {options[0].Describe()}") : true;
            return ignoreNull ? lastPresent : last;
        }

        protected override void SaveState(Runtime.RuleStateWriter writer)
        {
            writer.Write(last);
            writer.Write(lastPresent);
            writer.Write(any);
        }

        protected override void LoadState(Runtime.RuleStateReader reader)
        {
            last = reader.ReadValue();
            lastPresent = reader.ReadValue();
            any = reader.ReadBool();
        }
    }

    private sealed class MergeAccumulator : Accumulator
    {
        private readonly ValueObject merged = new();

        public override Accumulator Empty() => new MergeAccumulator();

        protected override void Validate(Value value)
        {
            if (!value.IsNull && value.Kind != ValueKind.Object)
            {
                throw new EvaluationException($"run merge_agg function error: requires an object but found {value.Describe()}");
            }
        }

        protected override void Take(Value value)
        {
            if (value.IsNull)
            {
                return;
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

        protected override void MergeFrom(Accumulator later) => Take(Value.From(((MergeAccumulator)later).merged));

        protected override Value Compute(Value[] options)
        {
            var copy = new ValueObject();
            foreach (var (key, field) in merged.Fields)
            {
                copy[key] = field;
            }

            return Value.From(copy);
        }

        protected override void SaveState(Runtime.RuleStateWriter writer) => writer.Write(merged);

        protected override void LoadState(Runtime.RuleStateReader reader)
        {
            foreach (var (key, field) in reader.ReadObject().Fields)
            {
                merged[key] = field;
            }
        }
    }

    /// <summary>Aggregates that need every value (collect and the statistics): the values in order.</summary>
    private sealed class ValuesAccumulator(string name) : Accumulator
    {
        private readonly List<Value> values = [];

        public override Accumulator Empty() => new ValuesAccumulator(name);

        protected override void Validate(Value value)
        {
            if (name != "collect" && !value.IsNull && !value.IsNumber)
            {
                throw new EvaluationException($"run {name} function error: requires number but found {value.Describe()}");
            }
        }

        protected override void Take(Value value) => values.Add(value);

        protected override void MergeFrom(Accumulator later) => values.AddRange(((ValuesAccumulator)later).values);

        protected override Value Compute(Value[] options) =>
            name == "collect" ? Value.From(values.ToArray()) : Statistics.Apply(name, [.. values], options);

        protected override void SaveState(Runtime.RuleStateWriter writer) => writer.Write([.. values]);

        protected override void LoadState(Runtime.RuleStateReader reader) => values.AddRange(reader.ReadValues());
    }
}
