using System.Globalization;
using System.Text;
using EdgeStream.Diagnostics;
using EdgeStream.Sql.Ast;
using Superpower;
using Superpower.Model;
using Superpower.Parsers;

namespace EdgeStream.Sql.Parsing;

/// <summary>
/// The grammar, as Superpower token-list parsers. Expressions follow eKuiper's precedence, lowest first:
/// OR, AND, NOT, comparisons (= != &lt;&gt; &lt; &lt;= &gt; &gt;= IN BETWEEN LIKE IS NULL), + - | ^, * / % &amp;,
/// unary minus, postfix (. -&gt; [ ]). The hot levels are written as plain delegates that switch on the next
/// token, so a failure names one clear expectation instead of a list of every alternative tried.
/// </summary>
internal static partial class SqlGrammar
{
    private static readonly string[] ExpectExpression = ["expression"];
    private static readonly string[] ExpectIdentifier = ["identifier"];

    // ---------------------------------------------------------------- helpers

    internal static SourceSpan SpanOf(Token<SqlToken> token)
    {
        var p = token.Span.Position;
        return new SourceSpan(p.Absolute, p.Absolute + token.Span.Length, p.Line, p.Column);
    }

    private static SourceSpan Cover(SourceSpan first, SourceSpan last) => SourceSpan.Cover(first, last);

    private static TokenListParserResult<SqlToken, T> Ok<T>(T value, TokenList<SqlToken> location, TokenList<SqlToken> remainder) =>
        TokenListParserResult.Value(value, location, remainder);

    private static TokenListParserResult<SqlToken, T> Fail<T>(TokenList<SqlToken> at, params string[] expected) =>
        TokenListParserResult.Empty<SqlToken, T>(at, expected);

    private static TokenListParserResult<SqlToken, T> FailMessage<T>(TokenList<SqlToken> at, string message) =>
        TokenListParserResult.Empty<SqlToken, T>(at, message);

    private static TokenListParserResult<SqlToken, TOut> Cast<TIn, TOut>(TokenListParserResult<SqlToken, TIn> failed) =>
        TokenListParserResult.CastEmpty<SqlToken, TIn, TOut>(failed);

    private static bool Is(TokenListParserResult<SqlToken, Token<SqlToken>> next, SqlToken kind) =>
        next.HasValue && next.Value.Kind == kind;

    private static bool IsWord(TokenListParserResult<SqlToken, Token<SqlToken>> next, string word) =>
        next.HasValue && next.Value.Kind == SqlToken.Identifier && next.Value.Span.EqualsValueIgnoreCase(word);

    private static TokenListParser<SqlToken, Token<SqlToken>> Tk(SqlToken kind) => Token.EqualTo(kind);

    /// <summary>A contextual keyword: an identifier token with this text, any case; expected as <c>`WORD`</c>.</summary>
    private static TokenListParser<SqlToken, Token<SqlToken>> Word(string word) => Token.EqualToValueIgnoreCase(SqlToken.Identifier, word);

    private static readonly TokenListParser<SqlToken, Token<SqlToken>> NameToken = input =>
    {
        var next = input.ConsumeToken();
        return next.HasValue && next.Value.Kind is SqlToken.Identifier or SqlToken.QuotedIdentifier
            ? next
            : Fail<Token<SqlToken>>(input, ExpectIdentifier);
    };

    /// <summary>After <c>.</c> or <c>-&gt;</c> only a field name can come, so reserved words are names there too (<c>obj->inner</c>).</summary>
    private static readonly TokenListParser<SqlToken, Token<SqlToken>> MemberNameToken = input =>
    {
        var next = input.ConsumeToken();
        return next.HasValue && (next.Value.Kind is SqlToken.Identifier or SqlToken.QuotedIdentifier || next.Value.Kind >= SqlToken.Select)
            ? next
            : Fail<Token<SqlToken>>(input, ExpectIdentifier);
    };

    /// <summary>A name (bare or backquoted) with its span.</summary>
    private static readonly TokenListParser<SqlToken, (string Name, SourceSpan Span)> Name =
        NameToken.Select(t => (NameText(t), SpanOf(t)));

    internal static string NameText(Token<SqlToken> token) =>
        token.Kind == SqlToken.QuotedIdentifier ? Unquote(token.Span.ToStringValue()) : token.Span.ToStringValue();

