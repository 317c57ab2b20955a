using System.Collections.Frozen;
using EdgeStream.Abstractions;
using EdgeStream.Functions.Builtins;
using EdgeStream.Planning;
using EdgeStream.Sql.Ast;

namespace EdgeStream.Compilation;

/// <summary>
/// Turns bound expressions into closure trees (<see cref="Evaluator"/>) once, at rule creation: names become slot
/// reads, literals become constants, LIKE patterns are prepared. Nothing is looked up by name or re-interpreted
/// from the AST per row, and no <c>System.Linq.Expressions</c> is used, so it runs the same under Native AOT.
/// </summary>
internal sealed class ExpressionCompiler
{
    private readonly BoundSelect bound;
    private readonly IReadOnlyList<RowSchema> schemas;
    private readonly string ruleId;
    private readonly Dictionary<Evaluator, Value> constants = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<CallExpr, Value> folded = new(ReferenceEqualityComparer.Instance); // a call is folded once, however often it compiles
    private readonly Dictionary<SelectField, int> aliasIndex = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<BoundSource, int> sourceIndex = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<CallExpr, int> aggregateIds = new(ReferenceEqualityComparer.Instance);
    private readonly List<AggregateSpec> aggregates = [];
    private readonly Dictionary<CallExpr, int> analyticIds = new(ReferenceEqualityComparer.Instance);
    private readonly List<AnalyticCall> analytics = [];

    /// <summary>The statement's analytic calls, each once, in an order where a nested call comes after the one holding it.</summary>
    public IReadOnlyList<AnalyticCall> AnalyticCalls => analytics;

    /// <summary>The statement's aggregate calls compiled so far, each once (a user aggregate's name is marked, so it has no accumulator).</summary>
    public IReadOnlyList<AggregateSpec> AggregateCalls => aggregates;

    /// <param name="bound">The bound statement whose expressions are compiled.</param>
    /// <param name="schemas">The row schema of each source, in <see cref="BoundSelect.Sources"/> order.</param>
    /// <param name="environment">The rule as its functions see it (id, clock, time zone); <see cref="FunctionEnvironment.Default"/> when null.</param>
    public ExpressionCompiler(BoundSelect bound, IReadOnlyList<RowSchema> schemas, FunctionEnvironment? environment = null)
    {
        Environment = environment ?? FunctionEnvironment.Default;
        ruleId = Environment.RuleId;
        this.bound = bound;
        this.schemas = schemas;
        for (var i = 0; i < bound.Statement.Fields.Count; i++)
        {
            aliasIndex[bound.Statement.Fields[i]] = i;
        }

        for (var i = 0; i < bound.Sources.Count; i++)
        {
            sourceIndex[bound.Sources[i]] = i;
        }
    }

    /// <summary>The rule as its functions see it.</summary>
    public FunctionEnvironment Environment { get; }

    /// <summary>An evaluator per select item (by position), for <see cref="EvalContext.Alias"/>; wildcards evaluate to null.</summary>
    public Evaluator[] CompileFields() =>
        bound.Statement.Fields.Select(f => f.Expr is Wildcard ? (_ => Value.Null) : Compile(f.Expr)).ToArray();

    public EvalContext CreateContext()
    {
        var context = new EvalContext(bound.Sources.Count, bound.Statement.Fields.Count);
        context.SetAliasEvaluators(CompileFields());
        return context;
    }

