using EdgeStream.Diagnostics;
using EdgeStream.Functions;
using EdgeStream.Sql;
using EdgeStream.Sql.Ast;

namespace EdgeStream.Planning;

/// <summary>
/// Resolves the names of a statement against the declared streams, checks function calls against the registry,
/// and infers static types, rejecting before a rule runs what can never work: unknown streams, fields and
/// functions, wrong argument counts, aggregates where they are not allowed, and type errors on typed streams.
/// </summary>
internal sealed class Binder(StreamCatalog catalog, FunctionRegistry functions)
{
    public StreamCatalog Catalog { get; } = catalog;

    public FunctionRegistry Functions { get; } = functions;

    /// <summary>Checks any statement; returns the bound SELECT for SELECT and EXPLAIN, else null.</summary>
    public BoundSelect? Bind(Statement statement)
    {
        switch (statement)
        {
            case SelectStatement select:
                return BindSelect(select);
            case ExplainStatement explain:
                return BindSelect(explain.Select);
            case CreateStreamStatement create:
                StreamDefinition.Create(create);
                return null;
            case DropStatement { Name: var name, IsTable: var isTable, Span: var span }:
                RequireDeclared(name, isTable, span);
                return null;
            case DescribeStatement { Name: var name, IsTable: var isTable, Span: var span }:
                RequireDeclared(name, isTable, span);
                return null;
            default:
                return null;
        }
    }

    private void RequireDeclared(string name, bool isTable, SourceSpan span)
    {
        if (!Catalog.TryGet(name, out var definition) || definition.IsTable != isTable)
        {
            throw BindError.At(span, SqlErrorCode.UnknownStream,
                $"unknown {(isTable ? "table" : "stream")} `{name}`{BindError.DidYouMean(Catalog.Closest(name))}");
        }
    }

    public BoundSelect BindSelect(SelectStatement select)
    {
        try
        {
            return new Scope(this, select).Bind();
        }
        catch (InsufficientExecutionStackException)
        {
            throw BindError.At(select.Span, SqlErrorCode.InvalidUse, "the statement nests too deeply to bind");
        }
    }

    /// <summary>Where an expression stands decides what it may contain.</summary>
    private enum Clause
    {
        Select,
        Where,
        JoinOn,
        GroupKey,
        WindowCondition,
        Having,
        OrderBy,
    }

    /// <summary>The state of binding one SELECT.</summary>
    private sealed class Scope
    {
        private readonly Binder binder;
        private readonly SelectStatement select;
        private readonly List<BoundSource> sources = [];
        private readonly Dictionary<string, SelectField> aliases = new(StringComparer.Ordinal);
        private readonly Dictionary<SelectField, AliasInfo?> aliasInfo = new(ReferenceEqualityComparer.Instance);
        private readonly Dictionary<Expr, NameBinding> names = new(ReferenceEqualityComparer.Instance);
        private readonly Dictionary<Expr, SqlType> types = new(ReferenceEqualityComparer.Instance);
        private readonly bool hasWindow;
        private int aggregates;
        private string? enclosingAggregate;
        private SelectField? currentField;

        public Scope(Binder binder, SelectStatement select)
        {
            this.binder = binder;
            this.select = select;
            hasWindow = select.GroupBy?.Window is not null;
        }

        private sealed record AliasInfo(SqlType Type, bool HasAggregate);

