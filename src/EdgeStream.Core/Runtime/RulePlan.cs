using EdgeStream.Abstractions;
using EdgeStream.Compilation;
using EdgeStream.Planning;
using EdgeStream.Sql;
using EdgeStream.Sql.Ast;

namespace EdgeStream.Runtime;

/// <summary>
/// What a rule runs, compiled once: a decoder per source, WHERE, the window's shape and conditions, joins, GROUP BY
/// keys, aggregates and analytic calls, HAVING, ORDER BY and the select list into result rows. Constructs not
/// implemented yet (most built-in scalar functions) are refused at creation, with their position.
/// </summary>
internal sealed class RulePlan
{
    private readonly BoundSelect bound;
    private readonly Evaluator? where;
    private readonly (int Source, Evaluator Part)[] preJoin = [];
    private readonly (string Name, int Index, bool Invisible)[] fields;
    private readonly bool hasStar;
    private readonly (Evaluator Key, bool Descending)[] sortKeys;
    private readonly Evaluator[] groupKeys;
    private readonly Evaluator? having;
    private readonly Evaluator? windowFilter;
    private readonly Evaluator? slidingTrigger;
    private readonly string?[] timestampFormats;
    private readonly int unnestField;
    private readonly HashSet<int> mergedFields;
    private readonly Evaluator? stateBegin;
    private readonly Evaluator? stateEmit;
    private readonly Evaluator[] partitionKeys = [];
    private readonly (JoinKind Kind, Evaluator? On)[] joins;

    private RulePlan(BoundSelect bound, RowDecoder[] decoders, ExpressionCompiler compiler, bool eventTime, TimeZoneInfo? timeZone, bool incremental)
    {
        this.bound = bound;
        Decoders = decoders;
        Decoder = decoders[0];
        joins = bound.Statement.Joins.Select(j => (j.Kind, j.On is null ? null : compiler.Compile(j.On))).ToArray();
        Compiler = compiler;
        EventTime = eventTime;
        timestampFormats = bound.Sources.Select(s => DotNetTimeFormat(s.Definition.Option("TIMESTAMP_FORMAT"))).ToArray();
        if (bound.Statement.GroupBy?.Window is { } window)
        {
            Window = new WindowPlan(window, timeZone);
        }

        sortKeys = bound.Statement.OrderBy.Select(o => (compiler.Compile(o.Expr), o.Descending)).ToArray();
        groupKeys = bound.Statement.GroupBy?.Keys.Select(compiler.Compile).ToArray() ?? [];
        windowFilter = bound.Statement.GroupBy?.Window?.Filter is { } filter ? compiler.Compile(filter) : null;
        slidingTrigger = bound.Statement.GroupBy?.Window?.Over?.When is { } when ? compiler.Compile(when) : null;
        if (bound.Statement.GroupBy?.Window is { Kind: WindowKind.State } state)
        {
            stateBegin = compiler.Compile(state.Begin!);
            stateEmit = compiler.Compile(state.Emit!);
            partitionKeys = state.Over?.PartitionBy.Select(compiler.Compile).ToArray() ?? [];
        }
        having = bound.Statement.Having is null ? null : compiler.Compile(bound.Statement.Having);
        where = bound.Statement.Where is null ? null : compiler.Compile(bound.Statement.Where);
        if (bound.Statement.Where is { } condition && bound.Statement.GroupBy?.Window is not null
            && !bound.Statement.Joins.IsEmpty && bound.Statement.Joins.All(j => j.Kind is JoinKind.Inner or JoinKind.Cross))
        {
            // As eKuiper's planner: the parts of WHERE (joined by AND) that read one stream only filter the window's rows
            // before the join; the rest runs after it. For inner joins the result is the same, with fewer rows joined.
            var parts = Conjuncts(condition).ToList();
            var early = parts.Select(p => (Part: p, Source: OnlySource(p))).Where(p => p.Source is { } i && !IsTable(i)).ToList();
            if (early.Count > 0)
            {
                preJoin = early.Select(p => (p.Source!.Value, compiler.Compile(p.Part))).ToArray();
                var late = parts.Except(early.Select(p => p.Part)).ToList();
                where = late.Count == 0 ? null : late.Select(compiler.Compile).Aggregate((a, b) => ctx => Operators.IsTrue(a(ctx)) && Operators.IsTrue(b(ctx)) ? Value.True : Value.False);
                HasPreJoinFilter = true;
            }
        }
        fields = bound.Fields.Select((f, i) => (f.Name, i, f.Invisible)).Where(f => bound.Statement.Fields[f.i].Expr is not Wildcard).ToArray();
        var expanding = bound.Statement.Fields.Select((f, i) => (f.Expr, Index: i))
            .Where(f => f.Expr is CallExpr { Name: var fn } && (IsFunction(fn, "unnest") || IsFunction(fn, "changed_cols") || IsFunction(fn, "extract"))).ToList();
        if (expanding.Count(f => IsFunction(((CallExpr)f.Expr).Name, "unnest")) > 1)
        {
            throw BindError.At(expanding.Where(f => IsFunction(((CallExpr)f.Expr).Name, "unnest")).Skip(1).First().Expr.Span, SqlErrorCode.InvalidUse,
                "a statement can unnest one array; a second unnest(…) is not supported");
        }

        unnestField = expanding.FirstOrDefault(f => IsFunction(((CallExpr)f.Expr).Name, "unnest")) is { Expr: not null } srf ? srf.Index : -1;
        mergedFields = expanding.Where(f => !IsFunction(((CallExpr)f.Expr).Name, "unnest")).Select(f => f.Index).ToHashSet();
        hasStar = bound.Statement.Fields.Any(f => f.Expr is Wildcard);

        // Compile every item now, so an unsupported construct fails rule creation rather than the first event.
        compiler.CompileFields();
        if (joins.Length > 0 && compiler.AnalyticCalls.Count > 0)
        {
            throw BindError.At(bound.Statement.Joins[0].Span, SqlErrorCode.InvalidUse, "analytic functions (lag, acc_sum…) in a join are not implemented yet");
        }

        if (Running && compiler.AggregateCalls.FirstOrDefault(a => !Accumulator.IsBounded(a.Name)) is { } holistic)
        {
            throw BindError.At(bound.Statement.Span, SqlErrorCode.InvalidUse,
                $"aggregate `{holistic.Name.TrimStart('\u0001').Replace("user:", string.Empty, StringComparison.Ordinal)}` needs a window: without one, an aggregate must update in constant memory as rows arrive (count, sum, avg, min, max, last_value, merge_agg)");
        }

        Aggregating = incremental && Window is { Kind: WindowKind.Tumbling or WindowKind.Hopping, Unit: not (TimeUnit.Hours or TimeUnit.Days) }
            && Groups && joins.Length == 0 && !(FiltersAfterWindow && where is not null)
            && compiler.AggregateCalls.All(a => Accumulator.Supports(a.Name));
    }