    public Evaluator Compile(Expr expr)
    {
        switch (expr)
        {
            case IntegerLiteral i:
                return Constant(Value.From(i.Value));
            case FloatLiteral f:
                return Constant(Value.From(f.Value));
            case StringLiteral s:
                return Constant(Value.From(s.Value));
            case BooleanLiteral b:
                return Constant(Value.From(b.Value));
            case NullLiteral:
                return Constant(Value.Null);
            case FieldRef or MemberAccess when bound.Names.TryGetValue(expr, out var binding):
                return CompileName(expr, binding);
            case MemberAccess m:
                {
                    var target = Compile(m.Target);
                    var name = m.Name;
                    return ctx => Operators.Member(target(ctx), name);
                }

            case IndexAccess ix:
                {
                    var target = Compile(ix.Target);
                    var index = Compile(ix.Index);
                    return ctx => Operators.Index(target(ctx), index(ctx));
                }

            case SliceAccess sl:
                {
                    var target = Compile(sl.Target);
                    var start = sl.Start is null ? null : Compile(sl.Start);
                    var end = sl.End is null ? null : Compile(sl.End);
                    return ctx => Operators.Slice(target(ctx), start?.Invoke(ctx), end?.Invoke(ctx));
                }

            case UnaryExpr { Operator: UnaryOperator.Not } n:
                {
                    var operand = Compile(n.Operand);
                    return ctx => Operators.Not(operand(ctx));
                }

            case UnaryExpr u:
                {
                    var operand = Compile(u.Operand);
                    if (constants.TryGetValue(operand, out var constant) && constant.IsNumber)
                    {
                        return Constant(Operators.Negate(constant)); // -1 is a constant, as a literal
                    }

                    return ctx => Operators.Negate(operand(ctx));
                }

            case BinaryExpr b:
                return CompileBinary(b);
            case BetweenExpr bt:
                {
                    var value = Compile(bt.Value);
                    var low = Compile(bt.Low);
                    var high = Compile(bt.High);
                    var negated = bt.Negated;
                    return ctx =>
                    {
                        var v = value(ctx);
                        var l = low(ctx);
                        var h = high(ctx);

                        // As eKuiper: any null operand makes both BETWEEN and NOT BETWEEN false.
                        return v.IsNull || l.IsNull || h.IsNull ? Value.False : Value.From(Operators.Between(v, l, h) != negated);
                    };
                }

            case InExpr { Array: { } arrayExpr } ia:
                {
                    var value = Compile(ia.Value);
                    var array = Compile(arrayExpr);
                    var negated = ia.Negated;
                    return ctx => Value.From(Operators.InArray(value(ctx), array(ctx)) != negated);
                }

            case InExpr ie:
                {
                    // As eKuiper: members are compared with `=` in order (a type mismatch met first is an error),
                    // and IN / NOT IN always give a boolean: a null value is in no list.
                    var value = Compile(ie.Value);
                    var items = ie.Items.Select(Compile).ToArray();
                    var negated = ie.Negated;
                    return ctx =>
                    {
                        var v = value(ctx);
                        if (!v.IsNull)
                        {
                            foreach (var item in items)
                            {
                                if (Operators.Compare(BinaryOperator.Equal, v, item(ctx)))
                                {
                                    return Value.From(!negated);
                                }
                            }
                        }

                        return Value.From(negated);
                    };
                }

            case LikeExpr l:
                return CompileLike(l);
            case IsNullExpr isn:
                {
                    var value = Compile(isn.Value);
                    var negated = isn.Negated;
                    return ctx => Value.From(value(ctx).IsNull != negated);
                }

            case CaseExpr c:
                return CompileCase(c);
            case ArrayLiteral a:
                {
                    var items = a.Items.Select(Compile).ToArray();
                    return ctx =>
                    {
                        var values = new Value[items.Length];
                        for (var i = 0; i < items.Length; i++)
                        {
                            values[i] = items[i](ctx);
                        }

                        return Value.From(values);
                    };
                }

            case ObjectLiteral o:
                {
                    var entries = o.Entries.Select(e => (e.Key, Value: Compile(e.Value))).ToArray();
                    return ctx =>
                    {
                        var obj = new ValueObject(entries.Length);
                        foreach (var (key, value) in entries)
                        {
                            obj[key] = value(ctx);
                        }

                        return Value.From(obj);
                    };
                }

            case CallExpr call when bound.Functions.TryGet(call.Name, out var info) && info.Implementation is IFunction function:
                return UserFunction(call, info, function);
            case CallExpr call when bound.Functions.TryGet(call.Name, out var aggregate) && aggregate.Kind == Functions.FunctionKind.Aggregate
                && (Aggregates.IsBuiltin(aggregate.Name) || aggregate.Implementation is IAggregateFunction):
                {
                    if (aggregate.Implementation is null)
                    {
                        CheckLiteralKinds(call, aggregate.Name);
                    }

                    var argument = call.Arguments.Count == 0 || call.Arguments[0] is Wildcard ? null : Compile(call.Arguments[0]);
                    var context = new FunctionContext(ruleId, aggregate.Name);
                    Func<IAggregateAccumulator>? user = aggregate.Implementation is IAggregateFunction custom ? () => custom.CreateAccumulator(context) : null;
                    var options = call.Arguments.Skip(1).Select(Compile).ToArray();
                    var filter = call.Filter is null ? null : Compile(call.Filter);
                    if (!aggregateIds.TryGetValue(call, out var id))
                    {
                        aggregateIds[call] = id = aggregates.Count;
                        aggregates.Add(new AggregateSpec(id, user is null ? aggregate.Name : "\u0001user:" + aggregate.Name, argument, options) { Filter = filter });
                    }

                    return Aggregates.Compile(aggregate.Name, argument, options, user, id, filter);
                }

            case CallExpr call when bound.Functions.TryGet(call.Name, out var analytic) && analytic.Kind == Functions.FunctionKind.Analytic
                && AnalyticCall.Supports(analytic.Name):
                {
                    CheckLiteralKinds(call, analytic.Name);
                    if (analytic.Name.StartsWith("acc_", StringComparison.Ordinal) && call.Arguments.Count == 2)
                    {
                        throw BindError.At(call.Span, SqlErrorCode.WrongArity, $"function `{call.Name}` takes 1 or 3 arguments (x, or x, begin, reset), not 2: {analytic.Signature}");
                    }

                    if (!analyticIds.TryGetValue(call, out var id))
                    {
                        // Registered before its arguments compile (a nested call gets a later id); results are computed
                        // on first use per row, so the order the calls run in does not matter.
                        analyticIds[call] = id = analytics.Count;
                        analytics.Add(null!);
                        analytics[id] = new AnalyticCall(
                            id,
                            analytic.Name,
                            call.Arguments.Select(Compile).ToArray(),
                            call.Over?.PartitionBy.Select(Compile).ToArray() ?? [],
                            call.Over?.When is { } when ? Compile(when) : null)
                        {
                            ColumnNames = call.Arguments.Select(ColumnName).ToArray(),
                        };
                    }

                    var target = analytics[id];
                    return ctx => target.Evaluate(ctx, analytics.Count);
                }

            case CallExpr { Name: var unnest, Arguments.Count: 1 } call when unnest.Equals("unnest", StringComparison.OrdinalIgnoreCase)
                && bound.Statement.Fields.Any(f => ReferenceEquals(f.Expr, call)):
                // A set-returning select item: it evaluates to its array, which the projection expands into rows.
                return Compile(call.Arguments[0]);
            case CallExpr { Name: var extract, Arguments.Count: 1 } call when extract.Equals("extract", StringComparison.OrdinalIgnoreCase)
                && bound.Statement.Fields.Any(f => ReferenceEquals(f.Expr, call)):
                {
                    // A set-returning select item: its object's fields become columns of the result (the projection merges
                    // them, as changed_cols'); null adds none.
                    var argument = Compile(call.Arguments[0]);
                    return ctx => argument(ctx) is { Kind: ValueKind.Object or ValueKind.Null } value
                        ? value
                        : throw new EvaluationException("run extract function error: extract should use map");
                }

            case CallExpr { Name: var metaName, Arguments: [var key] } when metaName.Equals("meta", StringComparison.OrdinalIgnoreCase) || metaName.Equals("mqtt", StringComparison.OrdinalIgnoreCase):
                return CompileMeta(key);
            case CallExpr { Name: var rowNumber, Arguments.Count: 0 } when rowNumber.Equals("row_number", StringComparison.OrdinalIgnoreCase):
                return ctx => Value.From(ctx.RowNumber == 0 ? 1L : ctx.RowNumber);
            case CallExpr call when call.Arguments.Count == 0 && Aggregates.CompileWindowFunction(call.Name.ToLowerInvariant()) is { } windowFunction:
                return windowFunction;
            case CallExpr call when bound.Functions.TryGet(call.Name, out var builtin) && builtin.Kind == Functions.FunctionKind.Scalar
                && BuiltinScalars.TryGet(builtin.Name, out var scalar):
                return CompileScalar(call, builtin, scalar);
            default:
                // What the binder lets through but nothing here runs (a registered name without an implementation).
                throw Planning.BindError.At(expr.Span, SqlErrorCode.InvalidUse, $"cannot run {DescribeUnsupported(expr)}");
        }
    }