    /// <summary>
    /// The value of a quoted token. A doubled quote stands for one. In strings, <c>\\ \" \' \n \r \t</c> are escapes
    /// and any other backslash is kept as written, so LIKE escapes and regular expressions survive unchanged.
    /// </summary>
    internal static string Unquote(string quoted)
    {
        var quote = quoted[0];
        var inner = quoted.AsSpan(1, quoted.Length - 2);
        if (inner.IndexOf(quote) < 0 && (quote == '`' || inner.IndexOf('\\') < 0))
        {
            return inner.ToString();
        }

        var sb = new StringBuilder(inner.Length);
        for (var i = 0; i < inner.Length; i++)
        {
            var c = inner[i];
            if (c == quote && i + 1 < inner.Length && inner[i + 1] == quote)
            {
                sb.Append(quote);
                i++;
            }
            else if (c == '\\' && quote != '`' && i + 1 < inner.Length)
            {
                var e = inner[++i];
                switch (e)
                {
                    case 'n': sb.Append('\n'); break;
                    case 'r': sb.Append('\r'); break;
                    case 't': sb.Append('\t'); break;
                    case '\\' or '"' or '\'': sb.Append(e); break;
                    default: sb.Append('\\').Append(e); break;
                }
            }
            else
            {
                sb.Append(c);
            }
        }

        return sb.ToString();
    }

    /// <summary>
    /// <c>item (, item)* close</c> or just <c>close</c>; returns the items and the closing token.
    /// After an item the error names both ways on: <c>expected `,` or `)`</c>.
    /// </summary>
    private static TokenListParserResult<SqlToken, (NodeList<T> Items, Token<SqlToken> Close)> CommaList<T>(
        TokenList<SqlToken> input, TokenListParser<SqlToken, T> item, SqlToken close, bool allowEmpty = true)
    {
        var next = input.ConsumeToken();
        if (allowEmpty && Is(next, close))
        {
            return Ok((NodeList<T>.Empty, next.Value), input, next.Remainder);
        }

        var items = new List<T>();
        var rest = input;
        while (true)
        {
            var r = item(rest);
            if (!r.HasValue)
            {
                return Cast<T, (NodeList<T>, Token<SqlToken>)>(r);
            }

            items.Add(r.Value);
            rest = r.Remainder;
            next = rest.ConsumeToken();
            if (Is(next, SqlToken.Comma))
            {
                rest = next.Remainder;
                continue;
            }

            if (Is(next, close))
            {
                return Ok((items.ToNodeList(), next.Value), input, next.Remainder);
            }

            return Fail<(NodeList<T>, Token<SqlToken>)>(rest, "`,`", Expect(close));
        }
    }

    private static string Expect(SqlToken kind) => kind switch
    {
        SqlToken.RParen => "`)`",
        SqlToken.RBracket => "`]`",
        SqlToken.RBrace => "`}`",
        _ => kind.ToString(),
    };

    /// <summary>Consumes one token of <paramref name="kind"/> or fails expecting it.</summary>
    private static TokenListParserResult<SqlToken, Token<SqlToken>> Expect(TokenList<SqlToken> input, SqlToken kind, string expectation)
    {
        var next = input.ConsumeToken();
        return Is(next, kind) ? next : Fail<Token<SqlToken>>(input, expectation);
    }

    // ---------------------------------------------------------------- expressions

    /// <summary>Any expression.</summary>
    internal static readonly TokenListParser<SqlToken, Expr> Expression = Parse.Ref(() => OrLevel!);

    private static readonly TokenListParser<SqlToken, Expr> NotLevelParser = NotLevel;

    private static readonly TokenListParser<SqlToken, Expr> AndLevel =
        Parse.Chain(Tk(SqlToken.And).Value(BinaryOperator.And), NotLevelParser, MakeBinary);

    private static readonly TokenListParser<SqlToken, Expr> OrLevel =
        Parse.Chain(Tk(SqlToken.Or).Value(BinaryOperator.Or), AndLevel, MakeBinary);

    private static Expr MakeBinary(BinaryOperator op, Expr left, Expr right) =>
        new BinaryExpr(op, left, right) { Span = Cover(left.Span, right.Span) };