    /// <summary>The decoder of the first stream.</summary>
    public RowDecoder Decoder { get; }

    /// <summary>The decoder of each source, in FROM/JOIN order.</summary>
    public IReadOnlyList<RowDecoder> Decoders { get; }

    /// <summary>Whether the statement joins streams (inside its window).</summary>
    public bool HasJoins => joins.Length > 0;

    /// <summary>
    /// Joins a window's rows (each tagged with its source), left to right as written: for each combination so far,
    /// in arrival order, each row of the next source that meets <c>ON</c> (in arrival order). LEFT keeps a
    /// combination without a match (the source null), RIGHT keeps a row without one, FULL both, CROSS pairs all.
    /// Each result is a row that carries its parts (<see cref="Row.Joined"/>).
    /// </summary>
    /// <exception cref="EvaluationException"><c>ON</c> failed on a combination.</exception>
    /// <param name="rows">The window's rows (or the one row of a rule without a window), each tagged with its source.</param>
    /// <param name="context">The evaluation context.</param>
    /// <param name="tables">The current rows of each table source (null for a stream): a table joins with what it holds now.</param>
    public List<Row> Join(List<Row> rows, EvalContext context, IReadOnlyList<Row>?[] tables)
    {
        var sources = bound.Sources.Count;
        var current = new List<Row?[]>();
        foreach (var row in tables[0] ?? rows.Where(r => r.Source == 0))
        {
            var parts = new Row?[sources];
            parts[0] = row;
            current.Add(parts);
        }

        for (var j = 0; j < joins.Length; j++)
        {
            var source = j + 1;
            var (kind, on) = joins[j];
            var right = tables[source]?.ToList() ?? rows.Where(r => r.Source == source).ToList();
            var matchedRight = new bool[right.Count];
            var next = new List<Row?[]>();
            foreach (var left in current)
            {
                var matched = false;
                for (var r = 0; r < right.Count; r++)
                {
                    var parts = (Row?[])left.Clone();
                    parts[source] = right[r];
                    if (kind != JoinKind.Cross && on is not null)
                    {
                        context.SetParts(parts);
                        if (!Operators.IsTrue(on(context)))
                        {
                            continue;
                        }
                    }

                    matched = true;
                    matchedRight[r] = true;
                    next.Add(parts);
                }

                if (!matched && kind is JoinKind.Left or JoinKind.Full)
                {
                    next.Add(left);
                }
            }

            if (kind is JoinKind.Right or JoinKind.Full)
            {
                for (var r = 0; r < right.Count; r++)
                {
                    if (!matchedRight[r])
                    {
                        var parts = new Row?[sources];
                        parts[source] = right[r];
                        next.Add(parts);
                    }
                }
            }

            current = next;
        }

        return current.Select(parts =>
        {
            var first = parts.First(p => p is not null)!;
            return new Row(first.Schema, [], first.Timestamp) { Joined = parts };
        }).ToList();
    }