    private static string DescribeUnsupported(Expr expr) => expr switch
    {
        CallExpr c => $"function `{c.Name}` here",
        Wildcard => "`*` here",
        _ => expr.GetType().Name,
    };

    private Evaluator Constant(Value value)
    {
        Evaluator evaluator = _ => value;
        constants[evaluator] = value;
        return evaluator;
    }

    /// <summary>Whether <paramref name="evaluator"/> always gives the same value (a literal, or a folded call), and which.</summary>
    internal bool TryGetConstant(Evaluator evaluator, out Value value) => constants.TryGetValue(evaluator, out value);

    /// <summary>
    /// A built-in scalar call: literal arguments are checked against the function's argument kinds (an error at their
    /// position), as eKuiper's validators do; the call is prepared once (a regex compiled, a pattern parsed), and a deterministic call whose
    /// arguments are all constants is computed here, once — a failure then is an error at rule creation.
    /// </summary>
    private Evaluator CompileScalar(CallExpr call, Functions.FunctionInfo info, ScalarFunction function)
    {
        if (folded.TryGetValue(call, out var known))
        {
            return Constant(known);
        }

        var name = function.Name;
        var arguments = call.Arguments.Select(Compile).ToArray();
        var values = new Value?[arguments.Length];
        for (var i = 0; i < arguments.Length; i++)
        {
            if (constants.TryGetValue(arguments[i], out var value))
            {
                values[i] = value;
                var kind = function.KindAt(i);
                if (IsLiteral(call.Arguments[i]) && !ScalarFunction.Fits(kind, value))
                {
                    throw BindError.At(call.Arguments[i].Span, SqlErrorCode.TypeMismatch,
                        $"{name}: argument {i + 1} must be {ScalarFunction.Describe(kind)}, not {value.Describe()}");
                }
            }
        }

        ScalarBody body;
        try
        {
            body = function.Prepare?.Invoke(new PreparedCall(name, values, call.Arguments.Select(SqlPrinter.Print).ToArray(), [.. call.Arguments.Select(a => a.Span), call.Span], Environment)) ?? function.Body;
        }
        catch (Exception e) when (e is not SqlException)
        {
            // A preparation that fails other than by refusing an argument still fails the rule's creation, at the call.
            throw BindError.At(call.Span, SqlErrorCode.InvalidValue, $"{name}: {e.Message}");
        }
        var evaluator = ScalarCall.Compile(name, body, arguments, Environment);
        if ((info.Flags & Functions.FunctionFlags.Volatile) == 0 && Array.TrueForAll(values, v => v.HasValue))
        {
            // Computed against a clock that notes being read: a time string without a date ('10:30' is today's, as
            // eKuiper reads it) depends on when the row comes, so such a call is not folded.
            var clock = new ClockProbe(Environment.Time);
            var probe = ScalarCall.Compile(name, body, arguments, Environment.WithClock(clock));
            Value value;
            try
            {
                value = probe(new EvalContext(bound.Sources.Count, 0));
            }
            catch (EvaluationException e) when (!clock.WasRead)
            {
                throw BindError.At(call.Span, SqlErrorCode.TypeMismatch, e.Message);
            }
            catch (EvaluationException)
            {
                return evaluator;
            }

            return clock.WasRead ? evaluator : Constant(folded[call] = value);
        }

        return evaluator;
    }