    private static TokenListParser<SqlToken, BinaryOperator> Operators(params (SqlToken Token, BinaryOperator Op)[] map)
    {
        var expected = map.Select(m => "`" + m.Token switch
        {
            SqlToken.Star => "*", SqlToken.Slash => "/", SqlToken.Percent => "%", SqlToken.Ampersand => "&",
            SqlToken.Plus => "+", SqlToken.Minus => "-", SqlToken.Pipe => "|", _ => "^",
        } + "`").ToArray();
        return input =>
        {
            var next = input.ConsumeToken();
            if (next.HasValue)
            {
                foreach (var (token, op) in map)
                {
                    if (next.Value.Kind == token)
                    {
                        return Ok(op, input, next.Remainder);
                    }
                }
            }

            return Fail<BinaryOperator>(input, expected);
        };
    }

    private static readonly TokenListParser<SqlToken, Expr> UnaryParser = Unary;

    private static readonly TokenListParser<SqlToken, Expr> Multiplicative = Parse.Chain(
        Operators((SqlToken.Star, BinaryOperator.Multiply), (SqlToken.Slash, BinaryOperator.Divide),
            (SqlToken.Percent, BinaryOperator.Modulo), (SqlToken.Ampersand, BinaryOperator.BitAnd)),
        UnaryParser,
        MakeBinary);

    /// <summary>The operand level of comparisons, BETWEEN bounds, LIKE patterns: <c>+ - | ^</c> and tighter.</summary>
    internal static readonly TokenListParser<SqlToken, Expr> Additive = Parse.Chain(
        Operators((SqlToken.Plus, BinaryOperator.Add), (SqlToken.Minus, BinaryOperator.Subtract),
            (SqlToken.Pipe, BinaryOperator.BitOr), (SqlToken.Caret, BinaryOperator.BitXor)),
        Multiplicative,
        MakeBinary);

    /// <summary>
    /// How deeply expressions may nest (parentheses, calls, CASE, unary operators). Deeper input gets a syntax error
    /// rather than exhausting the stack, which would end the host process.
    /// </summary>
    internal const int MaxNesting = 128;

    [ThreadStatic]
    private static int nesting;

    /// <summary>Runs one level of expression recursion under the nesting limit.</summary>
    private static TokenListParserResult<SqlToken, Expr> Nested(TokenList<SqlToken> input, Func<TokenList<SqlToken>, TokenListParserResult<SqlToken, Expr>> parse)
    {
        if (nesting >= MaxNesting)
        {
            return FailMessage<Expr>(input, $"the expression nests more than {MaxNesting / 2} levels deep");
        }

        System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
        nesting++;
        try
        {
            return parse(input);
        }
        finally
        {
            nesting--;
        }
    }

    private static readonly Func<TokenList<SqlToken>, TokenListParserResult<SqlToken, Expr>> NotLevelCoreParser = NotLevelCore;
    private static readonly Func<TokenList<SqlToken>, TokenListParserResult<SqlToken, Expr>> UnaryCoreParser = UnaryCore;

    private static TokenListParserResult<SqlToken, Expr> NotLevel(TokenList<SqlToken> input) => Nested(input, NotLevelCoreParser);

    private static TokenListParserResult<SqlToken, Expr> Unary(TokenList<SqlToken> input) => Nested(input, UnaryCoreParser);

    private static TokenListParserResult<SqlToken, Expr> NotLevelCore(TokenList<SqlToken> input)
    {
        var next = input.ConsumeToken();
        if (!Is(next, SqlToken.Not))
        {
            return Comparison(input);
        }

        var operand = NotLevel(next.Remainder);
        return operand.HasValue
            ? Ok<Expr>(new UnaryExpr(UnaryOperator.Not, operand.Value) { Span = Cover(SpanOf(next.Value), operand.Value.Span) }, input, operand.Remainder)
            : operand;
    }

    private static BinaryOperator? ComparisonOperator(SqlToken kind) => kind switch
    {
        SqlToken.Equal => BinaryOperator.Equal,
        SqlToken.NotEqual => BinaryOperator.NotEqual,
        SqlToken.Less => BinaryOperator.Less,
        SqlToken.LessOrEqual => BinaryOperator.LessOrEqual,
        SqlToken.Greater => BinaryOperator.Greater,
        SqlToken.GreaterOrEqual => BinaryOperator.GreaterOrEqual,
        _ => null,
    };