    /// <summary>
    /// The metric prefix of each logical operator, numbered in eKuiper's plan order from 2: WHERE before tumbling and hopping
    /// windows but after count and sliding windows (and every window under event time, which starts with a watermark),
    /// then the window's FILTER, the window, the aggregate (with GROUP BY keys), HAVING, ORDER BY and the projection.
    /// Keys: <c>watermark</c>, <c>filter</c>, <c>windowFilter</c>, <c>window</c>, <c>aggregate</c>, <c>having</c>,
    /// <c>order</c>, <c>project</c>.
    /// </summary>
    public IReadOnlyDictionary<string, string> OperatorPrefixes()
    {
        var prefixes = new Dictionary<string, string>(StringComparer.Ordinal);
        var op = 2;
        void Add(string key, string name) => prefixes[key] = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"op_{op++}_{name}_0_");
        var streams = bound.Sources.Count(s => !s.Definition.IsTable);
        var tables = bound.Sources.Count - streams;
        op += streams - 1; // eKuiper numbers each further stream's decoder
        if (EventTime)
        {
            op += streams; // eKuiper's event-time plan has one more operator per stream before its watermark
            Add("watermark", "watermark");
        }

        if (FiltersAfterWindow)
        {
            if (EventTime && bound.Statement.GroupBy?.Window?.Filter is not null)
            {
                // Under event time eKuiper counts the window's FILTER inside the window operator, under its number.
                prefixes["windowFilter"] = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"op_{op}_windowFilter_0_");
            }

