using EdgeStream.Abstractions;
using EdgeStream.Compilation;
using EdgeStream.Planning;
using EdgeStream.Sql.Ast;

namespace EdgeStream.Runtime;

/// <summary>
/// What a stateless rule runs per event, compiled once: decode, WHERE, then the select list into a result row.
/// Windows, joins, aggregates and functions are rejected at creation until the issues that add them land.
/// </summary>
internal sealed class RulePlan
{
    private readonly BoundSelect bound;
    private readonly Evaluator? where;
    private readonly (string Name, int Index, bool Invisible)[] fields;
    private readonly bool hasStar;
    private readonly (Evaluator Key, bool Descending)[] sortKeys;
    private readonly Evaluator[] groupKeys;
    private readonly Evaluator? having;
    private readonly Evaluator? windowFilter;
    private readonly Evaluator? slidingTrigger;

    private RulePlan(BoundSelect bound, RowDecoder decoder, ExpressionCompiler compiler)
    {
        this.bound = bound;
        Decoder = decoder;
        Compiler = compiler;
        if (bound.Statement.GroupBy?.Window is { } window)
        {
            Window = new WindowPlan(window);
        }

        sortKeys = bound.Statement.OrderBy.Select(o => (compiler.Compile(o.Expr), o.Descending)).ToArray();
        groupKeys = bound.Statement.GroupBy?.Keys.Select(compiler.Compile).ToArray() ?? [];
        windowFilter = bound.Statement.GroupBy?.Window?.Filter is { } filter ? compiler.Compile(filter) : null;
        slidingTrigger = bound.Statement.GroupBy?.Window?.Over?.When is { } when ? compiler.Compile(when) : null;
        having = bound.Statement.Having is null ? null : compiler.Compile(bound.Statement.Having);
        where = bound.Statement.Where is null ? null : compiler.Compile(bound.Statement.Where);
        fields = bound.Fields.Select((f, i) => (f.Name, i, f.Invisible)).Where(f => bound.Statement.Fields[f.i].Expr is not Wildcard).ToArray();
        hasStar = bound.Statement.Fields.Any(f => f.Expr is Wildcard);

        // Compile every item now, so an unsupported construct fails rule creation rather than the first event.
        compiler.CompileFields();
    }

    public RowDecoder Decoder { get; }

    /// <summary>
    /// The metric prefix of each logical operator, numbered in eKuiper's plan order from 2: WHERE before tumbling and hopping
    /// windows but after count and sliding windows, then the window's FILTER, the window, the aggregate (with GROUP BY keys), HAVING and
    /// the projection. Keys: <c>filter</c>, <c>windowFilter</c>, <c>window</c>, <c>aggregate</c>, <c>having</c>, <c>project</c>.
    /// </summary>
    public IReadOnlyDictionary<string, string> OperatorPrefixes()
    {
        var prefixes = new Dictionary<string, string>(StringComparer.Ordinal);
        var op = 2;
        void Add(string key, string name) => prefixes[key] = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"op_{op++}_{name}_0_");
        if (Window is { FiltersAfter: true })
        {
            Add("window", "window");
        }

        if (HasFilter)
        {
            Add("filter", "filter");
        }

        if (bound.Statement.GroupBy?.Window?.Filter is not null)
        {
            Add("windowFilter", "filter");
        }

        if (Window is { FiltersAfter: false })
        {
            Add("window", "window");
        }

        if (Window is not null && bound.Statement.GroupBy is { Keys.IsEmpty: false })
        {
            Add("aggregate", "aggregate");
        }

        if (Window is not null && bound.Statement.Having is not null)
        {
            Add("having", "having");
        }

