using System.Globalization;
using System.Text;

namespace EdgeStream.Sql.Ast;

/// <summary>
/// Prints an AST as canonical SQL: upper-case keywords, lower-case function names, names backquoted only when they
/// must be, strings in double quotes, and the fewest parentheses that keep the tree's shape. Parsing the output
/// gives back an equal tree.
/// </summary>
internal static class SqlPrinter
{
    // Precedence levels, lowest first; a child printed where a higher level is needed gets parentheses.
    private const int Or = 1, And = 2, Not = 3, Compare = 4, Additive = 5, Multiplicative = 6, Unary = 7, Postfix = 8;

    public static string Print(SqlNode node)
    {
        var sb = new StringBuilder();
        Write(sb, node);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, SqlNode node)
    {
        switch (node)
        {
            case Expr e: WriteExpr(sb, e, Or); break;
            case SelectStatement s: WriteSelect(sb, s); break;
            case CreateStreamStatement c: WriteCreate(sb, c); break;
            case DropStatement d: sb.Append("DROP ").Append(d.IsTable ? "TABLE " : "STREAM ").Append(SqlNames.Quote(d.Name)); break;
            case DescribeStatement d: sb.Append("DESCRIBE ").Append(d.IsTable ? "TABLE " : "STREAM ").Append(SqlNames.Quote(d.Name)); break;
            case ShowStatement s: sb.Append(s.Tables ? "SHOW TABLES" : "SHOW STREAMS"); break;
            case ExplainStatement x: sb.Append("EXPLAIN "); WriteSelect(sb, x.Select); break;
            case SelectField f: WriteField(sb, f); break;
            case TableRef t: WriteTable(sb, t); break;
            case JoinClause j: WriteJoin(sb, j); break;
            case GroupByClause g: WriteGroupBy(sb, g); break;
            case WindowSpec w: WriteWindow(sb, w); break;
            case OverClause o: WriteOver(sb, o); break;
            case SortItem s: WriteSort(sb, s); break;
            case WhenClause w: sb.Append("WHEN "); WriteExpr(sb, w.Condition, Or); sb.Append(" THEN "); WriteExpr(sb, w.Result, Or); break;
            case ObjectEntry o: sb.Append(SqlNames.QuoteString(o.Key)).Append(": "); WriteExpr(sb, o.Value, Or); break;
            case ColumnDefinition c: sb.Append(SqlNames.Quote(c.Name)).Append(' ').Append(TypeText(c.Type)); break;
            case StreamOption o: sb.Append(SqlNames.Quote(o.Name)).Append('=').Append(SqlNames.QuoteString(o.Value)); break;
            default: throw new ArgumentException($"Cannot print {node.GetType().Name}.", nameof(node));
        }
    }

    private static void WriteSelect(StringBuilder sb, SelectStatement s)
    {
        sb.Append("SELECT ");
        WriteList(sb, s.Fields);
        sb.Append(" FROM ");
        WriteTable(sb, s.From);
        foreach (var join in s.Joins)
        {
            sb.Append(' ');
            WriteJoin(sb, join);
        }

        if (s.Where is not null)
        {
            sb.Append(" WHERE ");
            WriteExpr(sb, s.Where, Or);
        }

        if (s.GroupBy is not null)
        {
            sb.Append(' ');
            WriteGroupBy(sb, s.GroupBy);
        }

        if (s.Having is not null)
        {
            sb.Append(" HAVING ");
            WriteExpr(sb, s.Having, Or);
        }

        if (!s.OrderBy.IsEmpty)
        {
            sb.Append(" ORDER BY ");
            WriteList(sb, s.OrderBy);
        }

        if (s.Limit is { } limit)
        {
            sb.Append(" LIMIT ").Append(limit.ToString(CultureInfo.InvariantCulture));
        }
    }

    private static void WriteList<T>(StringBuilder sb, NodeList<T> items)
        where T : SqlNode
    {
        for (var i = 0; i < items.Count; i++)
        {
            if (i > 0)
            {
                sb.Append(", ");
            }

            Write(sb, items[i]);
        }
    }

    private static void WriteExprList(StringBuilder sb, NodeList<Expr> items)
    {
        for (var i = 0; i < items.Count; i++)
        {
            if (i > 0)
            {
                sb.Append(", ");
            }

            WriteExpr(sb, items[i], Or);
        }
    }

