using System.Globalization;
using System.Text;
using EdgeStream.Abstractions;

namespace EdgeStream.Runtime.Templates;

internal sealed partial class GoTemplate
{
    private enum TokenKind
    {
        Field,
        Variable,
        Identifier,
        String,
        Number,
        LeftParen,
        RightParen,
        Pipe,
        Declare,
        Assign,
        Comma,
    }

    /// <summary>A token of a template action.</summary>
    /// <param name="Kind">What it is.</param>
    /// <param name="Text">Its text as written.</param>
    /// <param name="Position">Where it starts in the template.</param>
    /// <param name="Adjacent">No space before it: <c>(x).field</c> chains a field onto a group.</param>
    private sealed record Token(TokenKind Kind, string Text, int Position, bool Adjacent);

    /// <summary>An <c>{{end}}</c> or <c>{{else …}}</c> that closes the list being parsed.</summary>
    private sealed record Terminator(List<Token> Tokens, int Position)
    {
        public string Word => Tokens[0].Text;
    }

    private sealed class Parser(string text)
    {
        private int pos;

        public List<Node> ParseAll()
        {
            var (nodes, terminator) = ParseList();
            return terminator is null ? nodes : throw Error(terminator.Position, $"unexpected {{{{{terminator.Word}}}}}");
        }

        private (List<Node> Nodes, Terminator? Terminator) ParseList()
        {
            var nodes = new List<Node>();
            while (pos < text.Length)
            {
                var open = text.IndexOf("{{", pos, StringComparison.Ordinal);
                if (open < 0)
                {
                    nodes.Add(new TextNode(text[pos..]));
                    pos = text.Length;
                    break;
                }

                var literal = text[pos..open];
                var trimLeft = open + 3 < text.Length && text[open + 2] == '-' && char.IsWhiteSpace(text[open + 3]);
                if (trimLeft)
                {
                    literal = literal.TrimEnd();
                }

                if (literal.Length > 0)
                {
                    nodes.Add(new TextNode(literal));
                }

                var (tokens, trimRight) = LexAction(open, open + (trimLeft ? 3 : 2));
                if (trimRight)
                {
                    while (pos < text.Length && char.IsWhiteSpace(text[pos]))
                    {
                        pos++;
                    }
                }

                if (tokens.Count == 0)
                {
                    continue; // a comment
                }

                var first = tokens[0];
                switch (first.Kind == TokenKind.Identifier ? first.Text : null)
                {
                    case "if":
                        nodes.Add(ParseIf(tokens, open, isWith: false));
                        break;
                    case "with":
                        nodes.Add(ParseIf(tokens, open, isWith: true));
                        break;
                    case "range":
                        nodes.Add(ParseRange(tokens, open));
                        break;
                    case "end" or "else":
                        return (nodes, new Terminator(tokens, open));
                    case "break" or "continue":
                        nodes.Add(new LoopControlNode(first.Text == "break"));
                        break;
                    case "define" or "template" or "block":
                        throw Error(open, $"{{{{{first.Text}}}}} is not supported");
                    default:
                        nodes.Add(new ActionNode(ParsePipeline(tokens, 0, tokens.Count, open)));
                        break;
                }
            }

            return (nodes, null);
        }

        private IfNode ParseIf(List<Token> tokens, int at, bool isWith)
        {
            var word = isWith ? "with" : "if";
            if (tokens.Count < 2)
            {
                throw Error(at, $"missing value for {word}");
            }

            var condition = ParsePipeline(tokens, 1, tokens.Count, at);
            var (then, terminator) = ParseList();
            return terminator switch
            {
                null => throw Error(at, $"unexpected end of template: {{{{{word}}}}} has no {{{{end}}}}"),
                { Word: "end" } => new IfNode(condition, then, null, isWith),
                { Tokens.Count: 1 } => new IfNode(condition, then, ExpectEnd(ParseList(), at, word), isWith),
                { Tokens: [_, { Text: "if" or "with" } second, ..] } =>
                    new IfNode(condition, then, [ParseIf(terminator.Tokens[1..], terminator.Position, second.Text == "with")], isWith),
                _ => throw Error(terminator.Position, "unexpected tokens after {{else}}"),
            };
        }