    /// <summary>A clock that remembers whether anything asked it the time.</summary>
    private sealed class ClockProbe(TimeProvider inner) : TimeProvider
    {
        public bool WasRead { get; private set; }

        public override TimeZoneInfo LocalTimeZone => inner.LocalTimeZone;

        public override long TimestampFrequency => inner.TimestampFrequency;

        public override DateTimeOffset GetUtcNow()
        {
            WasRead = true;
            return inner.GetUtcNow();
        }

        public override long GetTimestamp()
        {
            WasRead = true;
            return inner.GetTimestamp();
        }
    }

    /// <summary>
    /// The argument kinds of the built-in aggregates and analytic functions that take more than a value (letters as
    /// <see cref="ScalarFunction.ArgKinds"/>): their literal options are checked at rule creation, as eKuiper's
    /// validators check them.
    /// </summary>
    private static readonly FrozenDictionary<string, string> OptionKinds = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["lag"] = "xixb",
        ["changed_col"] = "bx",
        ["had_changed"] = "bx",
        ["changed_cols"] = "sbx",
        ["acc_sum"] = "xbb",
        ["acc_avg"] = "xbb",
        ["acc_min"] = "xbb",
        ["acc_max"] = "xbb",
        ["acc_count"] = "xbb",
        ["percentile_cont"] = "xn",
        ["percentile_disc"] = "xn",
        ["deduplicate"] = "xb",
        ["last_value"] = "xb",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>Refuses a literal option of the wrong kind (<c>lag(x, 'two')</c>) at its position.</summary>
    private static void CheckLiteralKinds(CallExpr call, string name)
    {
        if (!OptionKinds.TryGetValue(name, out var kinds))
        {
            return;
        }

        for (var i = 0; i < call.Arguments.Count; i++)
        {
            var kind = kinds[Math.Min(i, kinds.Length - 1)];
            if (LiteralValue(call.Arguments[i]) is { } value && !ScalarFunction.Fits(kind, value))
            {
                throw BindError.At(call.Arguments[i].Span, SqlErrorCode.TypeMismatch,
                    $"{name}: argument {i + 1} must be {ScalarFunction.Describe(kind)}, not {value.Describe()}");
            }
        }
    }