        Add("project", "project");
        return prefixes;
    }

    /// <summary>The statement's time window, if any (processing time, tumbling or hopping).</summary>
    public WindowPlan? Window { get; }

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

        var groups = new Dictionary<GroupKey, List<Row>>();
        var order = new List<List<Row>>();
        foreach (var row in rows)
        {
            context.SetRow(row);
            var key = new GroupKey(groupKeys.Select(k => k(context)).ToArray());
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

    /// <summary>Whether the current row triggers a sliding window (its <c>OVER (WHEN …)</c>; every row without one).</summary>
    /// <exception cref="EvaluationException">The condition failed on this row.</exception>
    public bool SlidingTriggers(EvalContext context) => slidingTrigger is null || Operators.IsTrue(slidingTrigger(context));

    /// <summary>Whether the current group passes HAVING.</summary>
    /// <exception cref="EvaluationException">HAVING failed on this group.</exception>
    public bool Having(EvalContext context) => having is null || Operators.IsTrue(having(context));

    /// <summary>The values of one group's keys, compared by content.</summary>
    private sealed class GroupKey(Value[] values) : IEquatable<GroupKey>
    {
        private readonly Value[] values = values;

        public bool Equals(GroupKey? other) => other is not null && values.AsSpan().SequenceEqual(other.values);

        public override bool Equals(object? obj) => Equals(obj as GroupKey);

        public override int GetHashCode()
        {
            var hash = new HashCode();
            foreach (var value in values)
            {
                hash.Add(value);
            }

            return hash.ToHashCode();
        }
    }

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

    /// <summary>ORDER BY's comparison: nulls first, numbers by value, strings ordinal; other mixes are an error, worded as eKuiper's.</summary>
    private static int SortCompare(Value a, Value b)
    {
        if (a.IsNull || b.IsNull)
        {
            return a.IsNull == b.IsNull ? 0 : a.IsNull ? -1 : 1;
        }

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

    public ExpressionCompiler Compiler { get; }

    public StreamDefinition Source => bound.Sources[0].Definition;

    public SelectStatement Statement => bound.Statement;

    /// <param name="bound">The bound statement.</param>
    /// <param name="ruleId">The rule, for user functions' context.</param>
    /// <param name="format">The stream's payload format; null for JSON.</param>
    /// <param name="shared">The decoder of a <c>SHARED</c> stream, whose rows every rule of the stream reads; null to make one.</param>
    public static RulePlan Create(BoundSelect bound, string ruleId = "", IFormat? format = null, RowDecoder? shared = null)
    {
        var statement = bound.Statement;
        var window = statement.GroupBy?.Window;
        Reject(window is { Kind: not (WindowKind.Tumbling or WindowKind.Hopping or WindowKind.Count or WindowKind.Sliding) } ? window.Span : null, "only tumbling, hopping, sliding and count windows are implemented yet");
        Reject(window is { Kind: WindowKind.Sliding, Interval: not null } ? window.Span : null, "sliding windows with a delay are not implemented yet");
        Reject(window is { Kind: WindowKind.Count, Length: < 1 } ? window.Span : null, "a count window needs a size of at least 1");
        Reject(window is { Kind: WindowKind.Count, Interval: not null } ? window.Span : null, "count windows with an interval are not implemented yet");
        Reject(window is { Over: not null } and not { Kind: WindowKind.Sliding, Over: { PartitionBy.IsEmpty: true, When: not null } } ? window!.Span : null, "window OVER is not implemented yet for this window");
        Reject(window is null && bound.IsAggregate ? statement.Span : null, "aggregate functions need a window");
        Reject(statement.Joins.IsEmpty ? null : statement.Joins[0].Span, "joins are not implemented yet");
        Reject(window is null ? statement.Having?.Span : null, "HAVING needs a window");
        Reject(window is null && !statement.OrderBy.IsEmpty ? statement.OrderBy[0].Span : null, "ORDER BY needs a window");
        Reject(window is null && statement.Limit is not null ? statement.Span : null, "LIMIT needs a window");
        var decoder = shared ?? new RowDecoder(bound.Sources[0].Definition, UsedColumns(bound), format);
        return new RulePlan(bound, decoder, new ExpressionCompiler(bound, [decoder.Schema], ruleId));
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

    /// <summary>The column that carries an event's metadata with <c>sendMetaToSink</c>.</summary>
    public const string MetaColumn = "__meta";

    /// <summary>Whether the current row passes WHERE.</summary>
    /// <exception cref="EvaluationException">WHERE failed on this row.</exception>
    public bool Filter(EvalContext context) => where is null || Operators.IsTrue(where(context));

    /// <summary>The result row of the current row: <c>*</c> expands to its fields, null columns are left out unless asked.</summary>
    /// <exception cref="EvaluationException">A select item failed on this row.</exception>
    public ValueObject Project(EvalContext context, bool sendNilField, bool sendMeta = false)
    {
        var result = new ValueObject(fields.Length);
        if (hasStar)
        {
            var row = context.Rows[0]!;
            for (var slot = 0; slot < row.Values.Length; slot++)
            {
                var value = row.Values[slot];
                if (!value.IsNull || sendNilField)
                {
                    result[row.Schema.NameAt(slot)] = value;
                }
            }
        }

        foreach (var (name, index, invisible) in fields)
        {
            var value = context.Alias(index);
            if (!invisible && (!value.IsNull || sendNilField))
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