        private RangeNode ParseRange(List<Token> tokens, int at)
        {
            string? key = null;
            string? value = null;
            var start = 1;
            if (tokens.Count > 3 && tokens[1].Kind == TokenKind.Variable && tokens[2].Kind == TokenKind.Comma && tokens[3].Kind == TokenKind.Variable)
            {
                (key, value, start) = (tokens[1].Text, tokens[3].Text, 4);
            }
            else if (tokens.Count > 2 && tokens[1].Kind == TokenKind.Variable && tokens[2].Kind == TokenKind.Declare)
            {
                (value, start) = (tokens[1].Text, 2);
            }

            if (key is not null)
            {
                if (tokens.Count <= start || tokens[start].Kind != TokenKind.Declare)
                {
                    throw Error(at, "range can only initialize variables with :=");
                }

                start++;
            }
            else if (value is not null)
            {
                start++;
            }

            if (start >= tokens.Count)
            {
                throw Error(at, "missing value for range");
            }

            var source = ParsePipeline(tokens, start, tokens.Count, at);
            var (body, terminator) = ParseList();
            return terminator switch
            {
                null => throw Error(at, "unexpected end of template: {{range}} has no {{end}}"),
                { Word: "end" } => new RangeNode(source, key, value, body, null),
                { Tokens.Count: 1 } => new RangeNode(source, key, value, body, ExpectEnd(ParseList(), at, "range")),
                _ => throw Error(terminator.Position, "unexpected tokens after {{else}} in range"),
            };
        }

        private List<Node> ExpectEnd((List<Node> Nodes, Terminator? Terminator) list, int at, string word) =>
            list.Terminator is { Word: "end", Tokens.Count: 1 }
                ? list.Nodes
                : throw Error(list.Terminator?.Position ?? at, $"{{{{{word}}}}} … {{{{else}}}} needs {{{{end}}}}");

        private Pipeline ParsePipeline(List<Token> tokens, int from, int to, int at)
        {
            string? variable = null;
            var declares = false;
            if (to - from >= 2 && tokens[from].Kind == TokenKind.Variable && !tokens[from].Text.Contains('.', StringComparison.Ordinal)
                && tokens[from + 1].Kind is TokenKind.Declare or TokenKind.Assign)
            {
                (variable, declares) = (tokens[from].Text, tokens[from + 1].Kind == TokenKind.Declare);
                from += 2;
            }

            var commands = new List<Command>();
            var i = from;
            while (true)
            {
                var operands = new List<Operand>();
                while (i < to && tokens[i].Kind != TokenKind.Pipe)
                {
                    operands.Add(ParseOperand(tokens, ref i, to, at));
                }

                if (operands.Count == 0)
                {
                    throw Error(tokens.Count > 0 && i < tokens.Count ? tokens[Math.Min(i, to - 1)].Position : at, "missing value for command");
                }

                commands.Add(new Command(operands));
                if (i >= to)
                {
                    break;
                }

                i++; // the pipe
            }

            return new Pipeline(commands, variable, declares);
        }

        private Operand ParseOperand(List<Token> tokens, ref int i, int to, int at)
        {
            var token = tokens[i++];
            switch (token.Kind)
            {
                case TokenKind.Field:
                    return new FieldOperand(null, null, Fields(token.Text));
                case TokenKind.Variable:
                    {
                        var dot = token.Text.IndexOf('.', StringComparison.Ordinal);
                        return dot < 0 ? new FieldOperand(token.Text, null, []) : new FieldOperand(token.Text[..dot], null, Fields(token.Text[dot..]));
                    }

                case TokenKind.String:
                    return new LiteralOperand(Value.From(token.Text));
                case TokenKind.Number:
                    return new LiteralOperand(ParseNumber(token));
                case TokenKind.Identifier:
                    return token.Text switch
                    {
                        "true" => new LiteralOperand(Value.True),
                        "false" => new LiteralOperand(Value.False),
                        "nil" => new LiteralOperand(Value.Null),
                        _ when Functions.ContainsKey(token.Text) => new FunctionOperand(token.Text),
                        _ => throw Error(token.Position, $"function \"{token.Text}\" not defined"),
                    };
                case TokenKind.LeftParen:
                    {
                        var depth = 1;
                        var start = i;
                        while (i < to && depth > 0)
                        {
                            depth += tokens[i].Kind switch { TokenKind.LeftParen => 1, TokenKind.RightParen => -1, _ => 0 };
                            i++;
                        }

                        if (depth > 0)
                        {
                            throw Error(token.Position, "unclosed left paren");
                        }

                        var inner = ParsePipeline(tokens, start, i - 1, token.Position);
                        if (i < to && tokens[i] is { Kind: TokenKind.Field, Adjacent: true } chained)
                        {
                            i++;
                            return new FieldOperand(null, inner, Fields(chained.Text));
                        }

                        return new FieldOperand(null, inner, []);
                    }

                default:
                    throw Error(token.Position, $"unexpected \"{token.Text}\" in command");
            }
        }

        private static string[] Fields(string chain) => chain == "." ? [] : chain[1..].Split('.');

