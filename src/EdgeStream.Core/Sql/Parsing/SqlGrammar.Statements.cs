using System.Globalization;
using EdgeStream.Diagnostics;
using EdgeStream.Sql.Ast;
using Superpower;
using Superpower.Model;

namespace EdgeStream.Sql.Parsing;

/// <summary>Statements: SELECT with its clauses, windows, CREATE/DROP/DESCRIBE/SHOW, EXPLAIN.</summary>
internal static partial class SqlGrammar
{
    /// <summary>Window function names recognised in GROUP BY, by their upper-case name.</summary>
    internal static readonly Dictionary<string, WindowKind> WindowNames = new(StringComparer.OrdinalIgnoreCase)
    {
        ["TUMBLINGWINDOW"] = WindowKind.Tumbling,
        ["HOPPINGWINDOW"] = WindowKind.Hopping,
        ["SLIDINGWINDOW"] = WindowKind.Sliding,
        ["SESSIONWINDOW"] = WindowKind.Session,
        ["COUNTWINDOW"] = WindowKind.Count,
        ["STATEWINDOW"] = WindowKind.State,
    };

    internal static readonly string[] ExpectStatement = ["`SELECT`", "`CREATE`", "`DROP`", "`DESCRIBE`", "`SHOW`", "`EXPLAIN`"];

    internal static readonly string[] ExpectTimeUnit = ["`DD`", "`HH`", "`MI`", "`SS`", "`MS`"];

    internal const string ExpectType = "column type (bigint, float, string, datetime, boolean, bytea, array or struct)";

    /// <summary>The span from <paramref name="start"/> to the end of the last token before <paramref name="remainder"/>.</summary>
    private static SourceSpan SpanTo(SourceSpan start, TokenList<SqlToken> input, TokenList<SqlToken> remainder)
    {
        Token<SqlToken> last = default;
        var count = remainder.IsAtEnd ? int.MaxValue : remainder.Position - input.Position;
        var i = 0;
        foreach (var token in input)
        {
            if (i++ >= count)
            {
                break;
            }

            last = token;
        }

        return last.HasValue ? Cover(start, SpanOf(last)) : start;
    }

    // ---------------------------------------------------------------- SELECT

    private static readonly TokenListParser<SqlToken, SelectField> SelectFieldParser = input =>
    {
        var next = input.ConsumeToken();
        if (Is(next, SqlToken.Star))
        {
            var star = new Wildcard(null) { Span = SpanOf(next.Value) };
            return Ok(new SelectField(star, null, false) { Span = star.Span }, input, next.Remainder);
        }

        var expr = Expression(input);
        if (!expr.HasValue)
        {
            return expr.Remainder == input && expr.ErrorMessage is null ? Fail<SelectField>(input, "`*`", "expression") : Cast<Expr, SelectField>(expr);
        }

        next = expr.Remainder.ConsumeToken();
        if (!Is(next, SqlToken.As))
        {
            return Ok(new SelectField(expr.Value, null, false) { Span = expr.Value.Span }, input, expr.Remainder);
        }

        var alias = Name(next.Remainder);
        if (!alias.HasValue)
        {
            return Cast<(string, SourceSpan), SelectField>(alias);
        }

        var end = alias.Value.Span;
        var rest = alias.Remainder;
        var invisible = rest.ConsumeToken();
        var isInvisible = IsWord(invisible, "INVISIBLE");
        if (isInvisible)
        {
            end = SpanOf(invisible.Value);
            rest = invisible.Remainder;
        }

        return Ok(new SelectField(expr.Value, alias.Value.Name, isInvisible) { Span = Cover(expr.Value.Span, end) }, input, rest);
    };