    /// <summary>A literal argument's value; null for anything else.</summary>
    private static Value? LiteralValue(Expr expr) => expr switch
    {
        IntegerLiteral i => Value.From(i.Value),
        FloatLiteral f => Value.From(f.Value),
        StringLiteral s => Value.From(s.Value),
        BooleanLiteral b => Value.From(b.Value),
        UnaryExpr { Operator: UnaryOperator.Negate, Operand: IntegerLiteral i } => Value.From(-i.Value),
        UnaryExpr { Operator: UnaryOperator.Negate, Operand: FloatLiteral f } => Value.From(-f.Value),
        _ => null,
    };

    /// <summary>
    /// Whether an argument is written as a literal (<c>'x'</c>, <c>-1</c>, <c>true</c>): what eKuiper's validators check
    /// types of at rule creation. A folded expression (<c>1 + 1</c>, <c>cast(…)</c>) is not, and is checked per row.
    /// </summary>
    private static bool IsLiteral(Expr expr) => expr is IntegerLiteral or FloatLiteral or StringLiteral or BooleanLiteral
        or UnaryExpr { Operator: UnaryOperator.Negate, Operand: IntegerLiteral or FloatLiteral };

    /// <summary>
    /// A user function: its own validation sees the arguments (constants with their values), and a deterministic one
    /// with constant arguments is computed once, here.
    /// </summary>
    private Evaluator UserFunction(CallExpr call, Functions.FunctionInfo info, IFunction function)
    {
        if (folded.TryGetValue(call, out var known))
        {
            return Constant(known);
        }

        var arguments = call.Arguments.Select(Compile).ToArray();
        var described = new FunctionArgument[arguments.Length];
        for (var i = 0; i < arguments.Length; i++)
        {
            var isConstant = constants.TryGetValue(arguments[i], out var value);
            described[i] = new FunctionArgument(i, isConstant, new SqlValue(value), SqlPrinter.Print(call.Arguments[i]));
        }

        try
        {
            function.Validate(described);
        }
        catch (FunctionArgumentException e)
        {
            var at = e.ArgumentIndex >= 0 && e.ArgumentIndex < arguments.Length ? call.Arguments[e.ArgumentIndex].Span : call.Span;
            throw BindError.At(at, SqlErrorCode.InvalidValue, $"{info.Name}: {e.Message}");
        }
        catch (Exception e) when (e is not SqlException)
        {
            throw BindError.At(call.Span, SqlErrorCode.InvalidValue, $"{info.Name}: {e.Message}");
        }

        var evaluator = UserFunctionCall.Compile(function, new FunctionContext(ruleId, info.Name), arguments);
        if (function.IsDeterministic && Array.TrueForAll(described, a => a.IsConstant))
        {
            try
            {
                return Constant(folded[call] = evaluator(new EvalContext(bound.Sources.Count, 0)));
            }
            catch (EvaluationException e)
            {
                throw BindError.At(call.Span, SqlErrorCode.InvalidValue, e.Message);
            }
        }

        return evaluator;
    }