        public BoundSelect Bind()
        {
            AddSource(select.From);
            foreach (var join in select.Joins)
            {
                AddSource(join.Table);
            }

            foreach (var field in select.Fields)
            {
                if (field.Alias is not null && !aliases.TryAdd(field.Alias, field))
                {
                    throw BindError.At(field.Span, SqlErrorCode.Duplicate, $"alias `{field.Alias}` is used twice");
                }
            }

            CheckJoinsNeedWindow();
            if (select.GroupBy?.Window is { } window)
            {
                BindWindow(window);
            }

            var fields = new List<BoundField>();
            var unnamed = 0;
            var selectAggregates = 0;
            foreach (var field in select.Fields)
            {
                if (field.Expr is Wildcard star)
                {
                    CheckWildcardQualifier(star);
                    fields.Add(new BoundField(star.Qualifier is null ? "*" : star.Qualifier + ".*", SqlType.Any, false, field));
                    continue;
                }

                var info = BindAlias(field);
                if (info.HasAggregate)
                {
                    selectAggregates++;
                }

                fields.Add(new BoundField(field.Alias ?? DefaultName(field.Expr, ref unnamed), info.Type, field.Invisible, field));
            }

            foreach (var join in select.Joins)
            {
                if (join.On is not null)
                {
                    Condition(join.On, Clause.JoinOn, "ON");
                }
            }

            if (select.Where is not null)
            {
                Condition(select.Where, Clause.Where, "WHERE");
            }

            foreach (var key in select.GroupBy?.Keys ?? default)
            {
                Check(key, Clause.GroupKey);
            }

            var before = aggregates;
            if (select.Having is not null)
            {
                Condition(select.Having, Clause.Having, "HAVING");
            }

            foreach (var item in select.OrderBy)
            {
                Check(item.Expr, Clause.OrderBy);
            }

            // Aggregates and GROUP BY without a window bind: they run as a running aggregation (EdgeStream's extension;
            // eKuiper needs a window), which the plan checks further.
            var isAggregate = selectAggregates > 0 || aggregates > before;
            return new BoundSelect(select, sources, fields, isAggregate, names, types) { Functions = binder.Functions };
        }

        private void AddSource(TableRef table)
        {
            if (!binder.Catalog.TryGet(table.Name, out var definition))
            {
                throw BindError.At(table.Span, SqlErrorCode.UnknownStream,
                    $"unknown stream `{table.Name}`{BindError.DidYouMean(binder.Catalog.Closest(table.Name))}");
            }

            foreach (var existing in sources)
            {
                if (string.Equals(existing.Ref.RefName, table.RefName, StringComparison.OrdinalIgnoreCase))
                {
                    throw BindError.At(table.Span, SqlErrorCode.Duplicate,
                        $"`{table.RefName}` appears twice in FROM; give one of them another name with AS");
                }
            }

            sources.Add(new BoundSource(table, definition));
        }

        private void CheckJoinsNeedWindow()
        {
            var streams = sources.Where(s => !s.Definition.IsTable).ToList();
            if (streams.Count > 1 && !hasWindow)
            {
                var second = streams[1].Ref;
                throw BindError.At(second.Span, SqlErrorCode.InvalidUse,
                    $"joining stream `{streams[0].Ref.RefName}` with stream `{second.RefName}` needs a window (GROUP BY a window); a stream joins a table without one");
            }
        }

        private void BindWindow(WindowSpec window)
        {
            if (window.Filter is not null)
            {
                Condition(window.Filter, Clause.WindowCondition, "FILTER");
            }

            if (window.Begin is not null)
            {
                Condition(window.Begin, Clause.WindowCondition, "STATEWINDOW");
            }

            if (window.Emit is not null)
            {
                Condition(window.Emit, Clause.WindowCondition, "STATEWINDOW");
            }

            if (window.Over is { } over)
            {
                if (over.When is not null && window.Kind != WindowKind.Sliding)
                {
                    throw BindError.At(over.Span, SqlErrorCode.InvalidUse, "OVER (WHEN …) applies to SLIDINGWINDOW only");
                }

                if (!over.PartitionBy.IsEmpty && window.Kind != WindowKind.State)
                {
                    throw BindError.At(over.Span, SqlErrorCode.InvalidUse, "OVER (PARTITION BY …) applies to STATEWINDOW only");
                }

                foreach (var key in over.PartitionBy)
                {
                    Check(key, Clause.WindowCondition);
                }

                if (over.When is not null)
                {
                    Condition(over.When, Clause.WindowCondition, "OVER (WHEN …)");
                }
            }
        }

        private void CheckWildcardQualifier(Wildcard star)
        {
            if (star.Qualifier is not null && FindSource(star.Qualifier) is null)
            {
                throw BindError.At(star.Span, SqlErrorCode.UnknownStream,
                    $"`{star.Qualifier}` is not a stream in FROM{BindError.DidYouMean(SqlNames.Closest(star.Qualifier, sources.Select(s => s.Ref.RefName)))}");
            }
        }

        private BoundSource? FindSource(string name)
        {
            foreach (var source in sources)
            {
                if (string.Equals(source.Ref.RefName, name, StringComparison.OrdinalIgnoreCase))
                {
                    return source;
                }
            }

            foreach (var source in sources)
            {
                if (source.Ref.Alias is not null && string.Equals(source.Ref.Name, name, StringComparison.OrdinalIgnoreCase))
                {
                    return source;
                }
            }

            return null;
        }