    /// <summary>Comparisons and the predicates of the same precedence, left-associative.</summary>
    private static TokenListParserResult<SqlToken, Expr> Comparison(TokenList<SqlToken> input)
    {
        var left = Additive(input);
        if (!left.HasValue)
        {
            return left;
        }

        var expr = left.Value;
        var rest = left.Remainder;
        while (true)
        {
            var next = rest.ConsumeToken();
            if (!next.HasValue)
            {
                break;
            }

            if (ComparisonOperator(next.Value.Kind) is { } op)
            {
                var right = Additive(next.Remainder);
                if (!right.HasValue)
                {
                    return right;
                }

                expr = MakeBinary(op, expr, right.Value);
                rest = right.Remainder;
                continue;
            }

            var negated = false;
            var keyword = next;
            if (Is(next, SqlToken.Not))
            {
                negated = true;
                keyword = next.Remainder.ConsumeToken();
                if (!keyword.HasValue || keyword.Value.Kind is not (SqlToken.In or SqlToken.Between or SqlToken.Like))
                {
                    return Fail<Expr>(next.Remainder, "`IN`", "`BETWEEN`", "`LIKE`");
                }
            }

            TokenListParserResult<SqlToken, Expr> predicate;
            switch (keyword.Value.Kind)
            {
                case SqlToken.In:
                    predicate = InTail(expr, negated, keyword.Remainder);
                    break;
                case SqlToken.Between:
                    predicate = BetweenTail(expr, negated, keyword.Remainder);
                    break;
                case SqlToken.Like:
                    predicate = LikeTail(expr, negated, keyword.Remainder);
                    break;
                case SqlToken.Is:
                    predicate = IsNullTail(expr, keyword.Remainder);
                    break;
                default:
                    return Ok(expr, input, rest);
            }

            if (!predicate.HasValue)
            {
                return predicate;
            }

            expr = predicate.Value;
            rest = predicate.Remainder;
        }

        return Ok(expr, input, rest);
    }

    private static TokenListParserResult<SqlToken, Expr> InTail(Expr value, bool negated, TokenList<SqlToken> input)
    {
        var open = input.ConsumeToken();
        if (!Is(open, SqlToken.LParen))
        {
            // `value IN arrayField`: membership in an array value (eKuiper's `expression IN expression2`).
            var array = Unary(input);
            if (!array.HasValue)
            {
                return array.Remainder == input && array.ErrorMessage is null ? Fail<Expr>(input, "`(`", "expression") : array;
            }

            return Ok<Expr>(new InExpr(value, default, negated, array.Value) { Span = Cover(value.Span, array.Value.Span) }, input, array.Remainder);
        }

        var list = CommaList(open.Remainder, Expression, SqlToken.RParen, allowEmpty: false);
        return list.HasValue
            ? Ok<Expr>(new InExpr(value, list.Value.Items, negated) { Span = Cover(value.Span, SpanOf(list.Value.Close)) }, input, list.Remainder)
            : Cast<(NodeList<Expr>, Token<SqlToken>), Expr>(list);
    }

    private static TokenListParserResult<SqlToken, Expr> BetweenTail(Expr value, bool negated, TokenList<SqlToken> input)
    {
        var low = Additive(input);
        if (!low.HasValue)
        {
            return low;
        }

        var and = Expect(low.Remainder, SqlToken.And, "`AND`");
        if (!and.HasValue)
        {
            return Cast<Token<SqlToken>, Expr>(and);
        }

        var high = Additive(and.Remainder);
        return high.HasValue
            ? Ok<Expr>(new BetweenExpr(value, low.Value, high.Value, negated) { Span = Cover(value.Span, high.Value.Span) }, input, high.Remainder)
            : high;
    }

