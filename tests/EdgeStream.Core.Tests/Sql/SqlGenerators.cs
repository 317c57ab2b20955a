using CsCheck;
using EdgeStream.Sql;
using EdgeStream.Sql.Ast;

namespace EdgeStream.Tests.Sql;

/// <summary>CsCheck generators of ASTs the parser can produce, for the print/parse round-trip property.</summary>
internal static class SqlGenerators
{
    /// <summary>Names that test quoting: plain, reserved, contextual keywords, spaces, backquotes, non-ASCII.</summary>
    private static readonly string[] NamePool =
    [
        "a", "b", "size", "color", "ts", "_u1", "from", "select", "my col", "x`y", "über", "over", "filter", "stream",
        "table", "ss", "escape", "invisible", "tumblingwindow", "desc", "asc", "outer", "partition", "when", "null", "1abc",
    ];

    private static readonly string[] FunctionPool =
        ["abs", "count", "lag", "concat", "f", "my func", "countwindow", "select", "meta", "acc_sum"];

    public static readonly Gen<string> Name = Gen.OneOf(NamePool);

    private static readonly Gen<string> Text = Gen.Frequency(
        (3, Gen.Char["abc xyz_%"].Array[0, 6].Select(c => new string(c))),
        (1, Gen.Char["\"'\\\n\t`%_é€"].Array[0, 4].Select(c => new string(c))),
        (1, Gen.String));

    private static readonly Gen<double> FiniteDouble = Gen.Double.Where(double.IsFinite);

    private static readonly Gen<Expr> Literal = Gen.OneOf<Expr>(
        Gen.Long.Select(v => (Expr)new IntegerLiteral(v)),
        Gen.Long[-100, 100].Select(v => (Expr)new IntegerLiteral(v)),
        FiniteDouble.Select(v => (Expr)new FloatLiteral(v)),
        Text.Select(v => (Expr)new StringLiteral(v)),
        Gen.Bool.Select(v => (Expr)new BooleanLiteral(v)),
        Gen.Const<Expr>(new NullLiteral()),
        Name.Select(n => (Expr)new FieldRef(n)));

    private static NodeList<T> List<T>(T[] items) => new(items);

    public static readonly Gen<Expr> Expression = Gen.Recursive<Expr>((depth, self) =>
    {
        if (depth > 4)
        {
            return Literal;
        }

        var list = self.Array[1, 3].Select(List);
        var over = Gen.Select(self.Array[0, 2].Select(List), self.Null(), (p, w) => new OverClause(p, w));
        return Gen.Frequency(
            (6, Literal),
            (2, Gen.Select(self, Name, Gen.Bool, (t, n, arrow) => (Expr)new MemberAccess(t, n, arrow))),
            (1, Gen.Select(self, self, (t, i) => (Expr)new IndexAccess(t, i))),
            (1, Gen.Select(self, self.Null(), self.Null(), (t, s, e) => (Expr)new SliceAccess(t, s, e))),
            (2, Gen.Select(Gen.Enum<UnaryOperator>(), self, (op, e) => (Expr)new UnaryExpr(op, e))),
            (5, Gen.Select(Gen.Enum<BinaryOperator>(), self, self, (op, l, r) => (Expr)new BinaryExpr(op, l, r))),
            (1, Gen.Select(self, self, self, Gen.Bool, (v, l, h, n) => (Expr)new BetweenExpr(v, l, h, n))),
            (1, Gen.Select(self, list, Gen.Bool, (v, items, n) => (Expr)new InExpr(v, items, n))),
            (1, Gen.Select(self, Name, Name.Null(), Gen.Bool, (v, a, m, n) =>
                (Expr)new InExpr(v, default, n, m is null ? new FieldRef(a) : new MemberAccess(new FieldRef(a), m, true)))),
            (1, Gen.Select(self, self, Gen.OneOf<string?>(null, "!", "\\", "\""), Gen.Bool, (v, p, esc, n) => (Expr)new LikeExpr(v, p, esc, n))),
            (1, Gen.Select(self, Gen.Bool, (v, n) => (Expr)new IsNullExpr(v, n))),
            (1, Gen.Select(self.Null(), Gen.Select(self, self, (c, r) => new WhenClause(c, r)).Array[1, 3].Select(List), self.Null(),
                (o, w, e) => (Expr)new CaseExpr(o, w, e))),
            (3, Gen.Select(Gen.OneOf(FunctionPool), Argument(self).Array[0, 3].Select(List), over.Null(), self.Null(),
                (n, args, o, f) => (Expr)new CallExpr(n, args, o, f))),
            (1, self.Array[0, 3].Select(items => (Expr)new ArrayLiteral(List(items)))),
            (1, Gen.Select(Text, self, (k, v) => new ObjectEntry(k, v)).Array[0, 2].Select(e => (Expr)new ObjectLiteral(List(e)))));
    });

    /// <summary>A call argument: an expression, or (first only, in practice) <c>*</c> / <c>s.*</c>.</summary>
    private static Gen<Expr> Argument(Gen<Expr> expr) => Gen.Frequency(
        (8, expr),
        (1, Name.Null().Select(q => (Expr)new Wildcard(q))));

