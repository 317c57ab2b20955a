using EdgeStream.Sql.Ast;
using Superpower;
using Superpower.Model;

namespace EdgeStream.Sql.Parsing;

/// <summary>
/// Text to AST. Every failure is a <see cref="SqlException"/> with <see cref="SqlErrorCode.Syntax"/> (or, for a
/// few structural rules checked while parsing, another code), a line, a column and what was expected.
/// </summary>
internal static class SqlParser
{
    /// <summary>Parses one statement; a trailing <c>;</c> is allowed.</summary>
    public static Statement ParseStatement(string sql) => ParseWhole(sql, SqlGrammar.Statement);

    /// <summary>Parses one SELECT statement.</summary>
    public static SelectStatement ParseSelect(string sql) => ParseWhole(sql, SqlGrammar.Select);

    /// <summary>Parses one <c>CREATE STREAM</c> or <c>CREATE TABLE</c>.</summary>
    public static CreateStreamStatement ParseCreate(string sql)
    {
        var statement = ParseStatement(sql);
        return statement as CreateStreamStatement ?? throw new SqlException(
            SqlErrorCode.Syntax, "expected a CREATE STREAM or CREATE TABLE statement", statement.Span.Line, statement.Span.Column, statement.Span.Start, ["`CREATE`"]);
    }

    /// <summary>Parses a lone expression (tests and tools).</summary>
    public static Expr ParseExpression(string text) => ParseWhole(text, SqlGrammar.Expression);

    private static T ParseWhole<T>(string sql, TokenListParser<SqlToken, T> parser)
    {
        ArgumentNullException.ThrowIfNull(sql);
        var tokens = Tokenize(sql);
        TokenListParserResult<SqlToken, T> result;
        try
        {
            result = parser(tokens);
        }
        catch (InsufficientExecutionStackException)
        {
            throw TooDeep();
        }

        if (!result.HasValue)
        {
            throw SyntaxError(sql, result);
        }

        var rest = result.Remainder;
        var next = rest.ConsumeToken();
        if (next.HasValue && next.Value.Kind == SqlToken.Semicolon)
        {
            rest = next.Remainder;
        }

        if (!rest.IsAtEnd)
        {
            var expected = result.Value is SelectStatement select
                ? SqlGrammar.ExpectAfter(select)
                : result.Value is ExplainStatement explain ? SqlGrammar.ExpectAfter(explain.Select) : ["end of input"];
            throw SyntaxError(sql, TokenListParserResult.Empty<SqlToken, T>(rest, expected));
        }

        return result.Value;
    }

    /// <summary>The error for input nested beyond what the stack allows (the nesting limit normally comes first).</summary>
    internal static SqlException TooDeep() =>
        new(SqlErrorCode.Syntax, "the statement nests too deeply", 1, 1, 0);

    internal static TokenList<SqlToken> Tokenize(string sql)
    {
        var tokens = SqlTokenizer.Instance.TryTokenize(sql);
        if (tokens.HasValue)
        {
            return tokens.Value;
        }

        var position = tokens.ErrorPosition.HasValue ? tokens.ErrorPosition : EndOf(sql);
        throw new SqlException(SqlErrorCode.Syntax, tokens.FormatErrorMessageFragment(), position.Line, position.Column, position.Absolute, tokens.Expectations);
    }

    private static SqlException SyntaxError<T>(string sql, TokenListParserResult<SqlToken, T> result)
    {
        var position = result.Remainder.IsAtEnd && !result.SubTokenErrorPosition.HasValue ? EndOf(sql) : result.ErrorPosition;
        return new SqlException(SqlErrorCode.Syntax, result.FormatErrorMessageFragment(), position.Line, position.Column, position.Absolute, result.Expectations);
    }

    /// <summary>The position just past the last character, where "unexpected end of input" is reported.</summary>
    private static Position EndOf(string sql)
    {
        var line = 1;
        var column = 1;
        foreach (var c in sql)
        {
            if (c == '\n')
            {
                line++;
                column = 1;
            }
            else
            {
                column++;
            }
        }

        return new Position(sql.Length, line, column);
    }
}