    private static TokenListParserResult<SqlToken, Expr> LikeTail(Expr value, bool negated, TokenList<SqlToken> input)
    {
        var pattern = Additive(input);
        if (!pattern.HasValue)
        {
            return pattern;
        }

        var next = pattern.Remainder.ConsumeToken();
        if (!IsWord(next, "ESCAPE"))
        {
            return Ok<Expr>(new LikeExpr(value, pattern.Value, null, negated) { Span = Cover(value.Span, pattern.Value.Span) }, input, pattern.Remainder);
        }

        var escape = next.Remainder.ConsumeToken();
        if (!Is(escape, SqlToken.String))
        {
            return Fail<Expr>(next.Remainder, "string");
        }

        var text = Unquote(escape.Value.Span.ToStringValue());
        if (text.Length != 1)
        {
            return FailMessage<Expr>(next.Remainder, "the ESCAPE string must be exactly one character");
        }

        return Ok<Expr>(new LikeExpr(value, pattern.Value, text, negated) { Span = Cover(value.Span, SpanOf(escape.Value)) }, input, escape.Remainder);
    }

    private static TokenListParserResult<SqlToken, Expr> IsNullTail(Expr value, TokenList<SqlToken> input)
    {
        var next = input.ConsumeToken();
        var negated = Is(next, SqlToken.Not);
        var nullToken = negated ? next.Remainder.ConsumeToken() : next;
        if (!Is(nullToken, SqlToken.Null))
        {
            return negated ? Fail<Expr>(next.Remainder, "`NULL`") : Fail<Expr>(input, "`NOT`", "`NULL`");
        }

        return Ok<Expr>(new IsNullExpr(value, negated) { Span = Cover(value.Span, SpanOf(nullToken.Value)) }, input, nullToken.Remainder);
    }

    /// <summary>Unary minus (a minus directly before a number makes a negative literal), else a postfix expression.</summary>
    private static TokenListParserResult<SqlToken, Expr> UnaryCore(TokenList<SqlToken> input)
    {
        var next = input.ConsumeToken();
        if (!Is(next, SqlToken.Minus))
        {
            return Postfix(Primary(input));
        }

        var operand = next.Remainder.ConsumeToken();
        if (operand.HasValue && operand.Value.Kind is SqlToken.Integer or SqlToken.Number)
        {
            return Postfix(NumberLiteral(input, operand.Value, operand.Remainder, SpanOf(next.Value)));
        }

        var inner = Unary(next.Remainder);
        return inner.HasValue
            ? Ok<Expr>(new UnaryExpr(UnaryOperator.Negate, inner.Value) { Span = Cover(SpanOf(next.Value), inner.Value.Span) }, input, inner.Remainder)
            : inner;
    }

    /// <summary><c>.name</c>, <c>.*</c> (after a bare name), <c>-&gt;name</c>, <c>[i]</c>, <c>[a:b]</c> after a primary.</summary>
    private static TokenListParserResult<SqlToken, Expr> Postfix(TokenListParserResult<SqlToken, Expr> primary)
    {
        if (!primary.HasValue)
        {
            return primary;
        }

        var expr = primary.Value;
        var rest = primary.Remainder;
        while (true)
        {
            var next = rest.ConsumeToken();
            if (!next.HasValue)
            {
                break;
            }

            var kind = next.Value.Kind;
            if (kind is SqlToken.Dot or SqlToken.Arrow)
            {
                var after = next.Remainder.ConsumeToken();
                if (kind == SqlToken.Dot && Is(after, SqlToken.Star) && expr is FieldRef qualifier)
                {
                    expr = new Wildcard(qualifier.Name) { Span = Cover(expr.Span, SpanOf(after.Value)) };
                    return Ok(expr, primary.Location, after.Remainder);
                }

                var name = MemberNameToken(next.Remainder);
                if (!name.HasValue)
                {
                    return Cast<Token<SqlToken>, Expr>(name);
                }

                expr = new MemberAccess(expr, NameText(name.Value), kind == SqlToken.Arrow) { Span = Cover(expr.Span, SpanOf(name.Value)) };
                rest = name.Remainder;
            }
            else if (kind == SqlToken.LBracket)
            {
                var access = IndexTail(expr, next.Remainder);
                if (!access.HasValue)
                {
                    return access;
                }

                expr = access.Value;
                rest = access.Remainder;
            }
            else
            {
                break;
            }
        }

        return Ok(expr, primary.Location, rest);
    }