            Add("window", "window");
        }

        if (tables > 0)
        {
            op += 3 * tables; // eKuiper's operators that read and keep each table
            Add("joinAligner", "join_aligner");
        }

        if (HasJoins)
        {
            Add("join", "join");
        }

        if (HasFilter)
        {
            Add("filter", "filter");
        }

        if (bound.Statement.GroupBy?.Window?.Filter is not null && !prefixes.ContainsKey("windowFilter"))
        {
            Add("windowFilter", "filter");
        }

        if (Window is not null && !FiltersAfterWindow)
        {
            Add("window", "window");
        }

        if ((Window is not null || Running) && bound.Statement.GroupBy is { Keys.IsEmpty: false })
        {
            Add("aggregate", "aggregate");
        }

        if ((Window is not null || Running) && bound.Statement.Having is not null)
        {
            Add("having", "having");
        }

        if (Window is not null && HasOrder)
        {
            Add("order", "order");
        }

        Add("project", "project");
        return prefixes;
    }

    /// <summary>
    /// Whether the window aggregates as rows arrive (<see cref="PaneWindowOperator"/>): a tumbling or hopping window in
    /// <c>ms</c>, <c>ss</c> or <c>mi</c> whose statement groups, joins nothing, has no WHERE after the window, and whose
    /// aggregates all have accumulators (not <c>deduplicate</c> or a user aggregate).
    /// </summary>
    public bool Aggregating { get; }

    /// <summary>
    /// A GROUP BY (keys or aggregates) without a window: a running aggregation. Each row updates its group's aggregates
    /// and sends the group's new result (EdgeStream's extension; eKuiper needs a window).
    /// </summary>
    public bool Running => Window is null && Groups;

    /// <summary>The GROUP BY key of the current row (one key for all rows without keys).</summary>
    /// <exception cref="EvaluationException">A key failed on this row.</exception>
    public object KeyOf(EvalContext context) => groupKeys.Length == 0 ? NoKey : new ValuesKey(Array.ConvertAll(groupKeys, k => k(context)));

    private static readonly object NoKey = new();

    /// <summary>A key's values, for a snapshot; null for the one key of a statement without keys.</summary>
    public static Value[]? KeyValues(object key) => key is ValuesKey group ? group.Values : null;

    /// <summary>The key <see cref="KeyValues"/> gave.</summary>
    public static object KeyFrom(Value[]? values) => values is null ? NoKey : new ValuesKey(values);

    /// <summary>Whether the statement calls analytic functions (lag, acc_sum…), which run on every row before WHERE.</summary>
    public bool HasAnalytics => Compiler.AnalyticCalls.Count > 0;

    /// <summary>Whether the rule keeps state between rows (a window, running totals, tables, analytic calls): one task runs it.</summary>
    public bool Stateful => Window is not null || Running || SourceCount > 1 || HasAnalytics || EventTime;

    /// <summary>Whether the rule changes its rows (event time, analytic results), so it works on its own copies.</summary>
    public bool PrivateRows => EventTime || HasAnalytics;

    /// <summary>Runs every analytic call on the context's row, in arrival order (state moves also for rows WHERE drops).</summary>
    /// <exception cref="EvaluationException">A call failed on this row.</exception>
    public void RunAnalytics(EvalContext context)
    {
        var calls = Compiler.AnalyticCalls;
        foreach (var call in calls)
        {
            call.Evaluate(context, calls.Count);
        }
    }

    /// <summary>The statement's aggregate calls (after construction, all of them).</summary>
    public IReadOnlyList<AggregateSpec> AggregateCalls => Compiler.AggregateCalls;

    /// <summary>The engine's bounds on inputs, events per window and groups.</summary>
    public InputLimits Limits => Compiler.Environment.Limits;

    /// <summary>The statement's window, if any.</summary>
    public WindowPlan? Window { get; }

    /// <summary>Whether the rule runs on event time (rows ordered behind a watermark).</summary>
    public bool EventTime { get; }

    /// <summary>Whether WHERE runs on a window's rows when it fires (count, sliding and state windows, and event time).</summary>
    public bool FiltersAfterWindow => Window is { } window && (window.FiltersAfter(EventTime) || HasJoins);

    /// <summary>The <c>KEY</c> and <c>RETAIN_SIZE</c> of table source <paramref name="index"/>.</summary>
    public (string? Key, int RetainSize) TableRetention(int index)
    {
        var table = bound.Sources[index].Definition;
        var retain = int.TryParse(table.Option("RETAIN_SIZE"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var size) ? size : 0;
        return (table.Option("KEY"), retain);
    }

    /// <summary>
    /// Whether a window's rows become groups, one result row each (the query aggregates or has GROUP BY keys),
    /// rather than one result row per input row.
    /// </summary>
    public bool Groups => bound.IsAggregate || groupKeys.Length > 0;

    /// <summary>A window's rows split by the GROUP BY keys, groups in order of first appearance; all in one group without keys.</summary>
    /// <exception cref="EvaluationException">A key failed on a row.</exception>
    public List<List<Row>> Group(List<Row> rows, EvalContext context)
    {
        if (groupKeys.Length == 0)
        {
            return rows.Count == 0 ? [] : [rows];
        }

        var groups = new Dictionary<ValuesKey, List<Row>>();
        var order = new List<List<Row>>();
        foreach (var row in rows)
        {
            context.SetRow(row);
            var key = new ValuesKey(groupKeys.Select(k => k(context)).ToArray());
            if (!groups.TryGetValue(key, out var group))
            {
                groups[key] = group = [];
                order.Add(group);
            }

            group.Add(row);
        }

        return order;
    }

    /// <summary>Whether the current row may enter the window (its <c>FILTER (WHERE …)</c>).</summary>
    /// <exception cref="EvaluationException">The filter failed on this row.</exception>
    public bool WindowFilter(EvalContext context) => windowFilter is null || Operators.IsTrue(windowFilter(context));

    /// <summary>A state window's conditions and partition key on the current row.</summary>
    public (Func<EvalContext, bool> Begin, Func<EvalContext, bool> Emit, Func<EvalContext, object> PartitionOf)? StateWindow =>
        stateBegin is null ? null : (
            ctx => Operators.IsTrue(stateBegin(ctx)),
            ctx => Operators.IsTrue(stateEmit!(ctx)),
            ctx => partitionKeys.Length == 0 ? NoKey : new ValuesKey(Array.ConvertAll(partitionKeys, k => k(ctx))));

    /// <summary>Whether the current row triggers a sliding window (its <c>OVER (WHEN …)</c>; every row without one).</summary>
    /// <exception cref="EvaluationException">The condition failed on this row.</exception>
    public bool SlidingTriggers(EvalContext context) => slidingTrigger is null || Operators.IsTrue(slidingTrigger(context));

    /// <summary>Whether the statement has HAVING.</summary>
    public bool HasHaving => having is not null;

    /// <summary>Whether the current group passes HAVING.</summary>
    /// <exception cref="EvaluationException">HAVING failed on this group.</exception>
    public bool Having(EvalContext context) => having is null || Operators.IsTrue(having(context));

    /// <summary>The LIMIT, if any.</summary>
    public long? Limit => bound.Statement.Limit;

    /// <summary>Whether the statement has ORDER BY.</summary>
    public bool HasOrder => sortKeys.Length > 0;

    /// <summary>
    /// Sorts a window's rows by ORDER BY, evaluating the keys on each input row (as eKuiper sorts before projecting).
    /// </summary>
    /// <exception cref="EvaluationException">Two keys cannot be compared (an integer and a string).</exception>
    public List<Row> Sort(List<Row> rows, EvalContext context)
    {
        var keyed = new List<(Row Row, Value[] Keys)>(rows.Count);
        foreach (var row in rows)
        {
            context.SetRow(row);
            keyed.Add((row, SortKeys(context)));
        }

        return SortBy(keyed, k => k.Keys).Select(k => k.Row).ToList();
    }

    /// <summary>The ORDER BY keys of the current row or group.</summary>
    public Value[] SortKeys(EvalContext context) => sortKeys.Select(k => k.Key(context)).ToArray();

    /// <summary>A stable sort by ORDER BY keys already evaluated: equal keys keep their order.</summary>
    /// <exception cref="EvaluationException">Two keys cannot be compared.</exception>
    public List<T> SortBy<T>(List<T> items, Func<T, Value[]> keys)
    {
        var ordered = items.Select((item, i) => (Item: item, Keys: keys(item), Index: i)).ToList();
        try
        {
            // List.Sort wraps a comparer's exception; unwrap ours.
            ordered.Sort((a, b) =>
            {
                for (var i = 0; i < sortKeys.Length; i++)
                {
                    if (a.Keys[i].IsNull || b.Keys[i].IsNull)
                    {
                        // As eKuiper's sorter: a null is never less than a value, so nulls come last either way.
                        if (a.Keys[i].IsNull != b.Keys[i].IsNull)
                        {
                            return a.Keys[i].IsNull ? 1 : -1;
                        }

                        continue;
                    }

                    var order = SortCompare(a.Keys[i], b.Keys[i]);
                    if (order != 0)
                    {
                        return sortKeys[i].Descending ? -order : order;
                    }
                }

                return a.Index.CompareTo(b.Index);
            });
        }
        catch (InvalidOperationException e) when (e.InnerException is EvaluationException inner)
        {
            throw inner;
        }

        return ordered.Select(o => o.Item).ToList();
    }

    /// <summary>ORDER BY's comparison of two values that are not null: numbers by value, strings ordinal; other mixes are an error, worded as eKuiper's.</summary>
    private static int SortCompare(Value a, Value b)
    {
        if (a.IsNumber && b.IsNumber)
        {
            return a.Kind == ValueKind.Integer && b.Kind == ValueKind.Integer ? a.AsInteger.CompareTo(b.AsInteger) : a.AsDouble.CompareTo(b.AsDouble);
        }

        return (a.Kind, b.Kind) switch
        {
            (ValueKind.String, ValueKind.String) => string.CompareOrdinal(a.AsString, b.AsString),
            (ValueKind.Boolean, ValueKind.Boolean) => a.AsBoolean.CompareTo(b.AsBoolean),
            (ValueKind.Datetime, ValueKind.Datetime) => a.AsDatetimeMs.CompareTo(b.AsDatetimeMs),
            _ => throw new EvaluationException($"incompatible types for comparison: {SortTypeName(a)} and {SortTypeName(b)}"),
        };
    }

    private static string SortTypeName(Value value) => value.Kind switch
    {
        ValueKind.Integer => "int",
        ValueKind.Float => "float",
        ValueKind.String => "string",
        ValueKind.Boolean => "bool",
        ValueKind.Datetime => "datetime",
        _ => value.TypeName,
    };

    /// <summary>Whether the statement has a WHERE clause (a filter operator in eKuiper's plan).</summary>
    public bool HasFilter => where is not null;

    /// <summary>
    /// For a stateless rule whose WHERE starts with <c>column = constant</c> (a string constant on a STRING column, an
    /// integer on a BIGINT one), the events it can pass: AND evaluates left to right and stops at the first false,
    /// so an event whose column holds another value of that type leaves the rule no result, error or state. Null
    /// otherwise.
    /// </summary>
    public Memory.Route? Route()
    {
        if (Stateful || bound.Statement.Where is not { } condition || !Decoder.Schema.IsFixed)
        {
            return null;
        }

        var first = condition;
        while (first is BinaryExpr { Operator: BinaryOperator.And } and)
        {
            first = and.Left;
        }

        if (first is not BinaryExpr { Operator: BinaryOperator.Equal } equal)
        {
            return null;
        }

        var (field, constant) = equal.Left is FieldRef ? (equal.Left, equal.Right) : (equal.Right, equal.Left);
        if (!bound.Names.TryGetValue(field, out var name) || name is not { Column: { } column, Alias: null }
            || !ReferenceEquals(name.Source?.Definition, Source) || !Decoder.Schema.TryGetSlot(column.Name, out var slot))
        {
            return null;
        }

        return (column.Type.Kind, constant) switch
        {
            (SqlTypeKind.String, StringLiteral text) => new Memory.Route(slot, new Memory.RouteKey(ValueKind.String, 0, text.Value)),
            (SqlTypeKind.Bigint, IntegerLiteral number) => new Memory.Route(slot, new Memory.RouteKey(ValueKind.Integer, number.Value, null)),
            _ => null,
        };
    }

    public ExpressionCompiler Compiler { get; }

    public StreamDefinition Source => bound.Sources[0].Definition;

    /// <summary>The streams and tables joined to the first source, in JOIN order.</summary>
    public IEnumerable<StreamDefinition> JoinedStreams => bound.Sources.Skip(1).Select(s => s.Definition);

    /// <summary>Whether source <paramref name="index"/> is a table (its rows are kept, not windowed).</summary>
    public bool IsTable(int index) => bound.Sources[index].Definition.IsTable;

    /// <summary>How many sources the statement reads (FROM and each JOIN).</summary>
    public int SourceCount => bound.Sources.Count;

    public SelectStatement Statement => bound.Statement;

    /// <param name="bound">The bound statement.</param>
    /// <param name="environment">The rule as its functions see it (id, clock, time zone); a default one when null.</param>
    /// <param name="format">The stream's payload format; null for JSON.</param>
    /// <param name="shared">The decoder of a <c>SHARED</c> stream, whose rows every rule of the stream reads; null to make one.</param>
    /// <param name="eventTime">Whether the rule runs on event time (the stream's <c>TIMESTAMP</c> column is then always decoded).</param>
    /// <param name="timeZone">The zone that aligns <c>hh</c> and <c>dd</c> windows; UTC when null.</param>
    /// <param name="incremental">Whether tumbling and hopping windows may aggregate as rows arrive (false: always over the window's rows).</param>
    public static RulePlan Create(BoundSelect bound, Functions.Builtins.FunctionEnvironment? environment = null, IFormat? format = null, RowDecoder? shared = null, bool eventTime = false,
        TimeZoneInfo? timeZone = null, bool incremental = true)
    {
        var statement = bound.Statement;
        var window = statement.GroupBy?.Window;
        Reject(window is { Kind: WindowKind.Count, Length: < 1 } ? window.Span : null, "a count window needs a size of at least 1");
        Reject(window is { Over: not null } and not ({ Kind: WindowKind.Sliding, Over: { PartitionBy.IsEmpty: true, When: not null } } or { Kind: WindowKind.State, Over.When: null })
            ? window!.Span : null, "window OVER is not implemented yet for this window");
        var running = window is null && (bound.IsAggregate || statement.GroupBy is { Keys.IsEmpty: false });
        Reject(running && !statement.Joins.IsEmpty ? statement.Joins[0].Span : null, "GROUP BY without a window cannot join yet; add a window");
        var streams = bound.Sources.Count(s => !s.Definition.IsTable);
        Reject(streams == 0 ? statement.From.Span : null, "a rule needs a stream: it reads only tables");
        Reject(streams > 1 && window is null ? statement.Joins[0].Span : null, "a join of streams needs a window");
        Reject(streams > 1 && window is { Kind: WindowKind.Count } ? statement.Joins[0].Span : null, "a join of streams needs a time window, not a count window");
        Reject(statement.Joins.Where((j, i) => j.Kind is JoinKind.Right or JoinKind.Full && (bound.Sources[i + 1].Definition.IsTable || bound.Sources[0].Definition.IsTable)).FirstOrDefault()?.Span,
            "a join with a table is INNER, LEFT or CROSS: a table's unmatched rows have no event to go with");
        Reject(window is null && !running ? statement.Having?.Span : null, "HAVING needs a window, GROUP BY keys or an aggregate");
        Reject(window is null && !statement.OrderBy.IsEmpty ? statement.OrderBy[0].Span : null, "ORDER BY needs a window");
        Reject(window is null && statement.Limit is not null ? statement.Span : null, "LIMIT needs a window");
        var used = UsedColumns(bound);
        if (eventTime && bound.Sources[0].Definition.TimestampField is { } timestamp)
        {
            used?.Add(timestamp);
        }

        // A joined stream is decoded whole (its JSON), with its own schema.
        var decoders = new RowDecoder[bound.Sources.Count];
        var limits = environment?.Limits ?? InputLimits.Default;
        decoders[0] = shared ?? new RowDecoder(bound.Sources[0].Definition, bound.Sources.Count > 1 ? null : used, format, limits);
        for (var i = 1; i < decoders.Length; i++)
        {
            decoders[i] = new RowDecoder(bound.Sources[i].Definition, limits: limits);
        }

        return new RulePlan(bound, decoders, new ExpressionCompiler(bound, decoders.Select(d => d.Schema).ToArray(), environment), eventTime, timeZone, incremental);
    }

    /// <summary>The columns the statement reads, or null when it reads them all (a <c>*</c> anywhere).</summary>
    private static HashSet<string>? UsedColumns(BoundSelect bound)
    {
        if (bound.Types.Keys.Any(e => e is Wildcard) || bound.Statement.Fields.Any(f => f.Expr is Wildcard))
        {
            return null;
        }

        return bound.Names.Values.Where(n => n.Column is not null).Select(n => n.Column!.Name).ToHashSet(StringComparer.Ordinal);
    }

    private static void Reject(Diagnostics.SourceSpan? span, string reason)
    {
        if (span is { } at)
        {
            throw BindError.At(at, SqlErrorCode.InvalidUse, reason);
        }
    }

    /// <summary>
    /// A row's event time (Unix ms): its <c>TIMESTAMP</c> column — an integer or float of milliseconds, a datetime, or a
    /// string in the stream's <c>TIMESTAMP_FORMAT</c> (ISO 8601 without one; UTC unless it names an offset). Without a
    /// <c>TIMESTAMP</c> column, the arrival time.
    /// </summary>
    /// <exception cref="EvaluationException">The column is missing or cannot be read as a time.</exception>
    public long EventTimeOf(Row row)
    {
        if (bound.Sources[row.Source].Definition.TimestampField is not { } field)
        {
            return row.Timestamp;
        }

        var value = row.Schema.TryGetSlot(field, out var slot) ? row[slot] : Value.Null;
        switch (value.Kind)
        {
            case ValueKind.Integer or ValueKind.Datetime:
                return InRange(value.AsInteger, field);
            case ValueKind.Float when double.IsFinite(value.AsDouble) && Math.Abs(value.AsDouble) < MaxEventTime:
                return InRange((long)value.AsDouble, field);
            case ValueKind.String when ParseTime(value.AsString, timestampFormats[row.Source]) is { } parsed:
                return parsed;
            case ValueKind.Null:
                throw new EvaluationException($"the event has no time: its TIMESTAMP column `{field}` is missing or null");
            default:
                throw new EvaluationException($"cannot read {value.Describe()} in TIMESTAMP column `{field}` as an event time");
        }
    }

    /// <summary>The greatest event time taken, in ms: the end of year 9999 (a later one is a unit mistake, µs or ns).</summary>
    private const long MaxEventTime = 253_402_300_799_999;

    private static long InRange(long time, string field) => time is >= -MaxEventTime and <= MaxEventTime
        ? time
        : throw new EvaluationException($"event time {time} in TIMESTAMP column `{field}` is out of range: it must be milliseconds since 1970 before the year 10000");

    private static long? ParseTime(string text, string? timestampFormat)
    {
        var styles = System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal;
        var parsed = timestampFormat is { } format
            ? DateTimeOffset.TryParseExact(text, format, System.Globalization.CultureInfo.InvariantCulture, styles, out var exact) ? exact : (DateTimeOffset?)null
            : DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, styles, out var any) ? any : null;
        return parsed?.ToUnixTimeMilliseconds();
    }

    /// <summary>
    /// eKuiper's <c>TIMESTAMP_FORMAT</c> (Java-style: <c>YYYY-MM-dd HH:mm:ss.SSS</c>) as a .NET format: <c>Y</c> and
    /// <c>D</c> for year and day, <c>S</c> for fractions of a second, <c>a</c> for AM/PM, <c>Z</c> for an offset.
    /// </summary>
    internal static string? DotNetTimeFormat(string? format) => format is null ? null : System.Text.RegularExpressions.Regex.Replace(
        format,
        "Y+|D+|S+|a|Z+|X+",
        m => m.Value[0] switch
        {
            'Y' => new string('y', m.Length),
            'D' => new string('d', m.Length),
            'S' => new string('f', m.Length),
            'a' => "tt",
            _ => "zzz",
        },
        System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>The column that carries an event's metadata with <c>sendMetaToSink</c>.</summary>
    public const string MetaColumn = "__meta";

    /// <summary>Whether part of WHERE runs on a window's rows before its join (<see cref="PassesBeforeJoin"/>).</summary>
    public bool HasPreJoinFilter { get; }

    /// <summary>Whether the current row (of one stream) passes the parts of WHERE that read only its stream.</summary>
    /// <exception cref="EvaluationException">A part failed on this row.</exception>
    public bool PassesBeforeJoin(Row row, EvalContext context)
    {
        foreach (var (source, part) in preJoin)
        {
            if (row.Source == source)
            {
                context.SetRow(row);
                if (!Operators.IsTrue(part(context)))
                {
                    return false;
                }
            }
        }

        return true;
    }

    private static IEnumerable<Expr> Conjuncts(Expr expr) => expr is BinaryExpr { Operator: BinaryOperator.And } and
        ? Conjuncts(and.Left).Concat(Conjuncts(and.Right))
        : [expr];

    /// <summary>
    /// The one source an expression reads, found from the names bound inside its text; null when it reads several,
    /// none, an alias or a name resolved only at run time.
    /// </summary>
    private int? OnlySource(Expr expr)
    {
        int? found = null;
        foreach (var (name, binding) in bound.Names)
        {
            if (name.Span.Start < expr.Span.Start || name.Span.End > expr.Span.End || name.Span.IsNone)
            {
                continue;
            }

            if (binding.Alias is not null || binding.Source is null)
            {
                return null;
            }

            var index = IndexOf(binding.Source);
            if (found is { } other && other != index)
            {
                return null;
            }

            found = index;
        }

        return found;
    }

    private int IndexOf(BoundSource source)
    {
        for (var i = 0; i < bound.Sources.Count; i++)
        {
            if (ReferenceEquals(bound.Sources[i], source))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Whether the current row passes WHERE.</summary>
    /// <exception cref="EvaluationException">WHERE failed on this row.</exception>
    public bool Filter(EvalContext context) => where is null || Operators.IsTrue(where(context));

    /// <summary>The result row of the current row: <c>*</c> expands to its fields, null columns are left out unless asked.</summary>
    /// <exception cref="EvaluationException">A select item failed on this row.</exception>
    public ValueObject Project(EvalContext context, bool sendNilField, bool sendMeta = false) => Project(context, sendNilField, sendMeta, -1);

    /// <summary>Whether a select item is <c>unnest(…)</c>, so a row may give several results (<see cref="ProjectAll"/>).</summary>
    public bool Unnests => unnestField >= 0;

    private static bool IsFunction(string name, string function) => name.Equals(function, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The result rows of the current row: one, or with <c>unnest(array)</c> one per element (an element that is an
    /// object gives its fields as columns, over any of the same name; another value the item's column); none for an
    /// empty array.
    /// </summary>
    /// <exception cref="EvaluationException">A select item failed, or unnest's argument is not an array.</exception>
    public List<ValueObject> ProjectAll(EvalContext context, bool sendNilField, bool sendMeta = false)
    {
        if (unnestField < 0)
        {
            return [Project(context, sendNilField, sendMeta, -1)];
        }

        var argument = context.Alias(unnestField);
        if (argument.Kind != ValueKind.Array)
        {
            throw new EvaluationException("the argument for the unnest function should be array");
        }

        var common = Project(context, sendNilField, sendMeta, unnestField);
        var name = bound.Fields[unnestField].Name;
        var results = new List<ValueObject>(argument.AsArray.Length);
        foreach (var element in argument.AsArray)
        {
            var result = new ValueObject(common.Count + 2);
            foreach (var (key, value) in common.Fields)
            {
                result[key] = value;
            }

            if (element.Kind == ValueKind.Object)
            {
                foreach (var (key, value) in element.AsObject.Fields)
                {
                    if (!value.IsNull || sendNilField)
                    {
                        result[key] = value;
                    }
                }
            }
            else if (!element.IsNull || sendNilField)
            {
                result[name] = element;
            }

            results.Add(result);
        }

        return results;
    }

    private ValueObject Project(EvalContext context, bool sendNilField, bool sendMeta, int skip)
    {
        var result = new ValueObject(fields.Length);
        if (hasStar)
        {
            // A joined combination gives the fields of each of its rows; an earlier source's field wins a clash, even
            // when its value is null (which is then left out like any null).
            var seen = context.Rows.Length > 1 ? new HashSet<string>(StringComparer.Ordinal) : null;
            foreach (var row in context.Rows)
            {
                if (row is null)
                {
                    continue;
                }

                for (var slot = 0; slot < row.Values.Length; slot++)
                {
                    var value = row.Values[slot];
                    var name = row.Schema.NameAt(slot);
                    if ((seen is null || seen.Add(name)) && (!value.IsNull || sendNilField))
                    {
                        result[name] = value;
                    }
                }
            }
        }

        foreach (var (name, index, invisible) in fields)
        {
            if (index == skip)
            {
                continue;
            }

            var value = context.Alias(index);
            if (mergedFields.Contains(index) && value.Kind == ValueKind.Object)
            {
                // changed_cols(…) gives a column per changed argument, extract(…) one per field: not one column of their own.
                foreach (var (key, changed) in value.AsObject.Fields)
                {
                    result[key] = changed;
                }
            }
            else if (!invisible && (!value.IsNull || sendNilField))
            {
                result[name] = value;
            }
        }

        if (sendMeta && context.Rows[0]?.Meta is { } meta)
        {
            result[MetaColumn] = Value.From(meta);
        }

        return result;
    }
}