        /// <summary>eKuiper's default output names: the field or function name, else <c>kuiper_field_N</c>.</summary>
        private static string DefaultName(Expr expr, ref int unnamed) => expr switch
        {
            FieldRef f => f.Name,
            MemberAccess m => m.Name,
            CallExpr c => c.Name,
            _ => "kuiper_field_" + (unnamed++).ToString(System.Globalization.CultureInfo.InvariantCulture),
        };

        /// <summary>Binds a select item's expression once, detecting aliases that refer to themselves.</summary>
        private AliasInfo BindAlias(SelectField field)
        {
            if (aliasInfo.TryGetValue(field, out var known))
            {
                return known ?? throw BindError.At(field.Span, SqlErrorCode.InvalidUse, $"alias `{field.Alias}` refers to itself");
            }

            aliasInfo[field] = null;
            var before = aggregates;
            var outer = enclosingAggregate;
            var outerField = currentField;
            enclosingAggregate = null;
            currentField = field;
            var type = Check(field.Expr, Clause.Select, top: true);
            enclosingAggregate = outer;
            currentField = outerField;
            var info = new AliasInfo(type, aggregates > before);
            aggregates = before;
            aliasInfo[field] = info;
            return info;
        }

        private void Condition(Expr expr, Clause clause, string what)
        {
            var type = Check(expr, clause);
            if (type.Kind is not (SqlTypeKind.Boolean or SqlTypeKind.Any))
            {
                throw BindError.At(expr.Span, SqlErrorCode.TypeMismatch, $"{what} needs a boolean condition, not {type}");
            }
        }

        private static bool AllowsAggregates(Clause clause) => clause is Clause.Select or Clause.Having or Clause.OrderBy;

        private static bool SeesAliases(Clause clause) => clause is not Clause.WindowCondition;

        private static string ClauseName(Clause clause) => clause switch
        {
            Clause.Where => "WHERE",
            Clause.JoinOn => "ON",
            Clause.GroupKey => "GROUP BY",
            Clause.WindowCondition => "a window condition",
            Clause.Having => "HAVING",
            Clause.OrderBy => "ORDER BY",
            _ => "SELECT",
        };

        private SqlType Check(Expr expr, Clause clause, bool top = false)
        {
            System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
            var type = CheckCore(expr, clause, top);
            types[expr] = type;
            return type;
        }