    private static void WriteField(StringBuilder sb, SelectField f)
    {
        WriteExpr(sb, f.Expr, Or);
        if (f.Alias is not null)
        {
            sb.Append(" AS ").Append(SqlNames.Quote(f.Alias));
            if (f.Invisible)
            {
                sb.Append(" INVISIBLE");
            }
        }
    }

    private static void WriteTable(StringBuilder sb, TableRef t)
    {
        sb.Append(SqlNames.Quote(t.Name));
        if (t.Alias is not null)
        {
            sb.Append(" AS ").Append(SqlNames.Quote(t.Alias));
        }
    }

    private static void WriteJoin(StringBuilder sb, JoinClause j)
    {
        sb.Append(j.Kind switch
        {
            JoinKind.Inner => "INNER JOIN ",
            JoinKind.Left => "LEFT JOIN ",
            JoinKind.Right => "RIGHT JOIN ",
            JoinKind.Full => "FULL JOIN ",
            _ => "CROSS JOIN ",
        });
        WriteTable(sb, j.Table);
        if (j.On is not null)
        {
            sb.Append(" ON ");
            WriteExpr(sb, j.On, Or);
        }
    }

    private static void WriteGroupBy(StringBuilder sb, GroupByClause g)
    {
        sb.Append("GROUP BY ");
        var count = g.Keys.Count + (g.Window is null ? 0 : 1);
        var key = 0;
        for (var i = 0; i < count; i++)
        {
            if (i > 0)
            {
                sb.Append(", ");
            }

            if (g.Window is not null && i == g.WindowIndex)
            {
                WriteWindow(sb, g.Window);
            }
            else
            {
                WriteExpr(sb, g.Keys[key++], Or);
            }
        }
    }

    private static void WriteWindow(StringBuilder sb, WindowSpec w)
    {
        sb.Append(w.Kind switch
        {
            WindowKind.Tumbling => "TUMBLINGWINDOW(",
            WindowKind.Hopping => "HOPPINGWINDOW(",
            WindowKind.Sliding => "SLIDINGWINDOW(",
            WindowKind.Session => "SESSIONWINDOW(",
            WindowKind.Count => "COUNTWINDOW(",
            _ => "STATEWINDOW(",
        });
        if (w.Kind == WindowKind.State)
        {
            WriteExpr(sb, w.Begin!, Or);
            if (w.Emit is not null)
            {
                sb.Append(", ");
                WriteExpr(sb, w.Emit, Or);
            }
        }
        else
        {
            if (w.Unit != TimeUnit.None)
            {
                sb.Append(UnitText(w.Unit)).Append(", ");
            }

            sb.Append(w.Length.ToString(CultureInfo.InvariantCulture));
            if (w.Interval is { } interval)
            {
                sb.Append(", ").Append(interval.ToString(CultureInfo.InvariantCulture));
            }
        }

        sb.Append(')');
        if (w.Filter is not null)
        {
            sb.Append(" FILTER (WHERE ");
            WriteExpr(sb, w.Filter, Or);
            sb.Append(')');
        }

        if (w.Over is not null)
        {
            sb.Append(' ');
            WriteOver(sb, w.Over);
        }
    }

    internal static string UnitText(TimeUnit unit) => unit switch
    {
        TimeUnit.Days => "dd",
        TimeUnit.Hours => "hh",
        TimeUnit.Minutes => "mi",
        TimeUnit.Seconds => "ss",
        TimeUnit.Milliseconds => "ms",
        _ => string.Empty,
    };

    private static void WriteOver(StringBuilder sb, OverClause o)
    {
        sb.Append("OVER (");
        if (!o.PartitionBy.IsEmpty)
        {
            sb.Append("PARTITION BY ");
            WriteExprList(sb, o.PartitionBy);
        }

        if (o.When is not null)
        {
            sb.Append(o.PartitionBy.IsEmpty ? "WHEN " : " WHEN ");
            WriteExpr(sb, o.When, Or);
        }

        sb.Append(')');
    }

    private static void WriteSort(StringBuilder sb, SortItem s)
    {
        WriteExpr(sb, s.Expr, Or);
        if (s.Descending)
        {
            sb.Append(" DESC");
        }
    }

