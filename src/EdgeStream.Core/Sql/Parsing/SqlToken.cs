using Superpower.Display;

namespace EdgeStream.Sql.Parsing;

/// <summary>
/// Token kinds. The attributes decide how a token reads in an error message: a keyword as
/// <c>keyword `from`</c> when unexpected and <c>`FROM`</c> when expected.
/// </summary>
internal enum SqlToken
{
    None,

    /// <summary>A bare word that is not a reserved keyword; contextual keywords (JOIN kinds, OVER, types…) are these too.</summary>
    Identifier,

    [Token(Category = "identifier", Description = "identifier")]
    QuotedIdentifier,

    [Token(Description = "string")]
    String,

    [Token(Description = "integer")]
    Integer,

    [Token(Description = "number")]
    Number,

    [Token(Example = "(")] LParen,
    [Token(Example = ")")] RParen,
    [Token(Example = "[")] LBracket,
    [Token(Example = "]")] RBracket,
    [Token(Example = "{")] LBrace,
    [Token(Example = "}")] RBrace,
    [Token(Example = ",")] Comma,
    [Token(Example = ".")] Dot,
    [Token(Example = ";")] Semicolon,
    [Token(Example = ":")] Colon,
    [Token(Example = "*")] Star,
    [Token(Example = "+")] Plus,
    [Token(Example = "-")] Minus,
    [Token(Example = "/")] Slash,
    [Token(Example = "%")] Percent,
    [Token(Example = "&")] Ampersand,
    [Token(Example = "|")] Pipe,
    [Token(Example = "^")] Caret,
    [Token(Example = "=")] Equal,
    [Token(Example = "!=")] NotEqual,
    [Token(Example = "<")] Less,
    [Token(Example = "<=")] LessOrEqual,
    [Token(Example = ">")] Greater,
    [Token(Example = ">=")] GreaterOrEqual,
    [Token(Example = "->")] Arrow,

    [Token(Category = "keyword", Example = "SELECT")] Select,
    [Token(Category = "keyword", Example = "FROM")] From,
    [Token(Category = "keyword", Example = "WHERE")] Where,
    [Token(Category = "keyword", Example = "GROUP")] Group,
    [Token(Category = "keyword", Example = "BY")] By,
    [Token(Category = "keyword", Example = "HAVING")] Having,
    [Token(Category = "keyword", Example = "ORDER")] Order,
    [Token(Category = "keyword", Example = "LIMIT")] Limit,
    [Token(Category = "keyword", Example = "AS")] As,
    [Token(Category = "keyword", Example = "AND")] And,
    [Token(Category = "keyword", Example = "OR")] Or,
    [Token(Category = "keyword", Example = "NOT")] Not,
    [Token(Category = "keyword", Example = "IN")] In,
    [Token(Category = "keyword", Example = "BETWEEN")] Between,
    [Token(Category = "keyword", Example = "LIKE")] Like,
    [Token(Category = "keyword", Example = "IS")] Is,
    [Token(Category = "keyword", Example = "NULL")] Null,
    [Token(Category = "keyword", Example = "TRUE")] True,
    [Token(Category = "keyword", Example = "FALSE")] False,
    [Token(Category = "keyword", Example = "CASE")] Case,
    [Token(Category = "keyword", Example = "WHEN")] When,
    [Token(Category = "keyword", Example = "THEN")] Then,
    [Token(Category = "keyword", Example = "ELSE")] Else,
    [Token(Category = "keyword", Example = "END")] End,
    [Token(Category = "keyword", Example = "JOIN")] Join,
    [Token(Category = "keyword", Example = "INNER")] Inner,
    [Token(Category = "keyword", Example = "LEFT")] Left,
    [Token(Category = "keyword", Example = "RIGHT")] Right,
    [Token(Category = "keyword", Example = "FULL")] Full,
    [Token(Category = "keyword", Example = "CROSS")] Cross,
    [Token(Category = "keyword", Example = "ON")] On,
}