        private SqlType CheckCore(Expr expr, Clause clause, bool top)
        {
            switch (expr)
            {
                case IntegerLiteral: return SqlType.Bigint;
                case FloatLiteral: return SqlType.Float;
                case StringLiteral: return SqlType.String;
                case BooleanLiteral: return SqlType.Boolean;
                case NullLiteral: return SqlType.Any;
                case ArrayLiteral a:
                    return new ArrayType(Unify(a.Items.Select(i => Check(i, clause))));
                case ObjectLiteral o:
                    return new StructType(o.Entries.Select(e => new StructField(e.Key, Check(e.Value, clause))).ToNodeList());
                case FieldRef f:
                    return ResolveName(f, clause);
                case Wildcard w:
                    throw BindError.At(w.Span, SqlErrorCode.InvalidUse, "`*` can only be a select item or a function argument");
                case MemberAccess m:
                    return CheckMember(m, clause);
                case IndexAccess ix:
                    {
                        var target = Check(ix.Target, clause);
                        var index = Check(ix.Index, clause);
                        if (index.Kind is not (SqlTypeKind.Bigint or SqlTypeKind.Any))
                        {
                            throw BindError.At(ix.Index.Span, SqlErrorCode.TypeMismatch, $"an array index must be an integer, not {index}");
                        }

                        return target switch
                        {
                            ArrayType at => at.Element,
                            { Kind: SqlTypeKind.Any } => SqlType.Any,
                            _ => throw BindError.At(ix.Target.Span, SqlErrorCode.TypeMismatch, $"cannot index a value of type {target}; only arrays have elements"),
                        };
                    }

                case SliceAccess sl:
                    {
                        var target = Check(sl.Target, clause);
                        foreach (var bound in new[] { sl.Start, sl.End })
                        {
                            if (bound is not null && Check(bound, clause) is { Kind: not (SqlTypeKind.Bigint or SqlTypeKind.Any) } bt)
                            {
                                throw BindError.At(bound.Span, SqlErrorCode.TypeMismatch, $"a slice bound must be an integer, not {bt}");
                            }
                        }

                        return target.Kind is SqlTypeKind.Array or SqlTypeKind.Any
                            ? target
                            : throw BindError.At(sl.Target.Span, SqlErrorCode.TypeMismatch, $"cannot slice a value of type {target}; only arrays can be sliced");
                    }

                case UnaryExpr { Operator: UnaryOperator.Not } n:
                    {
                        var operand = Check(n.Operand, clause);
                        return operand.Kind is SqlTypeKind.Boolean or SqlTypeKind.Any
                            ? SqlType.Boolean
                            : throw BindError.At(n.Span, SqlErrorCode.TypeMismatch, $"NOT needs a boolean, not {operand}");
                    }

                case UnaryExpr u:
                    {
                        var operand = Check(u.Operand, clause);
                        return operand.Kind is SqlTypeKind.Bigint or SqlTypeKind.Float or SqlTypeKind.Any
                            ? operand
                            : throw BindError.At(u.Span, SqlErrorCode.TypeMismatch, $"cannot negate a value of type {operand}");
                    }

                case BinaryExpr b:
                    return CheckBinary(b, Check(b.Left, clause), Check(b.Right, clause));
                case BetweenExpr bt:
                    {
                        var value = Check(bt.Value, clause);
                        Comparable(bt.Low.Span, value, Check(bt.Low, clause), "BETWEEN");
                        Comparable(bt.High.Span, value, Check(bt.High, clause), "BETWEEN");
                        return SqlType.Boolean;
                    }

                case InExpr { Array: { } arrayExpr } ia:
                    {
                        Check(ia.Value, clause);
                        var array = Check(arrayExpr, clause);
                        return array.Kind is SqlTypeKind.Array or SqlTypeKind.Any
                            ? SqlType.Boolean
                            : throw BindError.At(arrayExpr.Span, SqlErrorCode.TypeMismatch, $"IN needs a list in parentheses or an array, not {array}");
                    }

                case InExpr ie:
                    {
                        var value = Check(ie.Value, clause);
                        foreach (var item in ie.Items)
                        {
                            Comparable(item.Span, value, Check(item, clause), "IN");
                        }

                        return SqlType.Boolean;
                    }

                case LikeExpr l:
                    {
                        foreach (var operand in new[] { l.Value, l.Pattern })
                        {
                            var t = Check(operand, clause);
                            if (t.Kind is not (SqlTypeKind.String or SqlTypeKind.Any))
                            {
                                throw BindError.At(operand.Span, SqlErrorCode.TypeMismatch, $"LIKE works on strings, not {t}");
                            }
                        }

                        return SqlType.Boolean;
                    }

                case IsNullExpr isn:
                    Check(isn.Value, clause);
                    return SqlType.Boolean;
                case CaseExpr c:
                    return CheckCase(c, clause);
                case CallExpr call:
                    return CheckCall(call, clause, top);
                default:
                    throw BindError.At(expr.Span, SqlErrorCode.InvalidUse, $"unsupported expression {expr.GetType().Name}");
            }
        }

        /// <summary>
        /// Where the select list's names win over columns of the same name: in the other select items (as eKuiper:
        /// <c>SELECT size + 1 AS size, size + 1 AS b</c> gives b = size + 2), HAVING and ORDER BY. In WHERE, ON and
        /// GROUP BY a column wins, as in standard SQL; an alias is used there only when no column has its name.
        /// </summary>
        private static bool AliasFirst(Clause clause) => clause is Clause.Select or Clause.Having or Clause.OrderBy;