    private static void WriteCreate(StringBuilder sb, CreateStreamStatement c)
    {
        sb.Append(c.IsTable ? "CREATE TABLE " : "CREATE STREAM ").Append(SqlNames.Quote(c.Name)).Append(" (");
        WriteList(sb, c.Columns);
        sb.Append(')');
        if (!c.Options.IsEmpty)
        {
            sb.Append(" WITH (");
            WriteList(sb, c.Options);
            sb.Append(')');
        }
    }

    /// <summary>A type as written in DDL: <c>BIGINT</c>, <c>ARRAY(STRING)</c>, <c>STRUCT(a BIGINT, b FLOAT)</c>.</summary>
    internal static string TypeText(SqlType type) => type switch
    {
        ArrayType a => $"ARRAY({TypeText(a.Element)})",
        StructType s => $"STRUCT({string.Join(", ", s.Fields.Select(f => $"{SqlNames.Quote(f.Name)} {TypeText(f.Type)}"))})",
        _ => type.Kind.ToString().ToUpperInvariant(),
    };

    private static int Precedence(Expr e) => e switch
    {
        BinaryExpr b => b.Operator switch
        {
            BinaryOperator.Or => Or,
            BinaryOperator.And => And,
            BinaryOperator.Add or BinaryOperator.Subtract or BinaryOperator.BitOr or BinaryOperator.BitXor => Additive,
            BinaryOperator.Multiply or BinaryOperator.Divide or BinaryOperator.Modulo or BinaryOperator.BitAnd => Multiplicative,
            _ => Compare,
        },
        UnaryExpr { Operator: UnaryOperator.Not } => Not,
        UnaryExpr => Unary,
        BetweenExpr or InExpr or LikeExpr or IsNullExpr => Compare,
        _ => Postfix,
    };

    private static void WriteExpr(StringBuilder sb, Expr e, int minimum)
    {
        // Long operator chains make deep left-leaning trees; fail cleanly rather than overflow the stack.
        System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
        var parens = Precedence(e) < minimum;
        if (parens)
        {
            sb.Append('(');
        }

        WriteBare(sb, e);
        if (parens)
        {
            sb.Append(')');
        }
    }

