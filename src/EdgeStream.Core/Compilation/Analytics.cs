using EdgeStream.Abstractions;

namespace EdgeStream.Compilation;

/// <summary>
/// One analytic function call of a statement (<c>lag</c>, <c>latest</c>, <c>had_changed</c>, <c>changed_col</c>,
/// <c>acc_sum</c>/<c>acc_avg</c>/<c>acc_min</c>/<c>acc_max</c>/<c>acc_count</c>) with its state. As in eKuiper, every
/// row that reaches the rule runs every analytic call once, in arrival order and before WHERE, so state moves on also
/// for rows WHERE then drops; the row keeps the results, which the rest of the statement reads (later, for a row held
/// by a window). <c>OVER (PARTITION BY …)</c> keeps one state per key; <c>OVER (WHEN …)</c> moves the state only for rows
/// that meet the condition, and the others read it as it stands.
/// </summary>
internal sealed class AnalyticCall
{
    private readonly string name;
    private readonly Evaluator[] arguments;
    private readonly Evaluator[] partitionBy;
    private readonly Evaluator? when;
    private readonly Dictionary<ValuesKey, State> states = [];

    public AnalyticCall(int id, string name, Evaluator[] arguments, Evaluator[] partitionBy, Evaluator? when)
    {
        Id = id;
        this.name = name;
        this.arguments = arguments;
        this.partitionBy = partitionBy;
        this.when = when;
    }

    public int Id { get; }

    /// <summary>The names of the call's arguments as columns (changed_cols names its output after them).</summary>
    public string[] ColumnNames { get; init; } = [];

    /// <summary>Whether <paramref name="name"/> is an analytic function this class runs.</summary>
    public static bool Supports(string name) =>
        name is "lag" or "latest" or "had_changed" or "changed_col" or "changed_cols" or "acc_sum" or "acc_avg" or "acc_min" or "acc_max" or "acc_count";

    /// <summary>Forgets every partition's state (a rule that starts again starts afresh, as eKuiper's).</summary>
    public void Reset() => states.Clear();

    /// <summary>Writes every partition's state, for a rule snapshot.</summary>
    public void Save(Runtime.RuleStateWriter writer)
    {
        writer.Write(states.Count);
        foreach (var (key, state) in states)
        {
            writer.Write(key.Values);
            writer.Write([.. state.History]);
            writer.Write(state.Last);
            writer.Write(state.Seen);
            writer.Write(state.Previous is not null);
            if (state.Previous is { } previous)
            {
                writer.Write(Array.ConvertAll(previous, p => p ?? Value.Null));
                writer.Write(Array.ConvertAll(previous, p => Value.From(p.HasValue)));
            }

            writer.Write(state.Count);
            writer.Write(state.HasBegun);
            writer.Write(Value.From(state.Sum));
            writer.Write(Value.From(state.Min));
            writer.Write(Value.From(state.Max));
        }
    }

    /// <summary>Replaces the state with what <see cref="Save"/> wrote.</summary>
    public void Load(Runtime.RuleStateReader reader)
    {
        states.Clear();
        for (var i = reader.ReadInt(); i > 0; i--)
        {
            var key = new ValuesKey(reader.ReadValues());
            var state = new State();
            state.History.AddRange(reader.ReadValues());
            state.Last = reader.ReadValue();
            state.Seen = reader.ReadBool();
            if (reader.ReadBool())
            {
                var values = reader.ReadValues();
                var present = reader.ReadValues();
                state.Previous = values.Select((v, j) => present[j].AsBoolean ? v : (Value?)null).ToArray();
            }

            state.Count = reader.ReadLong();
            state.HasBegun = reader.ReadBool();
            state.Sum = reader.ReadValue().AsFloat;
            state.Min = reader.ReadValue().AsFloat;
            state.Max = reader.ReadValue().AsFloat;
            states[key] = state;
        }
    }