        private SqlType ResolveName(FieldRef f, Clause clause)
        {
            if (SeesAliases(clause) && aliases.TryGetValue(f.Name, out var shadowing) && AliasFirst(clause)
                && !ReferenceEquals(shadowing, currentField) && !(aliasInfo.TryGetValue(shadowing, out var state) && state is null))
            {
                return UseAlias(f, shadowing, clause);
            }

            BoundSource? owner = null;
            ColumnDefinition? column = null;
            foreach (var source in sources)
            {
                if (source.Definition.IsSchemaless || source.Definition.FindColumn(f.Name) is not { } c)
                {
                    continue;
                }

                if (owner is not null)
                {
                    throw BindError.At(f.Span, SqlErrorCode.AmbiguousField,
                        $"field `{f.Name}` is a column of both `{owner.Ref.RefName}` and `{source.Ref.RefName}`; write `{owner.Ref.RefName}.{f.Name}` or `{source.Ref.RefName}.{f.Name}`");
                }

                owner = source;
                column = c;
            }

            if (column is not null)
            {
                names[f] = new NameBinding(owner, column, null);
                return column.Type;
            }

            if (SeesAliases(clause) && aliases.TryGetValue(f.Name, out var aliased) && !ReferenceEquals(aliased, currentField))
            {
                return UseAlias(f, aliased, clause);
            }

            var schemaless = sources.Where(s => s.Definition.IsSchemaless).ToList();
            if (schemaless.Count > 0)
            {
                names[f] = new NameBinding(schemaless.Count == 1 ? schemaless[0] : null, null, null);
                return SqlType.Any;
            }

            var candidates = sources.SelectMany(s => s.Definition.Columns.Select(c => c.Name)).Concat(aliases.Keys);
            var where = sources.Count == 1 ? $" in stream `{sources[0].Ref.RefName}`" : string.Empty;
            throw BindError.At(f.Span, SqlErrorCode.UnknownField,
                $"unknown field `{f.Name}`{where}{BindError.DidYouMean(SqlNames.Closest(f.Name, candidates))}");
        }

        private SqlType UseAlias(FieldRef f, SelectField aliased, Clause clause)
        {
            var info = BindAlias(aliased);
            if (info.HasAggregate)
            {
                if (!AllowsAggregates(clause))
                {
                    throw BindError.At(f.Span, SqlErrorCode.InvalidUse, $"`{f.Name}` is an aggregate and cannot be used in {ClauseName(clause)}");
                }

                aggregates++;
            }

            names[f] = new NameBinding(null, null, aliased);
            return info.Type;
        }

        private SqlType CheckMember(MemberAccess m, Clause clause)
        {
            // `stream.column`: a qualifier that names a source wins over a column of the same name.
            if (!m.Arrow && m.Target is FieldRef qualifier && FindSource(qualifier.Name) is { } source)
            {
                types[qualifier] = SqlType.Any;
                if (source.Definition.IsSchemaless)
                {
                    names[m] = new NameBinding(source, null, null);
                    return SqlType.Any;
                }

                var column = source.Definition.FindColumn(m.Name) ?? throw BindError.At(m.Span, SqlErrorCode.UnknownField,
                    $"unknown field `{m.Name}` in `{source.Ref.RefName}`{BindError.DidYouMean(SqlNames.Closest(m.Name, source.Definition.Columns.Select(c => c.Name)))}");
                names[m] = new NameBinding(source, column, null);
                return column.Type;
            }

            var target = Check(m.Target, clause);
            switch (target)
            {
                case StructType st:
                    return st.Find(m.Name)?.Type ?? throw BindError.At(m.Span, SqlErrorCode.UnknownField,
                        $"struct has no field `{m.Name}`{BindError.DidYouMean(SqlNames.Closest(m.Name, st.Fields.Select(f => f.Name)))}");
                case { Kind: SqlTypeKind.Any }:
                    return SqlType.Any;
                default:
                    throw BindError.At(m.Span, SqlErrorCode.TypeMismatch, $"cannot read field `{m.Name}` of a value of type {target}");
            }
        }