    /// <summary>
    /// <c>meta(key)</c> / <c>meta(*)</c> (and <c>mqtt(key)</c>): the metadata its source passed with the current row —
    /// one entry, a nested one (<c>meta(a->b)</c>), or all of it; null when there is none.
    /// </summary>
    private static Evaluator CompileMeta(Expr key)
    {
        static ValueObject? MetaOf(EvalContext ctx) => Array.Find(ctx.Rows, r => r is not null)?.Meta;
        switch (key)
        {
            case Wildcard:
                return ctx => MetaOf(ctx) is { } all ? Value.From(all) : Value.Null;
            case FieldRef field:
                {
                    var name = field.Name;
                    return ctx => MetaOf(ctx) is { } all && all.TryGet(name, out var value) ? value : Value.Null;
                }

            case MemberAccess member:
                {
                    var target = CompileMeta(member.Target);
                    var name = member.Name;
                    return ctx => Operators.Member(target(ctx), name);
                }

            default:
                throw Planning.BindError.At(key.Span, SqlErrorCode.InvalidUse, "meta(…) takes a metadata key (meta(topic), meta(a->b)) or *");
        }
    }

    /// <summary>The column an argument names (changed_cols' output names): a field's or member's name, else the expression as written.</summary>
    private static string ColumnName(Expr expr) => expr switch
    {
        FieldRef field => field.Name,
        MemberAccess member => member.Name,
        _ => SqlPrinter.Print(expr),
    };

    private Evaluator CompileName(Expr expr, NameBinding binding)
    {
        if (binding.Alias is { } alias)
        {
            var index = aliasIndex[alias];
            return ctx => ctx.Alias(index);
        }

        var name = binding.Column?.Name ?? (expr is FieldRef f ? f.Name : ((MemberAccess)expr).Name);
        if (binding.Source is { } source)
        {
            var s = sourceIndex[source];
            var slot = schemas[s].GetOrAdd(name);
            if (slot < 0)
            {
                return Constant(Value.Null);
            }

            return ctx => ctx.Rows[s] is { } row ? row[slot] : Value.Null;
        }

        // A field of one of several schemaless sources: the first source whose row has it.
        var candidates = new List<(int Source, int Slot)>();
        for (var i = 0; i < schemas.Count; i++)
        {
            if (!schemas[i].IsFixed)
            {
                candidates.Add((i, schemas[i].GetOrAdd(name)));
            }
        }

        var lookups = candidates.ToArray();
        return ctx =>
        {
            foreach (var (s, slot) in lookups)
            {
                if (ctx.Rows[s] is { } row && !row[slot].IsNull)
                {
                    return row[slot];
                }
            }

            return Value.Null;
        };
    }