    /// <summary>After <c>[</c>: <c>i]</c>, <c>a:b]</c>, <c>:b]</c>, <c>a:]</c> or <c>:]</c>.</summary>
    private static TokenListParserResult<SqlToken, Expr> IndexTail(Expr target, TokenList<SqlToken> input)
    {
        Expr? start = null;
        var rest = input;
        var next = rest.ConsumeToken();
        if (!Is(next, SqlToken.Colon))
        {
            var index = Expression(rest);
            if (!index.HasValue)
            {
                return index;
            }

            start = index.Value;
            rest = index.Remainder;
            next = rest.ConsumeToken();
            if (Is(next, SqlToken.RBracket))
            {
                return Ok<Expr>(new IndexAccess(target, start) { Span = Cover(target.Span, SpanOf(next.Value)) }, input, next.Remainder);
            }

            if (!Is(next, SqlToken.Colon))
            {
                return Fail<Expr>(rest, "`:`", "`]`");
            }
        }

        rest = next.Remainder;
        Expr? end = null;
        next = rest.ConsumeToken();
        if (!Is(next, SqlToken.RBracket))
        {
            var bound = Expression(rest);
            if (!bound.HasValue)
            {
                return bound;
            }

            end = bound.Value;
            rest = bound.Remainder;
            next = rest.ConsumeToken();
            if (!Is(next, SqlToken.RBracket))
            {
                return Fail<Expr>(rest, "`]`");
            }
        }

        return Ok<Expr>(new SliceAccess(target, start, end) { Span = Cover(target.Span, SpanOf(next.Value)) }, input, next.Remainder);
    }

    private static TokenListParserResult<SqlToken, Expr> Primary(TokenList<SqlToken> input)
    {
        var next = input.ConsumeToken();
        if (!next.HasValue)
        {
            return Fail<Expr>(input, ExpectExpression);
        }

        var token = next.Value;
        var span = SpanOf(token);
        switch (token.Kind)
        {
            case SqlToken.Integer or SqlToken.Number:
                return NumberLiteral(input, token, next.Remainder, SourceSpan.None);
            case SqlToken.String:
                return Ok<Expr>(new StringLiteral(Unquote(token.Span.ToStringValue())) { Span = span }, input, next.Remainder);
            case SqlToken.True or SqlToken.False:
                return Ok<Expr>(new BooleanLiteral(token.Kind == SqlToken.True) { Span = span }, input, next.Remainder);
            case SqlToken.Null:
                return Ok<Expr>(new NullLiteral { Span = span }, input, next.Remainder);
            case SqlToken.LParen:
                var inner = Expression(next.Remainder);
                if (!inner.HasValue)
                {
                    return inner;
                }

                var close = Expect(inner.Remainder, SqlToken.RParen, "`)`");
                return close.HasValue ? Ok(inner.Value, input, close.Remainder) : Cast<Token<SqlToken>, Expr>(close);
            case SqlToken.LBracket:
                var items = CommaList(next.Remainder, Expression, SqlToken.RBracket);
                return items.HasValue
                    ? Ok<Expr>(new ArrayLiteral(items.Value.Items) { Span = Cover(span, SpanOf(items.Value.Close)) }, input, items.Remainder)
                    : Cast<(NodeList<Expr>, Token<SqlToken>), Expr>(items);
            case SqlToken.LBrace:
                var entries = CommaList(next.Remainder, ObjectEntryParser, SqlToken.RBrace);
                return entries.HasValue
                    ? Ok<Expr>(new ObjectLiteral(entries.Value.Items) { Span = Cover(span, SpanOf(entries.Value.Close)) }, input, entries.Remainder)
                    : Cast<(NodeList<ObjectEntry>, Token<SqlToken>), Expr>(entries);
            case SqlToken.Case:
                return CaseTail(span, input, next.Remainder);
            case SqlToken.Identifier or SqlToken.QuotedIdentifier:
                var after = next.Remainder.ConsumeToken();
                return Is(after, SqlToken.LParen)
                    ? CallTail(NameText(token).ToLowerInvariant(), span, input, after.Remainder)
                    : Ok<Expr>(new FieldRef(NameText(token)) { Span = span }, input, next.Remainder);
            default:
                return Fail<Expr>(input, ExpectExpression);
        }
    }