        private static SqlType CheckBinary(BinaryExpr b, SqlType left, SqlType right)
        {
            switch (b.Operator)
            {
                case BinaryOperator.And or BinaryOperator.Or:
                    foreach (var (t, e) in new[] { (left, b.Left), (right, b.Right) })
                    {
                        if (t.Kind is not (SqlTypeKind.Boolean or SqlTypeKind.Any))
                        {
                            throw BindError.At(e.Span, SqlErrorCode.TypeMismatch, $"{SqlPrinter.OperatorText(b.Operator)} needs boolean operands, not {t}");
                        }
                    }

                    return SqlType.Boolean;
                case BinaryOperator.Equal or BinaryOperator.NotEqual or BinaryOperator.Less or BinaryOperator.LessOrEqual
                    or BinaryOperator.Greater or BinaryOperator.GreaterOrEqual:
                    Comparable(b.Span, left, right, SqlPrinter.OperatorText(b.Operator));
                    return SqlType.Boolean;
                case BinaryOperator.BitAnd or BinaryOperator.BitOr or BinaryOperator.BitXor:
                    // Integers bitwise, or (as eKuiper) booleans logically.
                    var kinds = (left.Kind, right.Kind);
                    return kinds switch
                    {
                        (SqlTypeKind.Bigint, SqlTypeKind.Bigint) => SqlType.Bigint,
                        (SqlTypeKind.Boolean, SqlTypeKind.Boolean) => SqlType.Boolean,
                        (SqlTypeKind.Bigint or SqlTypeKind.Boolean or SqlTypeKind.Any, SqlTypeKind.Any)
                            or (SqlTypeKind.Any, SqlTypeKind.Bigint or SqlTypeKind.Boolean) => SqlType.Any,
                        _ => throw OperandError(b, left, right, "integers or booleans"),
                    };
                default:
                    if (!IsArithmetic(left) || !IsArithmetic(right))
                    {
                        throw OperandError(b, left, right, "numbers");
                    }

                    if (left.Kind == SqlTypeKind.Any || right.Kind == SqlTypeKind.Any || left.Kind == SqlTypeKind.Datetime || right.Kind == SqlTypeKind.Datetime)
                    {
                        return SqlType.Any;
                    }

                    return left.Kind == SqlTypeKind.Bigint && right.Kind == SqlTypeKind.Bigint ? SqlType.Bigint : SqlType.Float;
            }
        }

        private static bool IsArithmetic(SqlType t) => t.Kind is SqlTypeKind.Bigint or SqlTypeKind.Float or SqlTypeKind.Datetime or SqlTypeKind.Any;

        private static SqlException OperandError(BinaryExpr b, SqlType left, SqlType right, string what) =>
            BindError.At(b.Span, SqlErrorCode.TypeMismatch, $"operator `{SqlPrinter.OperatorText(b.Operator)}` needs {what}, not {left} and {right}");

        private static void Comparable(SourceSpan span, SqlType left, SqlType right, string what)
        {
            if (left.Kind == SqlTypeKind.Any || right.Kind == SqlTypeKind.Any || left.Kind == right.Kind)
            {
                return;
            }

            bool Either(SqlTypeKind a, SqlTypeKind b) => (left.Kind == a && right.Kind == b) || (left.Kind == b && right.Kind == a);
            if (left.IsNumeric && right.IsNumeric
                || Either(SqlTypeKind.Datetime, SqlTypeKind.Bigint) || Either(SqlTypeKind.Datetime, SqlTypeKind.Float)
                || Either(SqlTypeKind.Datetime, SqlTypeKind.String))
            {
                return;
            }

            throw BindError.At(span, SqlErrorCode.TypeMismatch, $"cannot compare {left} with {right} ({what})");
        }

        /// <summary>The common type of several values: equal types stay, numbers widen to float, anything else is Any.</summary>
        private static SqlType Unify(IEnumerable<SqlType> types)
        {
            SqlType? result = null;
            foreach (var t in types)
            {
                if (result is null || result.Equals(t))
                {
                    result = t;
                }
                else if (result.IsNumeric && t.IsNumeric)
                {
                    result = SqlType.Float;
                }
                else
                {
                    return SqlType.Any;
                }
            }

            return result ?? SqlType.Any;
        }

        private SqlType CheckCase(CaseExpr c, Clause clause)
        {
            var operand = c.Operand is null ? null : Check(c.Operand, clause);
            var results = new List<SqlType>();
            foreach (var when in c.Whens)
            {
                var condition = Check(when.Condition, clause);
                if (operand is not null)
                {
                    Comparable(when.Condition.Span, operand, condition, "CASE");
                }
                else if (condition.Kind is not (SqlTypeKind.Boolean or SqlTypeKind.Any))
                {
                    throw BindError.At(when.Condition.Span, SqlErrorCode.TypeMismatch, $"WHEN needs a boolean condition, not {condition}");
                }

                results.Add(Check(when.Result, clause));
            }

            if (c.Else is not null)
            {
                results.Add(Check(c.Else, clause));
            }

            return Unify(results);
        }