    private Evaluator CompileBinary(BinaryExpr b)
    {
        var left = Compile(b.Left);
        var right = Compile(b.Right);
        var op = b.Operator;
        switch (op)
        {
            case BinaryOperator.And:
                return ctx =>
                {
                    var l = Operators.Logical(left(ctx), "AND", Value.Null);
                    if (l.Kind == ValueKind.Boolean && !l.AsBoolean)
                    {
                        return Value.False;
                    }

                    var r = Operators.Logical(right(ctx), "AND", l);
                    if (r.Kind == ValueKind.Boolean && !r.AsBoolean)
                    {
                        return Value.False;
                    }

                    return l.IsNull || r.IsNull ? Value.Null : Value.True;
                };
            case BinaryOperator.Or:
                return ctx =>
                {
                    var l = Operators.Logical(left(ctx), "OR", Value.Null);
                    if (Operators.IsTrue(l))
                    {
                        return Value.True;
                    }

                    var r = Operators.Logical(right(ctx), "OR", l);
                    if (Operators.IsTrue(r))
                    {
                        return Value.True;
                    }

                    return l.IsNull || r.IsNull ? Value.Null : Value.False;
                };
            case BinaryOperator.Equal or BinaryOperator.NotEqual or BinaryOperator.Less or BinaryOperator.LessOrEqual
                or BinaryOperator.Greater or BinaryOperator.GreaterOrEqual:
                return ctx => Value.From(Operators.Compare(op, left(ctx), right(ctx)));
            default:
                return ctx => Operators.Arithmetic(op, left(ctx), right(ctx));
        }
    }

    private Evaluator CompileLike(LikeExpr l)
    {
        var value = Compile(l.Value);
        var negated = l.Negated;
        var escape = l.Escape?[0] ?? '\\';
        var timeout = Environment.Limits.MatchTimeout;
        if (l.Pattern is StringLiteral literal)
        {
            var pattern = new LikePattern(literal.Value, escape, timeout);
            return ctx => Match(value(ctx), pattern, negated);
        }

        var dynamicPattern = Compile(l.Pattern);
        return ctx =>
        {
            var p = dynamicPattern(ctx);
            if (p.IsNull)
            {
                return Value.False;
            }

            if (p.Kind != ValueKind.String)
            {
                throw new EvaluationException($"invalid LIKE pattern {p.Describe()}: must be a string");
            }

            return Match(value(ctx), new LikePattern(p.AsString, escape, timeout), negated);
        };
    }

    private static Value Match(Value v, LikePattern pattern, bool negated)
    {
        if (v.IsNull)
        {
            return Value.False;
        }

        if (v.Kind != ValueKind.String)
        {
            throw new EvaluationException($"invalid operation {v.Describe()} LIKE: must be a string");
        }

        return Value.From(pattern.IsMatch(v.AsString) != negated);
    }

    private Evaluator CompileCase(CaseExpr c)
    {
        var operand = c.Operand is null ? null : Compile(c.Operand);
        var whens = c.Whens.Select(w => (Condition: Compile(w.Condition), Result: Compile(w.Result))).ToArray();
        var otherwise = c.Else is null ? null : Compile(c.Else);
        return ctx =>
        {
            var subject = operand?.Invoke(ctx);
            foreach (var (condition, result) in whens)
            {
                var hit = subject is { } s ? Operators.Compare(BinaryOperator.Equal, s, condition(ctx)) : Operators.IsTrue(condition(ctx));
                if (hit)
                {
                    return result(ctx);
                }
            }

            return otherwise?.Invoke(ctx) ?? Value.Null;
        };
    }
}