    private static readonly Gen<TableRef> Table = Gen.Select(Name, Name.Null(), (n, a) => new TableRef(n, a));

    private static readonly Gen<WindowSpec> Window = Gen.OneOf(
        Gen.Select(Gen.OneOf(WindowKind.Tumbling, WindowKind.Hopping, WindowKind.Sliding, WindowKind.Session),
            Gen.OneOf(TimeUnit.Days, TimeUnit.Hours, TimeUnit.Minutes, TimeUnit.Seconds, TimeUnit.Milliseconds),
            Gen.Long[1, 100_000], Gen.Long[1, 1000], Expression.Null(), Expression.Null(),
            (k, u, len, iv, filter, when) => new WindowSpec(
                k, u, len, k is WindowKind.Hopping or WindowKind.Session || (k == WindowKind.Sliding && iv % 2 == 0) ? iv : null,
                null, null, filter, when is null ? null : new OverClause(default, when))),
        Gen.Select(Gen.Long[1, 100], Gen.Long[1, 100].Nullable(), (n, m) => new WindowSpec(WindowKind.Count, TimeUnit.None, n, m is { } hop ? Math.Min(hop, n) : null, null, null, null, null)),
        Gen.Select(Expression, Expression.Null(), Expression.Array[0, 2], (b, e, p) =>
            new WindowSpec(WindowKind.State, TimeUnit.None, 0, null, b, e, null, p.Length == 0 ? null : new OverClause(List(p), null))));

    private static readonly Gen<GroupByClause> GroupBy = Gen.Select(Expression.Array[0, 2], Window.Null(), Gen.Int[0, 2], (keys, w, at) =>
        keys.Length == 0 && w is null
            ? new GroupByClause(List(new Expr[] { new FieldRef("g") }), null, -1)
            : new GroupByClause(List(keys), w, w is null ? -1 : Math.Min(at, keys.Length)));

    private static readonly Gen<SelectField> Field = Gen.Frequency(
        (1, Name.Null().Select(q => new SelectField(new Wildcard(q), null, false))),
        (6, Gen.Select(Expression, Name.Null(), Gen.Bool, (e, a, inv) => new SelectField(e, a, a is not null && inv))));

    private static readonly Gen<JoinClause> Join = Gen.Select(Gen.Enum<JoinKind>(), Table, Expression,
        (k, t, on) => new JoinClause(k, t, k == JoinKind.Cross ? null : on));

    public static readonly Gen<SelectStatement> Select = Gen.Select(
        Field.Array[1, 4], Table, Join.Array[0, 2], Expression.Null(), GroupBy.Null(), Expression.Null(),
        Gen.Select(Expression, Gen.Bool, (e, d) => new SortItem(e, d)).Array[0, 2], Gen.Long[0, long.MaxValue].Nullable(),
        (fields, from, joins, where, group, having, order, limit) =>
            new SelectStatement(List(fields), from, List(joins), where, group, having, List(order), limit));

    private static readonly Gen<SqlType> Type = Gen.Recursive<SqlType>((depth, self) => depth > 2
        ? Gen.OneOf(SqlType.Bigint, SqlType.Float, SqlType.String, SqlType.Datetime, SqlType.Boolean, SqlType.Bytea)
        : Gen.Frequency(
            (6, Gen.OneOf(SqlType.Bigint, SqlType.Float, SqlType.String, SqlType.Datetime, SqlType.Boolean, SqlType.Bytea)),
            (1, self.Select(e => (SqlType)new ArrayType(e))),
            (1, Gen.Select(Name, self, (n, t) => new StructField(n, t)).Array[1, 3]
                .Select(f => (SqlType)new StructType(List(f.DistinctBy(x => x.Name, StringComparer.OrdinalIgnoreCase).ToArray()))))));

    public static readonly Gen<CreateStreamStatement> Create = Gen.Select(
        Gen.Bool, Name, Gen.Select(Name, Type, (n, t) => new ColumnDefinition(n, t)).Array[0, 4],
        Gen.Select(Gen.OneOf("DATASOURCE", "FORMAT", "KEY", "X_1", "MY OPT", "FROM"), Text, (n, v) => new StreamOption(n, v)).Array[0, 3],
        (table, name, columns, options) => new CreateStreamStatement(
            table, name, List(columns.DistinctBy(c => c.Name, StringComparer.OrdinalIgnoreCase).ToArray()), List(options)));

    public static readonly Gen<Statement> Statement = Gen.Frequency(
        (6, Select.Select(s => (Statement)s)),
        (2, Create.Select(c => (Statement)c)),
        (1, Select.Select(s => (Statement)new ExplainStatement(s))),
        (1, Gen.Select(Gen.Bool, Name, (t, n) => (Statement)new DropStatement(t, n))),
        (1, Gen.Select(Gen.Bool, Name, (t, n) => (Statement)new DescribeStatement(t, n))),
        (1, Gen.Bool.Select(t => (Statement)new ShowStatement(t))));
}