    /// <summary>An integer or float literal, negated when <paramref name="minus"/> is the span of a leading minus.</summary>
    private static TokenListParserResult<SqlToken, Expr> NumberLiteral(
        TokenList<SqlToken> input, Token<SqlToken> token, TokenList<SqlToken> remainder, SourceSpan minus)
    {
        var negative = !minus.IsNone;
        var span = Cover(minus, SpanOf(token));
        var text = token.Span.ToStringValue();
        if (token.Kind == SqlToken.Integer)
        {
            return long.TryParse(negative ? "-" + text : text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer)
                ? Ok<Expr>(new IntegerLiteral(integer) { Span = span }, input, remainder)
                : FailMessage<Expr>(input, $"integer {(negative ? "-" : string.Empty)}{text} is out of range (64-bit)");
        }

        var number = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
        return double.IsFinite(number)
            ? Ok<Expr>(new FloatLiteral(negative ? -number : number) { Span = span }, input, remainder)
            : FailMessage<Expr>(input, $"number {text} is out of range");
    }

    private static readonly TokenListParser<SqlToken, ObjectEntry> ObjectEntryParser = input =>
    {
        var key = input.ConsumeToken();
        if (!Is(key, SqlToken.String))
        {
            return Fail<ObjectEntry>(input, "string");
        }

        var colon = Expect(key.Remainder, SqlToken.Colon, "`:`");
        if (!colon.HasValue)
        {
            return Cast<Token<SqlToken>, ObjectEntry>(colon);
        }

        var value = Expression(colon.Remainder);
        return value.HasValue
            ? Ok(new ObjectEntry(Unquote(key.Value.Span.ToStringValue()), value.Value) { Span = Cover(SpanOf(key.Value), value.Value.Span) }, input, value.Remainder)
            : Cast<Expr, ObjectEntry>(value);
    };

    /// <summary>After <c>CASE</c>: <c>[operand] WHEN c THEN r … [ELSE e] END</c>.</summary>
    private static TokenListParserResult<SqlToken, Expr> CaseTail(SourceSpan start, TokenList<SqlToken> input, TokenList<SqlToken> rest)
    {
        Expr? operand = null;
        var next = rest.ConsumeToken();
        if (!Is(next, SqlToken.When))
        {
            var o = Expression(rest);
            if (!o.HasValue)
            {
                return o;
            }

            operand = o.Value;
            rest = o.Remainder;
        }

        var whens = new List<WhenClause>();
        while (true)
        {
            next = rest.ConsumeToken();
            if (!Is(next, SqlToken.When))
            {
                if (whens.Count == 0)
                {
                    return Fail<Expr>(rest, "`WHEN`");
                }

                break;
            }

            var condition = Expression(next.Remainder);
            if (!condition.HasValue)
            {
                return condition;
            }

            var then = Expect(condition.Remainder, SqlToken.Then, "`THEN`");
            if (!then.HasValue)
            {
                return Cast<Token<SqlToken>, Expr>(then);
            }

            var result = Expression(then.Remainder);
            if (!result.HasValue)
            {
                return result;
            }

            whens.Add(new WhenClause(condition.Value, result.Value) { Span = Cover(SpanOf(next.Value), result.Value.Span) });
            rest = result.Remainder;
        }

        Expr? otherwise = null;
        if (Is(next, SqlToken.Else))
        {
            var e = Expression(next.Remainder);
            if (!e.HasValue)
            {
                return e;
            }

            otherwise = e.Value;
            rest = e.Remainder;
            next = rest.ConsumeToken();
        }

        if (!Is(next, SqlToken.End))
        {
            return otherwise is null ? Fail<Expr>(rest, "`WHEN`", "`ELSE`", "`END`") : Fail<Expr>(rest, "`END`");
        }

        return Ok<Expr>(new CaseExpr(operand, whens.ToNodeList(), otherwise) { Span = Cover(start, SpanOf(next.Value)) }, input, next.Remainder);
    }

    private static readonly TokenListParser<SqlToken, Expr> Argument = input =>
    {
        var next = input.ConsumeToken();
        return Is(next, SqlToken.Star)
            ? Ok<Expr>(new Wildcard(null) { Span = SpanOf(next.Value) }, input, next.Remainder)
            : Expression(input);
    };