    /// <summary>The current row's result, computed on first use (<paramref name="count"/>: the statement's analytic calls).</summary>
    public Value Evaluate(EvalContext ctx, int count)
    {
        var row = Array.Find(ctx.Rows, r => r is not null) ?? throw new EvaluationException($"`{name}` needs a row");
        row.Analytics ??= new Value?[count];
        if (row.Analytics[Id] is { } done)
        {
            return done;
        }

        var value = Run(ctx);
        row.Analytics[Id] = value;
        return value;
    }

    /// <summary>Runs the call on the context's row: reads and moves its partition's state.</summary>
    /// <exception cref="EvaluationException">An argument, the partition key or the condition failed.</exception>
    private Value Run(EvalContext ctx)
    {
        var key = new ValuesKey(Array.ConvertAll(partitionBy, p => p(ctx)));
        if (!states.TryGetValue(key, out var state))
        {
            states[key] = state = new State();
        }

        var moves = when is null || Operators.IsTrue(when(ctx));
        var values = Array.ConvertAll(arguments, a => a(ctx));
        return name switch
        {
            "lag" => Lag(state, values, moves),
            "latest" => Latest(state, values, moves),
            "had_changed" => HadChanged(state, values, moves),
            "changed_col" => ChangedCol(state, values, moves),
            "changed_cols" => ChangedCols(state, values, moves),
            _ => Accumulate(state, values, moves),
        };
    }

    /// <summary><c>lag(x [, offset [, default [, ignore_null]]])</c>: x of the row <c>offset</c> rows before in the partition.</summary>
    private static Value Lag(State state, Value[] values, bool moves)
    {
        var offset = values.Length > 1 ? (values[1].Kind == ValueKind.Integer && values[1].AsInteger > 0 ? (int)Math.Min(values[1].AsInteger, 1_000_000) : throw new EvaluationException("lag's offset must be a positive integer")) : 1;
        var fallback = values.Length > 2 ? values[2] : Value.Null;
        var ignoreNull = values.Length > 3 && values[3].Kind == ValueKind.Boolean && values[3].AsBoolean;
        var history = state.History;
        var result = history.Count >= offset ? history[^offset] : fallback;
        if (moves && !(ignoreNull && values[0].IsNull))
        {
            history.Add(values[0]);
            if (history.Count > offset)
            {
                history.RemoveRange(0, history.Count - offset);
            }
        }

        return result;
    }

    /// <summary><c>latest(x [, default])</c>: the newest non-null x of the partition, this row's included.</summary>
    private static Value Latest(State state, Value[] values, bool moves)
    {
        if (moves && !values[0].IsNull)
        {
            state.Last = values[0];
            state.Seen = true;
        }

        return state.Seen ? state.Last : values.Length > 1 ? values[1] : Value.Null;
    }

    /// <summary><c>had_changed(ignore_null, x, …)</c>: whether any x differs from its value at the previous row (true at the first).</summary>
    private static Value HadChanged(State state, Value[] values, bool moves)
    {
        var ignoreNull = IgnoreNull(values[0], "had_changed");
        state.Previous ??= new Value?[values.Length - 1];
        var changed = false;
        for (var i = 1; i < values.Length; i++)
        {
            if (ignoreNull && values[i].IsNull)
            {
                continue;
            }

            if (state.Previous[i - 1] is not { } before || !before.Equals(values[i]))
            {
                changed = true;
                if (moves)
                {
                    state.Previous[i - 1] = values[i];
                }
            }
        }

        return Value.From(changed);
    }

    /// <summary><c>changed_col(ignore_null, x)</c>: x when it differs from its value at the previous row, else null.</summary>
    private static Value ChangedCol(State state, Value[] values, bool moves)
    {
        var ignoreNull = IgnoreNull(values[0], "changed_col");
        var value = values[1];
        if (ignoreNull && value.IsNull)
        {
            return Value.Null;
        }

        if (state.Seen && state.Last.Equals(value))
        {
            return Value.Null;
        }

        if (moves)
        {
            (state.Last, state.Seen) = (value, true);
        }

        return value;
    }