    private static readonly TokenListParser<SqlToken, TableRef> TableRefParser = input =>
    {
        var name = Name(input);
        if (!name.HasValue)
        {
            return Fail<TableRef>(input, "stream name");
        }

        var next = name.Remainder.ConsumeToken();
        if (!Is(next, SqlToken.As))
        {
            return Ok(new TableRef(name.Value.Name, null) { Span = name.Value.Span }, input, name.Remainder);
        }

        var alias = Name(next.Remainder);
        return alias.HasValue
            ? Ok(new TableRef(name.Value.Name, alias.Value.Name) { Span = Cover(name.Value.Span, alias.Value.Span) }, input, alias.Remainder)
            : Cast<(string, SourceSpan), TableRef>(alias);
    };

    /// <summary>One join, or a non-partial failure when the next token starts none.</summary>
    private static TokenListParserResult<SqlToken, JoinClause> Join(TokenList<SqlToken> input)
    {
        var next = input.ConsumeToken();
        if (!next.HasValue)
        {
            return Fail<JoinClause>(input, "`JOIN`");
        }

        var start = SpanOf(next.Value);
        JoinKind kind;
        var rest = next.Remainder;
        switch (next.Value.Kind)
        {
            case SqlToken.Join:
                return JoinTail(JoinKind.Inner, start, input, input);
            case SqlToken.Inner: kind = JoinKind.Inner; break;
            case SqlToken.Left: kind = JoinKind.Left; break;
            case SqlToken.Right: kind = JoinKind.Right; break;
            case SqlToken.Full: kind = JoinKind.Full; break;
            case SqlToken.Cross: kind = JoinKind.Cross; break;
            default: return Fail<JoinClause>(input, "`JOIN`");
        }

        var outer = rest.ConsumeToken();
        if (kind is JoinKind.Left or JoinKind.Right or JoinKind.Full && IsWord(outer, "OUTER"))
        {
            rest = outer.Remainder;
        }

        return JoinTail(kind, start, input, rest);
    }

    private static TokenListParserResult<SqlToken, JoinClause> JoinTail(JoinKind kind, SourceSpan start, TokenList<SqlToken> input, TokenList<SqlToken> rest)
    {
        var join = Expect(rest, SqlToken.Join, "`JOIN`");
        if (!join.HasValue)
        {
            return Cast<Token<SqlToken>, JoinClause>(join);
        }

        var table = TableRefParser(join.Remainder);
        if (!table.HasValue)
        {
            return Cast<TableRef, JoinClause>(table);
        }

        if (kind == JoinKind.Cross)
        {
            return Ok(new JoinClause(kind, table.Value, null) { Span = Cover(start, table.Value.Span) }, input, table.Remainder);
        }

        var on = Expect(table.Remainder, SqlToken.On, "`ON`");
        if (!on.HasValue)
        {
            return table.Value.Alias is null ? Fail<JoinClause>(table.Remainder, "`AS`", "`ON`") : Cast<Token<SqlToken>, JoinClause>(on);
        }

        var condition = Expression(on.Remainder);
        return condition.HasValue
            ? Ok(new JoinClause(kind, table.Value, condition.Value) { Span = Cover(start, condition.Value.Span) }, input, condition.Remainder)
            : Cast<Expr, JoinClause>(condition);
    }

    private static readonly TokenListParser<SqlToken, SortItem> SortItemParser = input =>
    {
        var expr = Expression(input);
        if (!expr.HasValue)
        {
            return Cast<Expr, SortItem>(expr);
        }

        var next = expr.Remainder.ConsumeToken();
        var descending = IsWord(next, "DESC");
        if (descending || IsWord(next, "ASC"))
        {
            return Ok(new SortItem(expr.Value, descending) { Span = Cover(expr.Value.Span, SpanOf(next.Value)) }, input, next.Remainder);
        }

        return Ok(new SortItem(expr.Value, false) { Span = expr.Value.Span }, input, expr.Remainder);
    };