    /// <summary>After <c>name(</c>: arguments, <c>)</c>, then an optional <c>OVER (…)</c> and <c>FILTER (WHERE …)</c>.</summary>
    private static TokenListParserResult<SqlToken, Expr> CallTail(string name, SourceSpan start, TokenList<SqlToken> input, TokenList<SqlToken> rest)
    {
        var args = CommaList(rest, Argument, SqlToken.RParen);
        if (!args.HasValue)
        {
            return Cast<(NodeList<Expr>, Token<SqlToken>), Expr>(args);
        }

        var end = SpanOf(args.Value.Close);
        rest = args.Remainder;
        OverClause? over = null;
        Expr? filter = null;
        var next = rest.ConsumeToken();
        if (IsWord(next, "OVER"))
        {
            var o = OverTail(SpanOf(next.Value), next.Remainder);
            if (!o.HasValue)
            {
                return Cast<OverClause, Expr>(o);
            }

            over = o.Value;
            end = over.Span;
            rest = o.Remainder;
            next = rest.ConsumeToken();
        }

        if (IsWord(next, "FILTER"))
        {
            var f = FilterTail(next.Remainder);
            if (!f.HasValue)
            {
                return Cast<(Expr, SourceSpan), Expr>(f);
            }

            filter = f.Value.Item1;
            end = f.Value.Item2;
            rest = f.Remainder;
        }

        return Ok<Expr>(new CallExpr(name, args.Value.Items, over, filter) { Span = Cover(start, end) }, input, rest);
    }

    /// <summary>After <c>OVER</c>: <c>( [PARTITION BY e, …] [WHEN cond] )</c>.</summary>
    private static TokenListParserResult<SqlToken, OverClause> OverTail(SourceSpan start, TokenList<SqlToken> input)
    {
        var open = Expect(input, SqlToken.LParen, "`(`");
        if (!open.HasValue)
        {
            return Cast<Token<SqlToken>, OverClause>(open);
        }

        var rest = open.Remainder;
        var next = rest.ConsumeToken();
        var partition = NodeList<Expr>.Empty;
        if (IsWord(next, "PARTITION"))
        {
            var by = Expect(next.Remainder, SqlToken.By, "`BY`");
            if (!by.HasValue)
            {
                return Cast<Token<SqlToken>, OverClause>(by);
            }

            var keys = CommaSeparated(by.Remainder, Expression);
            if (!keys.HasValue)
            {
                return Cast<List<Expr>, OverClause>(keys);
            }

            rest = keys.Remainder;
            next = rest.ConsumeToken();
            partition = keys.Value.ToNodeList();
        }

        Expr? when = null;
        if (Is(next, SqlToken.When))
        {
            var condition = Expression(next.Remainder);
            if (!condition.HasValue)
            {
                return Cast<Expr, OverClause>(condition);
            }

            when = condition.Value;
            rest = condition.Remainder;
            next = rest.ConsumeToken();
        }

        if (!Is(next, SqlToken.RParen))
        {
            return when is not null ? Fail<OverClause>(rest, "`)`")
                : partition.IsEmpty ? Fail<OverClause>(rest, "`PARTITION`", "`WHEN`", "`)`")
                : Fail<OverClause>(rest, "`,`", "`WHEN`", "`)`");
        }

        return Ok(new OverClause(partition, when) { Span = Cover(start, SpanOf(next.Value)) }, input, next.Remainder);
    }

    /// <summary>After <c>FILTER</c>: <c>( WHERE cond )</c>; returns the condition and the span's end.</summary>
    private static TokenListParserResult<SqlToken, (Expr, SourceSpan)> FilterTail(TokenList<SqlToken> input)
    {
        var open = Expect(input, SqlToken.LParen, "`(`");
        if (!open.HasValue)
        {
            return Cast<Token<SqlToken>, (Expr, SourceSpan)>(open);
        }

        var where = Expect(open.Remainder, SqlToken.Where, "`WHERE`");
        if (!where.HasValue)
        {
            return Cast<Token<SqlToken>, (Expr, SourceSpan)>(where);
        }

        var condition = Expression(where.Remainder);
        if (!condition.HasValue)
        {
            return Cast<Expr, (Expr, SourceSpan)>(condition);
        }

        var close = Expect(condition.Remainder, SqlToken.RParen, "`)`");
        return close.HasValue
            ? Ok((condition.Value, SpanOf(close.Value)), input, close.Remainder)
            : Cast<Token<SqlToken>, (Expr, SourceSpan)>(close);
    }
}
