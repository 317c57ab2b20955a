using System.Collections.Frozen;
using Superpower;
using Superpower.Model;

namespace EdgeStream.Sql.Parsing;

/// <summary>
/// Splits SQL text into tokens. Hand-written (one pass, no backtracking) rather than built from combinators:
/// it runs on every rule text and must be cheap. Skips whitespace, <c>-- line</c> and <c>/* block */</c> comments.
/// </summary>
internal sealed class SqlTokenizer : Tokenizer<SqlToken>
{
    public static readonly SqlTokenizer Instance = new();

    private static readonly FrozenDictionary<string, SqlToken> Keywords = new Dictionary<string, SqlToken>(StringComparer.OrdinalIgnoreCase)
    {
        ["SELECT"] = SqlToken.Select, ["FROM"] = SqlToken.From, ["WHERE"] = SqlToken.Where, ["GROUP"] = SqlToken.Group,
        ["BY"] = SqlToken.By, ["HAVING"] = SqlToken.Having, ["ORDER"] = SqlToken.Order, ["LIMIT"] = SqlToken.Limit,
        ["AS"] = SqlToken.As, ["AND"] = SqlToken.And, ["OR"] = SqlToken.Or, ["NOT"] = SqlToken.Not, ["IN"] = SqlToken.In,
        ["BETWEEN"] = SqlToken.Between, ["LIKE"] = SqlToken.Like, ["IS"] = SqlToken.Is, ["NULL"] = SqlToken.Null,
        ["TRUE"] = SqlToken.True, ["FALSE"] = SqlToken.False, ["CASE"] = SqlToken.Case, ["WHEN"] = SqlToken.When,
        ["THEN"] = SqlToken.Then, ["ELSE"] = SqlToken.Else, ["END"] = SqlToken.End, ["JOIN"] = SqlToken.Join,
        ["INNER"] = SqlToken.Inner, ["LEFT"] = SqlToken.Left, ["RIGHT"] = SqlToken.Right, ["FULL"] = SqlToken.Full,
        ["CROSS"] = SqlToken.Cross, ["ON"] = SqlToken.On,
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    private static readonly FrozenDictionary<string, SqlToken>.AlternateLookup<ReadOnlySpan<char>> KeywordLookup =
        Keywords.GetAlternateLookup<ReadOnlySpan<char>>();

    protected override IEnumerable<Result<SqlToken>> Tokenize(TextSpan span)
    {
        var cursor = new Cursor(span);
        while (true)
        {
            var skipped = cursor.SkipTrivia();
            if (skipped is not null)
            {
                yield return skipped.Value;
                yield break;
            }

            if (cursor.AtEnd)
            {
                yield break;
            }

            var start = cursor.Span;
            var c = cursor.Current;
            SqlToken kind;
            if (SqlNames.IsIdentifierStart(c))
            {
                var begin = cursor.Offset;
                cursor.AdvanceWhile(SqlNames.IsIdentifierPart);
                kind = KeywordLookup.TryGetValue(cursor.Source.AsSpan(begin, cursor.Offset - begin), out var keyword)
                    ? keyword
                    : SqlToken.Identifier;
            }
            else if (char.IsAsciiDigit(c))
            {
                kind = cursor.ScanNumber();
            }
            else if (c is '"' or '\'' or '`')
            {
                if (!cursor.ScanQuoted(c))
                {
                    yield return Result.Empty<SqlToken>(cursor.Span, [c == '`' ? "closing backquote" : "closing quote " + (c == '"' ? "`\"`" : "`'`")]);
                    yield break;
                }

                kind = c == '`' ? SqlToken.QuotedIdentifier : SqlToken.String;
            }
            else
            {
                kind = cursor.ScanPunctuation();
                if (kind == SqlToken.None)
                {
                    yield return Result.Empty<SqlToken>(start);
                    yield break;
                }
            }

            yield return Result.Value(kind, start, cursor.Span);
        }
    }

    /// <summary>Walks the text keeping line and column, so no position is ever recomputed.</summary>
    private struct Cursor(TextSpan span)
    {
        private readonly int end = span.Position.Absolute + span.Length;
        private int line = span.Position.Line;
        private int column = span.Position.Column;

        public string Source { get; } = span.Source!;

        public int Offset { get; private set; } = span.Position.Absolute;

        public readonly bool AtEnd => Offset >= end;

        public readonly char Current => Source[Offset];

        public readonly TextSpan Span => new(Source, new Position(Offset, line, column), end - Offset);

        private readonly char Peek(int ahead) => Offset + ahead < end ? Source[Offset + ahead] : '\0';

        public void Advance()
        {
            if (Source[Offset] == '\n')
            {
                line++;
                column = 1;
            }
            else
            {
                column++;
            }

            Offset++;
        }

        public void AdvanceWhile(Func<char, bool> predicate)
        {
            while (!AtEnd && predicate(Current))
            {
                Advance();
            }
        }

        /// <summary>Skips whitespace and comments; returns an error for an unterminated block comment.</summary>
        public Result<SqlToken>? SkipTrivia()
        {
            while (!AtEnd)
            {
                var c = Current;
                if (char.IsWhiteSpace(c))
                {
                    Advance();
                }
                else if (c == '-' && Peek(1) == '-')
                {
                    AdvanceWhile(ch => ch != '\n');
                }
                else if (c == '/' && Peek(1) == '*')
                {
                    Advance();
                    Advance();
                    while (!AtEnd && !(Current == '*' && Peek(1) == '/'))
                    {
                        Advance();
                    }

                    if (AtEnd)
                    {
                        return Result.Empty<SqlToken>(Span, ["end of comment `*/`"]);
                    }

                    Advance();
                    Advance();
                }
                else
                {
                    break;
                }
            }

            return null;
        }

        /// <summary><c>digits [. digits] [e [+-] digits]</c>: Integer without fraction or exponent, else Number.</summary>
        public SqlToken ScanNumber()
        {
            AdvanceWhile(char.IsAsciiDigit);
            var kind = SqlToken.Integer;
            if (!AtEnd && Current == '.' && char.IsAsciiDigit(Peek(1)))
            {
                Advance();
                AdvanceWhile(char.IsAsciiDigit);
                kind = SqlToken.Number;
            }

            if (!AtEnd && Current is 'e' or 'E')
            {
                var sign = Peek(1) is '+' or '-' ? 1 : 0;
                if (char.IsAsciiDigit(Peek(1 + sign)))
                {
                    Advance();
                    if (sign == 1)
                    {
                        Advance();
                    }

                    AdvanceWhile(char.IsAsciiDigit);
                    kind = SqlToken.Number;
                }
            }

            return kind;
        }

        /// <summary>A quoted string or identifier; a doubled quote or a backslash escapes the quote.</summary>
        public bool ScanQuoted(char quote)
        {
            Advance();
            while (!AtEnd)
            {
                var c = Current;
                if (c == '\\' && quote != '`' && Offset + 1 < end)
                {
                    Advance();
                    Advance();
                }
                else if (c == quote)
                {
                    Advance();
                    if (AtEnd || Current != quote)
                    {
                        return true;
                    }

                    Advance();
                }
                else
                {
                    Advance();
                }
            }

            return false;
        }

        public SqlToken ScanPunctuation()
        {
            var c = Current;
            var next = Peek(1);
            var (kind, width) = c switch
            {
                '(' => (SqlToken.LParen, 1),
                ')' => (SqlToken.RParen, 1),
                '[' => (SqlToken.LBracket, 1),
                ']' => (SqlToken.RBracket, 1),
                '{' => (SqlToken.LBrace, 1),
                '}' => (SqlToken.RBrace, 1),
                ',' => (SqlToken.Comma, 1),
                '.' => (SqlToken.Dot, 1),
                ';' => (SqlToken.Semicolon, 1),
                ':' => (SqlToken.Colon, 1),
                '*' => (SqlToken.Star, 1),
                '+' => (SqlToken.Plus, 1),
                '-' => next == '>' ? (SqlToken.Arrow, 2) : (SqlToken.Minus, 1),
                '/' => (SqlToken.Slash, 1),
                '%' => (SqlToken.Percent, 1),
                '&' => (SqlToken.Ampersand, 1),
                '|' => (SqlToken.Pipe, 1),
                '^' => (SqlToken.Caret, 1),
                '=' => (SqlToken.Equal, 1),
                '!' => next == '=' ? (SqlToken.NotEqual, 2) : (SqlToken.None, 0),
                '<' => next == '=' ? (SqlToken.LessOrEqual, 2) : next == '>' ? (SqlToken.NotEqual, 2) : (SqlToken.Less, 1),
                '>' => next == '=' ? (SqlToken.GreaterOrEqual, 2) : (SqlToken.Greater, 1),
                _ => (SqlToken.None, 0),
            };
            for (var i = 0; i < width; i++)
            {
                Advance();
            }

            return kind;
        }
    }
}