    /// <summary><c>item (, item)*</c> with no closing token.</summary>
    private static TokenListParserResult<SqlToken, List<T>> CommaSeparated<T>(TokenList<SqlToken> input, TokenListParser<SqlToken, T> item)
    {
        var items = new List<T>();
        var rest = input;
        while (true)
        {
            var r = item(rest);
            if (!r.HasValue)
            {
                return Cast<T, List<T>>(r);
            }

            items.Add(r.Value);
            rest = r.Remainder;
            var comma = rest.ConsumeToken();
            if (!Is(comma, SqlToken.Comma))
            {
                return Ok(items, input, rest);
            }

            rest = comma.Remainder;
        }
    }

    private static readonly TokenListParser<SqlToken, SqlNode> GroupItemParser = input =>
    {
        var name = input.ConsumeToken();
        if (name.HasValue && name.Value.Kind == SqlToken.Identifier
            && WindowNames.TryGetValue(name.Value.Span.ToStringValue(), out var kind)
            && Is(name.Remainder.ConsumeToken(), SqlToken.LParen))
        {
            var window = Window(kind, SpanOf(name.Value), input, name.Remainder.ConsumeToken().Remainder);
            return window.HasValue ? Ok<SqlNode>(window.Value, input, window.Remainder) : Cast<WindowSpec, SqlNode>(window);
        }

        var expr = Expression(input);
        return expr.HasValue ? Ok<SqlNode>(expr.Value, input, expr.Remainder) : Cast<Expr, SqlNode>(expr);
    };