        private SqlType CheckCall(CallExpr call, Clause clause, bool top)
        {
            if (!binder.Functions.TryGet(call.Name, out var function))
            {
                throw BindError.At(call.Span, SqlErrorCode.UnknownFunction,
                    $"unknown function `{call.Name}`{BindError.DidYouMean(binder.Functions.Closest(call.Name))}");
            }

            if (!function.Accepts(call.Arguments.Count))
            {
                throw BindError.At(call.Span, SqlErrorCode.WrongArity,
                    $"function `{call.Name}` takes {function.ArityText} argument{(function.MinArgs == 1 && function.MaxArgs == 1 ? string.Empty : "s")}, not {call.Arguments.Count}: {function.Signature}");
            }

            switch (function.Kind)
            {
                case FunctionKind.Aggregate:
                    if (!AllowsAggregates(clause))
                    {
                        throw BindError.At(call.Span, SqlErrorCode.InvalidUse, $"aggregate function `{call.Name}` cannot be used in {ClauseName(clause)}");
                    }

                    if (enclosingAggregate is not null)
                    {
                        throw BindError.At(call.Span, SqlErrorCode.InvalidUse, $"aggregate function `{call.Name}` cannot be nested inside `{enclosingAggregate}`");
                    }

                    aggregates++;
                    break;
                case FunctionKind.SetReturning when !top || clause != Clause.Select:
                    throw BindError.At(call.Span, SqlErrorCode.InvalidUse, $"`{call.Name}` returns rows and can only be a whole select item");
            }

            if ((function.Flags & FunctionFlags.Windowed) != 0 && !hasWindow)
            {
                throw BindError.At(call.Span, SqlErrorCode.InvalidUse, $"`{call.Name}()` needs a window (GROUP BY a window)");
            }

            if (call.Over is not null && function.Kind != FunctionKind.Analytic)
            {
                throw BindError.At(call.Over.Span, SqlErrorCode.InvalidUse, $"OVER applies to analytic functions (lag, latest, acc_sum…), not `{call.Name}`");
            }

            if (call.Filter is not null && function.Kind != FunctionKind.Aggregate)
            {
                throw BindError.At(call.Filter.Span, SqlErrorCode.InvalidUse, $"FILTER (WHERE …) applies to aggregate functions, not `{call.Name}`");
            }

            var outer = enclosingAggregate;
            if (function.Kind == FunctionKind.Aggregate)
            {
                enclosingAggregate = call.Name;
            }

            for (var i = 0; i < call.Arguments.Count; i++)
            {
                var arg = call.Arguments[i];
                if ((function.Flags & FunctionFlags.MetaKey) != 0)
                {
                    continue;
                }

                if (arg is Wildcard star)
                {
                    if ((function.Flags & FunctionFlags.Star) == 0 || i > 0)
                    {
                        throw BindError.At(star.Span, SqlErrorCode.InvalidUse, $"`*` is not an argument of `{call.Name}`: {function.Signature}");
                    }

                    CheckWildcardQualifier(star);
                    types[star] = SqlType.Any;
                    continue;
                }

                Check(arg, clause);
            }

            enclosingAggregate = outer;
            if (call.Over is { } over)
            {
                foreach (var key in over.PartitionBy)
                {
                    Check(key, clause == Clause.Select ? Clause.Where : clause);
                }

                if (over.When is not null)
                {
                    Condition(over.When, clause == Clause.Select ? Clause.Where : clause, "OVER (WHEN …)");
                }
            }

            if (call.Filter is not null)
            {
                Condition(call.Filter, Clause.Where, "FILTER");
            }

            return ResultType(function);
        }

        /// <summary>Result types the binder can know without argument types (the rest are Any: checked per row, as eKuiper does).</summary>
        private static SqlType ResultType(FunctionInfo function) => (function.AliasOf ?? function.Name) switch
        {
            "count" or "acc_count" or "row_number" or "last_hit_count" or "last_agg_hit_count" or "length" or "numbytes"
                or "window_start" or "window_end" or "event_time" or "tstamp" or "last_hit_time" or "last_agg_hit_time" => SqlType.Bigint,
            "upper" or "lower" or "concat" or "trim" or "ltrim" or "rtrim" or "lpad" or "rpad" or "reverse" or "md5" or "sha1"
                or "sha256" or "sha384" or "sha512" or "newuuid" or "to_json" or "format_time" or "rule_id" => SqlType.String,
            "isnull" or "regexp_matches" or "startswith" or "endswith" or "had_changed" or "array_contains" or "json_path_exists" => SqlType.Boolean,
            _ => SqlType.Any,
        };
    }
}