        private Value ParseNumber(Token token)
        {
            if (long.TryParse(token.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
            {
                return Value.From(integer);
            }

            return double.TryParse(token.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
                ? Value.From(number)
                : throw Error(token.Position, $"bad number syntax: {token.Text}");
        }

        /// <summary>Reads the tokens of the action opened at <paramref name="open"/> and moves past its <c>}}</c>.</summary>
        private (List<Token> Tokens, bool TrimRight) LexAction(int open, int start)
        {
            var tokens = new List<Token>();
            var i = start;
            var spaced = true;
            while (true)
            {
                if (i >= text.Length)
                {
                    throw Error(open, "unclosed action");
                }

                var c = text[i];
                if (c == '}' && At(i, "}}"))
                {
                    pos = i + 2;
                    return (tokens, false);
                }

                if (char.IsWhiteSpace(c))
                {
                    var j = i;
                    while (j < text.Length && char.IsWhiteSpace(text[j]))
                    {
                        j++;
                    }

                    if (At(j, "-}}"))
                    {
                        pos = j + 3;
                        return (tokens, true);
                    }

                    i = j;
                    spaced = true;
                    continue;
                }

                if (c == '/' && At(i, "/*") && tokens.Count == 0)
                {
                    var close = text.IndexOf("*/", i + 2, StringComparison.Ordinal);
                    if (close < 0)
                    {
                        throw Error(open, "unclosed comment");
                    }

                    i = close + 2;
                    continue;
                }

                var begin = i;
                Token token;
                switch (c)
                {
                    case '(':
                        token = new(TokenKind.LeftParen, "(", i++, !spaced);
                        break;
                    case ')':
                        token = new(TokenKind.RightParen, ")", i++, !spaced);
                        break;
                    case '|':
                        token = new(TokenKind.Pipe, "|", i++, !spaced);
                        break;
                    case ',':
                        token = new(TokenKind.Comma, ",", i++, !spaced);
                        break;
                    case ':' when At(i, ":="):
                        token = new(TokenKind.Declare, ":=", i, !spaced);
                        i += 2;
                        break;
                    case '=':
                        token = new(TokenKind.Assign, "=", i++, !spaced);
                        break;
                    case '"':
                        token = new(TokenKind.String, QuotedString(ref i), begin, !spaced);
                        break;
                    case '`':
                        {
                            var close = text.IndexOf('`', i + 1);
                            if (close < 0)
                            {
                                throw Error(i, "unterminated raw quoted string");
                            }

                            token = new(TokenKind.String, text[(i + 1)..close], begin, !spaced);
                            i = close + 1;
                            break;
                        }

                    case '.' or '$':
                        i++;
                        while (i < text.Length && (IsWordChar(text[i]) || (text[i] == '.' && i + 1 < text.Length && IsWordChar(text[i + 1]))))
                        {
                            i++;
                        }

                        if (c == '.' && i - begin > 1 && char.IsDigit(text[begin + 1]))
                        {
                            goto default; // .5 is a number
                        }

                        token = new(c == '.' ? TokenKind.Field : TokenKind.Variable, text[begin..i], begin, !spaced);
                        break;
                    default:
                        if (char.IsDigit(c) || ((c is '-' or '+' or '.') && i + 1 < text.Length && (char.IsDigit(text[i + 1]) || text[i + 1] == '.')))
                        {
                            i = begin + 1;
                            while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] == '.' || ((text[i] is '-' or '+') && text[i - 1] is 'e' or 'E')))
                            {
                                i++;
                            }

                            token = new(TokenKind.Number, text[begin..i], begin, !spaced);
                            break;
                        }

                        if (IsWordChar(c))
                        {
                            while (i < text.Length && IsWordChar(text[i]))
                            {
                                i++;
                            }

                            token = new(TokenKind.Identifier, text[begin..i], begin, !spaced);
                            break;
                        }

                        throw Error(i, $"unexpected \"{c}\" in action");
                }

                tokens.Add(token);
                spaced = false;
            }
        }

        private string QuotedString(ref int i)
        {
            var start = i;
            var value = new StringBuilder();
            i++;
            while (true)
            {
                if (i >= text.Length || text[i] == '\n')
                {
                    throw Error(start, "unterminated quoted string");
                }

                var c = text[i++];
                if (c == '"')
                {
                    return value.ToString();
                }

                if (c != '\\')
                {
                    value.Append(c);
                    continue;
                }

                if (i >= text.Length)
                {
                    throw Error(start, "unterminated quoted string");
                }

                var escaped = text[i++];
                value.Append(escaped switch
                {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    '"' => '"',
                    '\\' => '\\',
                    _ => throw Error(i - 2, $"unknown escape sequence \\{escaped}"),
                });
            }
        }

        private static bool IsWordChar(char c) => char.IsLetterOrDigit(c) || c == '_';

        private bool At(int index, string what) => string.CompareOrdinal(text, index, what, 0, what.Length) == 0;

        private TemplateException Error(int index, string message)
        {
            var line = 1;
            var column = 1;
            for (var k = 0; k < index && k < text.Length; k++)
            {
                (line, column) = text[k] == '\n' ? (line + 1, 1) : (line, column + 1);
            }

            return new TemplateException(string.Create(CultureInfo.InvariantCulture, $"template: line {line}, column {column}: {message}"));
        }
    }
}