    /// <summary>After <c>NAME(</c>: the window's arguments, <c>)</c>, then <c>FILTER (WHERE …)</c> and/or <c>OVER (…)</c>.</summary>
    private static TokenListParserResult<SqlToken, WindowSpec> Window(WindowKind kind, SourceSpan start, TokenList<SqlToken> input, TokenList<SqlToken> rest)
    {
        var unit = TimeUnit.None;
        var numbers = new List<long>();
        Expr? begin = null, emit = null;
        var (required, optional) = kind switch
        {
            WindowKind.Tumbling => (1, 0),
            WindowKind.Hopping => (2, 0),
            WindowKind.Sliding => (1, 1),
            WindowKind.Session => (2, 0),
            WindowKind.Count => (1, 1),
            _ => (1, 1),
        };

        if (kind == WindowKind.State)
        {
            var b = Expression(rest);
            if (!b.HasValue)
            {
                return Cast<Expr, WindowSpec>(b);
            }

            begin = b.Value;
            rest = b.Remainder;
            var comma = rest.ConsumeToken();
            if (Is(comma, SqlToken.Comma))
            {
                var e = Expression(comma.Remainder);
                if (!e.HasValue)
                {
                    return Cast<Expr, WindowSpec>(e);
                }

                emit = e.Value;
                rest = e.Remainder;
            }
        }
        else
        {
            if (kind != WindowKind.Count)
            {
                var u = rest.ConsumeToken();
                unit = u.HasValue && u.Value.Kind == SqlToken.Identifier ? ParseTimeUnit(u.Value.Span.ToStringValue()) : TimeUnit.None;
                if (unit == TimeUnit.None)
                {
                    return Fail<WindowSpec>(rest, ExpectTimeUnit);
                }

                var comma = Expect(u.Remainder, SqlToken.Comma, "`,`");
                if (!comma.HasValue)
                {
                    return Cast<Token<SqlToken>, WindowSpec>(comma);
                }

                rest = comma.Remainder;
            }

            for (var i = 0; i < required + optional; i++)
            {
                if (i > 0)
                {
                    var comma = rest.ConsumeToken();
                    if (!Is(comma, SqlToken.Comma))
                    {
                        if (i < required)
                        {
                            return Fail<WindowSpec>(rest, "`,`");
                        }

                        break;
                    }

                    rest = comma.Remainder;
                }

                var n = rest.ConsumeToken();
                if (!Is(n, SqlToken.Integer))
                {
                    return Fail<WindowSpec>(rest, "integer");
                }

                if (!long.TryParse(n.Value.Span.ToStringValue(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value <= 0)
                {
                    return FailMessage<WindowSpec>(rest, $"window {WindowArgumentName(kind, i)} must be a positive integer");
                }

                if (kind == WindowKind.Count && numbers.Count == 1 && value > numbers[0])
                {
                    // As eKuiper: COUNTWINDOW(n, m) emits every m rows the last n, so m may not exceed n.
                    return FailMessage<WindowSpec>(rest, $"the second parameter value {value} should be less than the first parameter {numbers[0]}");
                }

                numbers.Add(value);
                rest = n.Remainder;
            }
        }

        var close = rest.ConsumeToken();
        if (!Is(close, SqlToken.RParen))
        {
            return numbers.Count < required + optional || (kind == WindowKind.State && emit is null)
                ? Fail<WindowSpec>(rest, "`,`", "`)`")
                : Fail<WindowSpec>(rest, "`)`");
        }

        var end = SpanOf(close.Value);
        rest = close.Remainder;
        Expr? filter = null;
        OverClause? over = null;
        for (var i = 0; i < 2; i++)
        {
            var next = rest.ConsumeToken();
            if (filter is null && IsWord(next, "FILTER"))
            {
                var f = FilterTail(next.Remainder);
                if (!f.HasValue)
                {
                    return Cast<(Expr, SourceSpan), WindowSpec>(f);
                }

                (filter, end) = f.Value;
                rest = f.Remainder;
            }
            else if (over is null && IsWord(next, "OVER"))
            {
                var o = OverTail(SpanOf(next.Value), next.Remainder);
                if (!o.HasValue)
                {
                    return Cast<OverClause, WindowSpec>(o);
                }

                over = o.Value;
                end = over.Span;
                rest = o.Remainder;
            }
        }

        var spec = new WindowSpec(
            kind,
            unit,
            kind == WindowKind.State ? 0 : numbers[0],
            numbers.Count > 1 ? numbers[1] : null,
            begin,
            emit,
            filter,
            over) { Span = Cover(start, end) };
        return Ok(spec, input, rest);
    }

    private static string WindowArgumentName(WindowKind kind, int index) => (kind, index) switch
    {
        (WindowKind.Count, 0) => "count",
        (WindowKind.Count, _) => "interval",
        (WindowKind.Hopping, 1) => "hop",
        (WindowKind.Sliding, 1) => "delay",
        (WindowKind.Session, 1) => "timeout",
        _ => "length",
    };

    internal static TimeUnit ParseTimeUnit(string text) => text.ToUpperInvariant() switch
    {
        "DD" => TimeUnit.Days,
        "HH" => TimeUnit.Hours,
        "MI" => TimeUnit.Minutes,
        "SS" => TimeUnit.Seconds,
        "MS" => TimeUnit.Milliseconds,
        _ => TimeUnit.None,
    };

    private static TokenListParserResult<SqlToken, GroupByClause> GroupByTail(SourceSpan start, TokenList<SqlToken> input, TokenList<SqlToken> rest)
    {
        var by = Expect(rest, SqlToken.By, "`BY`");
        if (!by.HasValue)
        {
            return Cast<Token<SqlToken>, GroupByClause>(by);
        }

        var items = CommaSeparated(by.Remainder, GroupItemParser);
        if (!items.HasValue)
        {
            return Cast<List<SqlNode>, GroupByClause>(items);
        }

        var keys = new List<Expr>();
        WindowSpec? window = null;
        var windowIndex = -1;
        foreach (var item in items.Value)
        {
            if (item is WindowSpec w)
            {
                if (window is not null)
                {
                    throw new SqlException(SqlErrorCode.InvalidUse, "GROUP BY can have only one window", w.Span.Line, w.Span.Column, w.Span.Start);
                }

                window = w;
                windowIndex = keys.Count;
            }
            else
            {
                keys.Add((Expr)item);
            }
        }

        var last = items.Value[^1];
        return Ok(new GroupByClause(keys.ToNodeList(), window, windowIndex) { Span = Cover(start, last.Span) }, input, items.Remainder);
    }

    /// <summary>The clause keywords that may still follow, for the error when a SELECT is followed by something else.</summary>
    internal static string[] ExpectAfter(SelectStatement select)
    {
        var expected = new List<string>();
        if (select.Where is null && select.GroupBy is null && select.Having is null && select.OrderBy.IsEmpty && select.Limit is null)
        {
            expected.Add("`JOIN`");
            expected.Add("`WHERE`");
        }

        if (select.GroupBy is null && select.Having is null && select.OrderBy.IsEmpty && select.Limit is null)
        {
            expected.Add("`GROUP`");
        }

        if (select.Having is null && select.OrderBy.IsEmpty && select.Limit is null)
        {
            expected.Add("`HAVING`");
        }

        if (select.OrderBy.IsEmpty && select.Limit is null)
        {
            expected.Add("`ORDER`");
        }

        if (select.Limit is null)
        {
            expected.Add("`LIMIT`");
        }

        expected.Add("end of input");
        return [.. expected];
    }

    internal static readonly TokenListParser<SqlToken, SelectStatement> Select = input =>
    {
        var select = Expect(input, SqlToken.Select, "`SELECT`");
        if (!select.HasValue)
        {
            return Cast<Token<SqlToken>, SelectStatement>(select);
        }

        var fields = CommaSeparated(select.Remainder, SelectFieldParser);
        if (!fields.HasValue)
        {
            return Cast<List<SelectField>, SelectStatement>(fields);
        }

        var from = Expect(fields.Remainder, SqlToken.From, "`FROM`");
        if (!from.HasValue)
        {
            // Only FROM: after a select list, a misspelt FROM is by far the likeliest mistake.
            return Cast<Token<SqlToken>, SelectStatement>(from);
        }

        var source = TableRefParser(from.Remainder);
        if (!source.HasValue)
        {
            return Cast<TableRef, SelectStatement>(source);
        }

        var rest = source.Remainder;
        var joins = new List<JoinClause>();
        while (true)
        {
            var join = Join(rest);
            if (!join.HasValue)
            {
                if (join.Remainder != rest)
                {
                    return Cast<JoinClause, SelectStatement>(join);
                }

                break;
            }

            joins.Add(join.Value);
            rest = join.Remainder;
        }

        Expr? where = null;
        var next = rest.ConsumeToken();
        if (Is(next, SqlToken.Where))
        {
            var w = Expression(next.Remainder);
            if (!w.HasValue)
            {
                return Cast<Expr, SelectStatement>(w);
            }

            where = w.Value;
            rest = w.Remainder;
            next = rest.ConsumeToken();
        }

        GroupByClause? groupBy = null;
        if (Is(next, SqlToken.Group))
        {
            var g = GroupByTail(SpanOf(next.Value), rest, next.Remainder);
            if (!g.HasValue)
            {
                return Cast<GroupByClause, SelectStatement>(g);
            }

            groupBy = g.Value;
            rest = g.Remainder;
            next = rest.ConsumeToken();
        }

        Expr? having = null;
        if (Is(next, SqlToken.Having))
        {
            var h = Expression(next.Remainder);
            if (!h.HasValue)
            {
                return Cast<Expr, SelectStatement>(h);
            }

            having = h.Value;
            rest = h.Remainder;
            next = rest.ConsumeToken();
        }

        var orderBy = NodeList<SortItem>.Empty;
        if (Is(next, SqlToken.Order))
        {
            var by = Expect(next.Remainder, SqlToken.By, "`BY`");
            if (!by.HasValue)
            {
                return Cast<Token<SqlToken>, SelectStatement>(by);
            }

            var items = CommaSeparated(by.Remainder, SortItemParser);
            if (!items.HasValue)
            {
                return Cast<List<SortItem>, SelectStatement>(items);
            }

            orderBy = items.Value.ToNodeList();
            rest = items.Remainder;
            next = rest.ConsumeToken();
        }

        long? limit = null;
        if (Is(next, SqlToken.Limit))
        {
            var n = next.Remainder.ConsumeToken();
            if (!Is(n, SqlToken.Integer))
            {
                return Fail<SelectStatement>(next.Remainder, "integer");
            }

            if (!long.TryParse(n.Value.Span.ToStringValue(), NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                return FailMessage<SelectStatement>(next.Remainder, "LIMIT is out of range");
            }

            limit = value;
            rest = n.Remainder;
        }

        var statement = new SelectStatement(fields.Value.ToNodeList(), source.Value, joins.ToNodeList(), where, groupBy, having, orderBy, limit)
        {
            Span = SpanTo(SpanOf(select.Value), input, rest),
        };
        return Ok(statement, input, rest);
    };

    // ---------------------------------------------------------------- DDL and the rest

    private static readonly TokenListParser<SqlToken, SqlType> TypeParser = Parse.Ref(() => TypeParserImpl!);

    private static readonly TokenListParser<SqlToken, ColumnDefinition> ColumnParser = input =>
    {
        var name = Name(input);
        if (!name.HasValue)
        {
            return Fail<ColumnDefinition>(input, "column name");
        }

        var type = TypeParser(name.Remainder);
        return type.HasValue
            ? Ok(new ColumnDefinition(name.Value.Name, type.Value) { Span = SpanTo(name.Value.Span, input, type.Remainder) }, input, type.Remainder)
            : Cast<SqlType, ColumnDefinition>(type);
    };

    private static readonly TokenListParser<SqlToken, SqlType> TypeParserImpl = input =>
    {
        var next = input.ConsumeToken();
        if (!next.HasValue || next.Value.Kind != SqlToken.Identifier)
        {
            return Fail<SqlType>(input, ExpectType);
        }

        switch (next.Value.Span.ToStringValue().ToUpperInvariant())
        {
            case "BIGINT": return Ok(SqlType.Bigint, input, next.Remainder);
            case "FLOAT": return Ok(SqlType.Float, input, next.Remainder);
            case "STRING": return Ok(SqlType.String, input, next.Remainder);
            case "DATETIME": return Ok(SqlType.Datetime, input, next.Remainder);
            case "BOOLEAN": return Ok(SqlType.Boolean, input, next.Remainder);
            case "BYTEA": return Ok(SqlType.Bytea, input, next.Remainder);
            case "ARRAY":
                var open = Expect(next.Remainder, SqlToken.LParen, "`(`");
                if (!open.HasValue)
                {
                    return Cast<Token<SqlToken>, SqlType>(open);
                }

                var element = TypeParser(open.Remainder);
                if (!element.HasValue)
                {
                    return element;
                }

                var close = Expect(element.Remainder, SqlToken.RParen, "`)`");
                return close.HasValue ? Ok<SqlType>(new ArrayType(element.Value), input, close.Remainder) : Cast<Token<SqlToken>, SqlType>(close);
            case "STRUCT":
                var begin = Expect(next.Remainder, SqlToken.LParen, "`(`");
                if (!begin.HasValue)
                {
                    return Cast<Token<SqlToken>, SqlType>(begin);
                }

                var fields = CommaList(begin.Remainder, ColumnParser, SqlToken.RParen, allowEmpty: false);
                if (!fields.HasValue)
                {
                    return Cast<(NodeList<ColumnDefinition>, Token<SqlToken>), SqlType>(fields);
                }

                var duplicate = FindDuplicate(fields.Value.Items);
                if (duplicate is not null)
                {
                    throw Duplicate("field", duplicate);
                }

                return Ok<SqlType>(new StructType(fields.Value.Items.Select(c => new StructField(c.Name, c.Type)).ToNodeList()), input, fields.Remainder);
            default:
                return Fail<SqlType>(input, ExpectType);
        }
    };

    private static ColumnDefinition? FindDuplicate(NodeList<ColumnDefinition> columns)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var column in columns)
        {
            if (!seen.Add(column.Name))
            {
                return column;
            }
        }

        return null;
    }

    private static SqlException Duplicate(string what, ColumnDefinition column) =>
        new(SqlErrorCode.Duplicate, $"{what} `{column.Name}` is declared twice", column.Span.Line, column.Span.Column, column.Span.Start);

    private static readonly TokenListParser<SqlToken, StreamOption> OptionParser = input =>
    {
        var name = input.ConsumeToken();
        if (!name.HasValue || name.Value.Kind is not (SqlToken.Identifier or SqlToken.QuotedIdentifier))
        {
            return Fail<StreamOption>(input, "option name");
        }

        var equal = Expect(name.Remainder, SqlToken.Equal, "`=`");
        if (!equal.HasValue)
        {
            return Cast<Token<SqlToken>, StreamOption>(equal);
        }

        var value = equal.Remainder.ConsumeToken();
        string? text = value.HasValue
            ? value.Value.Kind switch
            {
                SqlToken.String => Unquote(value.Value.Span.ToStringValue()),
                SqlToken.Integer or SqlToken.Number => value.Value.Span.ToStringValue(),
                SqlToken.True => "true",
                SqlToken.False => "false",
                _ => null,
            }
            : null;
        if (text is null)
        {
            return Fail<StreamOption>(equal.Remainder, "string");
        }

        var option = new StreamOption(NameText(name.Value).ToUpperInvariant(), text) { Span = Cover(SpanOf(name.Value), SpanOf(value.Value)) };
        return Ok(option, input, value.Remainder);
    };

    /// <summary><c>STREAM</c> or <c>TABLE</c> (true for a table), or <c>STREAMS</c>/<c>TABLES</c> when plural.</summary>
    private static TokenListParserResult<SqlToken, bool> StreamOrTable(TokenList<SqlToken> input, bool plural = false)
    {
        var next = input.ConsumeToken();
        var stream = plural ? "STREAMS" : "STREAM";
        var table = plural ? "TABLES" : "TABLE";
        if (IsWord(next, stream))
        {
            return Ok(false, input, next.Remainder);
        }

        return IsWord(next, table) ? Ok(true, input, next.Remainder) : Fail<bool>(input, $"`{stream}`", $"`{table}`");
    }

    private static readonly TokenListParser<SqlToken, Statement> Create = input =>
    {
        var create = Word("CREATE")(input);
        if (!create.HasValue)
        {
            return Cast<Token<SqlToken>, Statement>(create);
        }

        var isTable = StreamOrTable(create.Remainder);
        if (!isTable.HasValue)
        {
            return Cast<bool, Statement>(isTable);
        }

        var name = Name(isTable.Remainder);
        if (!name.HasValue)
        {
            return Fail<Statement>(isTable.Remainder, isTable.Value ? "table name" : "stream name");
        }

        var open = Expect(name.Remainder, SqlToken.LParen, "`(`");
        if (!open.HasValue)
        {
            return Cast<Token<SqlToken>, Statement>(open);
        }

        var columns = CommaList(open.Remainder, ColumnParser, SqlToken.RParen);
        if (!columns.HasValue)
        {
            return Cast<(NodeList<ColumnDefinition>, Token<SqlToken>), Statement>(columns);
        }

        var duplicate = FindDuplicate(columns.Value.Items);
        if (duplicate is not null)
        {
            throw Duplicate("column", duplicate);
        }

        var rest = columns.Remainder;
        var options = NodeList<StreamOption>.Empty;
        var with = rest.ConsumeToken();
        if (IsWord(with, "WITH"))
        {
            var begin = Expect(with.Remainder, SqlToken.LParen, "`(`");
            if (!begin.HasValue)
            {
                return Cast<Token<SqlToken>, Statement>(begin);
            }

            var list = CommaList(begin.Remainder, OptionParser, SqlToken.RParen);
            if (!list.HasValue)
            {
                return Cast<(NodeList<StreamOption>, Token<SqlToken>), Statement>(list);
            }

            options = list.Value.Items;
            rest = list.Remainder;
        }

        var statement = new CreateStreamStatement(isTable.Value, name.Value.Name, columns.Value.Items, options)
        {
            Span = SpanTo(SpanOf(create.Value), input, rest),
        };
        return Ok<Statement>(statement, input, rest);
    };

    /// <summary><c>DROP</c> or <c>DESCRIBE</c> followed by <c>STREAM|TABLE name</c>.</summary>
    private static TokenListParser<SqlToken, Statement> NamedObjectStatement(string keyword, Func<bool, string, Statement> make) => input =>
    {
        var word = Word(keyword)(input);
        if (!word.HasValue)
        {
            return Cast<Token<SqlToken>, Statement>(word);
        }

        var isTable = StreamOrTable(word.Remainder);
        if (!isTable.HasValue)
        {
            return Cast<bool, Statement>(isTable);
        }

        var name = Name(isTable.Remainder);
        return name.HasValue
            ? Ok(make(isTable.Value, name.Value.Name) with { Span = Cover(SpanOf(word.Value), name.Value.Span) }, input, name.Remainder)
            : Fail<Statement>(isTable.Remainder, isTable.Value ? "table name" : "stream name");
    };

    private static readonly TokenListParser<SqlToken, Statement> Show = input =>
    {
        var word = Word("SHOW")(input);
        if (!word.HasValue)
        {
            return Cast<Token<SqlToken>, Statement>(word);
        }

        var tables = StreamOrTable(word.Remainder, plural: true);
        return tables.HasValue
            ? Ok<Statement>(new ShowStatement(tables.Value) { Span = SpanTo(SpanOf(word.Value), input, tables.Remainder) }, input, tables.Remainder)
            : Cast<bool, Statement>(tables);
    };

    private static readonly TokenListParser<SqlToken, Statement> Explain = input =>
    {
        var word = Word("EXPLAIN")(input);
        if (!word.HasValue)
        {
            return Cast<Token<SqlToken>, Statement>(word);
        }

        var select = Select(word.Remainder);
        return select.HasValue
            ? Ok<Statement>(new ExplainStatement(select.Value) { Span = Cover(SpanOf(word.Value), select.Value.Span) }, input, select.Remainder)
            : Cast<SelectStatement, Statement>(select);
    };

    private static readonly TokenListParser<SqlToken, Statement> DropParser =
        NamedObjectStatement("DROP", (isTable, name) => new DropStatement(isTable, name));

    private static readonly TokenListParser<SqlToken, Statement> DescribeParser =
        NamedObjectStatement("DESCRIBE", (isTable, name) => new DescribeStatement(isTable, name));

    /// <summary>Any one statement (without the trailing <c>;</c>).</summary>
    internal static readonly TokenListParser<SqlToken, Statement> Statement = input =>
    {
        var next = input.ConsumeToken();
        if (!next.HasValue)
        {
            return Fail<Statement>(input, ExpectStatement);
        }

        if (next.Value.Kind == SqlToken.Select)
        {
            var select = Select(input);
            return select.HasValue ? Ok<Statement>(select.Value, input, select.Remainder) : Cast<SelectStatement, Statement>(select);
        }

        if (next.Value.Kind == SqlToken.Identifier)
        {
            switch (next.Value.Span.ToStringValue().ToUpperInvariant())
            {
                case "CREATE": return Create(input);
                case "DROP": return DropParser(input);
                case "DESCRIBE": return DescribeParser(input);
                case "SHOW": return Show(input);
                case "EXPLAIN": return Explain(input);
            }
        }

        return Fail<Statement>(input, ExpectStatement);
    };
}