    private static void WriteBare(StringBuilder sb, Expr e)
    {
        switch (e)
        {
            case IntegerLiteral i:
                sb.Append(i.Value.ToString(CultureInfo.InvariantCulture));
                break;
            case FloatLiteral f:
                sb.Append(FloatText(f.Value));
                break;
            case StringLiteral s:
                sb.Append(SqlNames.QuoteString(s.Value));
                break;
            case BooleanLiteral b:
                sb.Append(b.Value ? "TRUE" : "FALSE");
                break;
            case NullLiteral:
                sb.Append("NULL");
                break;
            case ArrayLiteral a:
                sb.Append('[');
                WriteExprList(sb, a.Items);
                sb.Append(']');
                break;
            case ObjectLiteral o:
                sb.Append('{');
                WriteList(sb, o.Entries);
                sb.Append('}');
                break;
            case FieldRef f:
                sb.Append(SqlNames.Quote(f.Name));
                break;
            case Wildcard w:
                sb.Append(w.Qualifier is null ? "*" : SqlNames.Quote(w.Qualifier) + ".*");
                break;
            case MemberAccess m:
                WriteExpr(sb, m.Target, Postfix);
                sb.Append(m.Arrow ? "->" : ".").Append(SqlNames.Quote(m.Name));
                break;
            case IndexAccess ix:
                WriteExpr(sb, ix.Target, Postfix);
                sb.Append('[');
                WriteExpr(sb, ix.Index, Or);
                sb.Append(']');
                break;
            case SliceAccess sl:
                WriteExpr(sb, sl.Target, Postfix);
                sb.Append('[');
                if (sl.Start is not null)
                {
                    WriteExpr(sb, sl.Start, Or);
                }

                sb.Append(':');
                if (sl.End is not null)
                {
                    WriteExpr(sb, sl.End, Or);
                }

                sb.Append(']');
                break;
            case UnaryExpr { Operator: UnaryOperator.Not } n:
                sb.Append("NOT ");
                WriteExpr(sb, n.Operand, Not);
                break;
            case UnaryExpr u:
                sb.Append('-');
                var operand = Print(u.Operand);

                // A minus directly before a number reads back as a negative literal, and "--" starts a comment.
                var wrap = Precedence(u.Operand) < Unary || operand.Length == 0 || operand[0] == '-' || char.IsAsciiDigit(operand[0]);
                sb.Append(wrap ? "(" + operand + ")" : operand);
                break;
            case BinaryExpr b:
                var level = Precedence(b);
                WriteExpr(sb, b.Left, level);
                sb.Append(' ').Append(OperatorText(b.Operator)).Append(' ');
                WriteExpr(sb, b.Right, level + 1);
                break;
            case BetweenExpr bt:
                WriteExpr(sb, bt.Value, Compare);
                sb.Append(bt.Negated ? " NOT BETWEEN " : " BETWEEN ");
                WriteExpr(sb, bt.Low, Additive);
                sb.Append(" AND ");
                WriteExpr(sb, bt.High, Additive);
                break;
            case InExpr { Array: { } array } ia:
                WriteExpr(sb, ia.Value, Compare);
                sb.Append(ia.Negated ? " NOT IN " : " IN ");
                WriteExpr(sb, array, Unary);
                break;
            case InExpr ie:
                WriteExpr(sb, ie.Value, Compare);
                sb.Append(ie.Negated ? " NOT IN (" : " IN (");
                WriteExprList(sb, ie.Items);
                sb.Append(')');
                break;
            case LikeExpr l:
                WriteExpr(sb, l.Value, Compare);
                sb.Append(l.Negated ? " NOT LIKE " : " LIKE ");
                WriteExpr(sb, l.Pattern, Additive);
                if (l.Escape is not null)
                {
                    sb.Append(" ESCAPE ").Append(SqlNames.QuoteString(l.Escape));
                }

                break;
            case IsNullExpr isn:
                WriteExpr(sb, isn.Value, Compare);
                sb.Append(isn.Negated ? " IS NOT NULL" : " IS NULL");
                break;
            case CaseExpr c:
                sb.Append("CASE");
                if (c.Operand is not null)
                {
                    sb.Append(' ');
                    WriteExpr(sb, c.Operand, Or);
                }

                foreach (var when in c.Whens)
                {
                    sb.Append(' ');
                    Write(sb, when);
                }

                if (c.Else is not null)
                {
                    sb.Append(" ELSE ");
                    WriteExpr(sb, c.Else, Or);
                }

                sb.Append(" END");
                break;
            case CallExpr call:
                // A call named like a window would read back as a window in GROUP BY: quote it.
                sb.Append(IsWindowName(call.Name) ? "`" + call.Name + "`" : SqlNames.Quote(call.Name)).Append('(');
                WriteExprList(sb, call.Arguments);
                sb.Append(')');
                if (call.Over is not null)
                {
                    sb.Append(' ');
                    WriteOver(sb, call.Over);
                }

                if (call.Filter is not null)
                {
                    sb.Append(" FILTER (WHERE ");
                    WriteExpr(sb, call.Filter, Or);
                    sb.Append(')');
                }

                break;
            default:
                throw new ArgumentException($"Cannot print {e.GetType().Name}.", nameof(e));
        }
    }

    private static bool IsWindowName(string name) => name is "tumblingwindow" or "hoppingwindow" or "slidingwindow"
        or "sessionwindow" or "countwindow" or "statewindow";

    internal static string OperatorText(BinaryOperator op) => op switch
    {
        BinaryOperator.Or => "OR",
        BinaryOperator.And => "AND",
        BinaryOperator.Equal => "=",
        BinaryOperator.NotEqual => "!=",
        BinaryOperator.Less => "<",
        BinaryOperator.LessOrEqual => "<=",
        BinaryOperator.Greater => ">",
        BinaryOperator.GreaterOrEqual => ">=",
        BinaryOperator.Add => "+",
        BinaryOperator.Subtract => "-",
        BinaryOperator.BitOr => "|",
        BinaryOperator.BitXor => "^",
        BinaryOperator.Multiply => "*",
        BinaryOperator.Divide => "/",
        BinaryOperator.Modulo => "%",
        _ => "&",
    };

    /// <summary>A float that reads back as the same float, and as a float (never as an integer).</summary>
    internal static string FloatText(double value)
    {
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        return text.AsSpan().IndexOfAny('.', 'E', 'e') >= 0 ? text : text + ".0";
    }
}