    /// <summary>
    /// <c>changed_cols(prefix, ignore_null, x, …)</c>: an object of the arguments whose value differs from the previous row's,
    /// each named prefix + its column name (all of them at the first row); the projection spreads it into columns.
    /// </summary>
    private Value ChangedCols(State state, Value[] values, bool moves)
    {
        var prefix = values[0].Kind == ValueKind.String ? values[0].AsString : throw new EvaluationException($"changed_cols' prefix must be a string, not {values[0].Describe()}");
        var ignoreNull = IgnoreNull(values[1], "changed_cols");
        state.Previous ??= new Value?[values.Length - 2];
        var changed = new ValueObject();
        for (var i = 2; i < values.Length; i++)
        {
            if ((ignoreNull && values[i].IsNull) || (state.Previous[i - 2] is { } before && before.Equals(values[i])))
            {
                continue;
            }

            changed[prefix + ColumnNames[i]] = values[i];
            if (moves)
            {
                state.Previous[i - 2] = values[i];
            }
        }

        return Value.From(changed);
    }

    /// <summary>
    /// The acc_* functions: a running aggregate of x over the partition (floats; acc_count an integer); 0 before the
    /// first number, as eKuiper's. Nulls are skipped. With <c>acc_sum(x, begin, reset)</c> the aggregate runs only from
    /// a row where <c>begin</c> holds until (and including) a row where <c>reset</c> holds, and starts from nothing
    /// at the next begin; outside such a run it reads 0, as eKuiper's <c>accFuncWithCond</c>.
    /// </summary>
    private Value Accumulate(State state, Value[] values, bool moves)
    {
        var conditional = values.Length == 3;
        if (conditional)
        {
            var begin = values[1].Kind == ValueKind.Boolean ? values[1].AsBoolean : throw new EvaluationException($"run {name} function error: onBegin should be boolean, not {values[1].Describe()}");
            var reset = values[2].Kind == ValueKind.Boolean ? values[2].AsBoolean : throw new EvaluationException($"run {name} function error: onReset should be boolean, not {values[2].Describe()}");
            if (!state.HasBegun)
            {
                (state.Count, state.Sum, state.Min, state.Max) = (0, 0, 0, 0);
                state.HasBegun = begin;
            }

            if (state.HasBegun)
            {
                Add(state, values[0], moves);
            }

            state.HasBegun &= !reset;
        }
        else
        {
            Add(state, values[0], moves);
        }

        if (name == "acc_count")
        {
            return Value.From(state.Count);
        }

        return state.Count == 0 ? Value.From(0.0) : Value.From(name switch
        {
            "acc_sum" => state.Sum,
            "acc_avg" => state.Sum / state.Count,
            "acc_min" => state.Min,
            _ => state.Max,
        });
    }

    private void Add(State state, Value value, bool moves)
    {
        if (!moves || value.IsNull)
        {
            return;
        }

        if (name != "acc_count")
        {
            if (!value.IsNumber)
            {
                throw new EvaluationException($"run {name} function error: requires number but found {value.Describe()}");
            }

            var x = value.AsDouble;
            state.Sum += x;
            state.Min = state.Count == 0 ? x : Math.Min(state.Min, x);
            state.Max = state.Count == 0 ? x : Math.Max(state.Max, x);
        }

        state.Count++;
    }

    private static bool IgnoreNull(Value value, string function) => value.Kind == ValueKind.Boolean
        ? value.AsBoolean
        : throw new EvaluationException($"{function}'s first argument (ignore null) must be a bool, not {value.Describe()}");

    /// <summary>One partition's state; each function uses its own fields.</summary>
    private sealed class State
    {
        public List<Value> History { get; } = [];

        public Value Last { get; set; }

        public bool Seen { get; set; }

        public Value?[]? Previous { get; set; }

        public long Count { get; set; }

        /// <summary>acc_* with begin/reset conditions: whether a run has begun and not yet been reset.</summary>
        public bool HasBegun { get; set; }

        public double Sum { get; set; }

        public double Min { get; set; }

        public double Max { get; set; }
    }
}
