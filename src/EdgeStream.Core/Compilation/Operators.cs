using EdgeStream.Abstractions;
using EdgeStream.Sql.Ast;

namespace EdgeStream.Compilation;

/// <summary>
/// eKuiper's operator semantics over <see cref="Value"/>: integer arithmetic stays integer (division truncates),
/// mixing in a float gives a float, arithmetic with null gives null, a comparison with null is false, and a type
/// mismatch is a runtime error worded like eKuiper's (<c>invalid operation string(a) * int64(5)</c>).
/// </summary>
internal static class Operators
{
    private static EvaluationException Invalid(Value left, string op, Value right) =>
        new($"invalid operation {left.Describe()} {op} {right.Describe()}");

    public static Value Arithmetic(BinaryOperator op, Value left, Value right)
    {
        if (left.IsNull || right.IsNull)
        {
            return Value.Null;
        }

        if (left.Kind == ValueKind.Integer && right.Kind == ValueKind.Integer)
        {
            long a = left.AsInteger, b = right.AsInteger;
            return op switch
            {
                BinaryOperator.Add => Value.From(unchecked(a + b)),
                BinaryOperator.Subtract => Value.From(unchecked(a - b)),
                BinaryOperator.Multiply => Value.From(unchecked(a * b)),
                BinaryOperator.Divide => b == 0 ? throw DividedByZero() : Value.From(b == -1 ? unchecked(-a) : a / b),
                BinaryOperator.Modulo => b == 0 ? throw DividedByZero() : Value.From(b == -1 ? 0 : a % b),
                BinaryOperator.BitAnd => Value.From(a & b),
                BinaryOperator.BitOr => Value.From(a | b),
                _ => Value.From(a ^ b),
            };
        }

        if (left.Kind == ValueKind.Boolean && right.Kind == ValueKind.Boolean && op is BinaryOperator.BitAnd or BinaryOperator.BitOr or BinaryOperator.BitXor)
        {
            // eKuiper applies & | ^ to booleans as logical and, or, xor.
            bool a = left.AsBoolean, b = right.AsBoolean;
            return Value.From(op switch { BinaryOperator.BitAnd => a & b, BinaryOperator.BitOr => a | b, _ => a ^ b });
        }

        if (left.IsNumber && right.IsNumber && op is not (BinaryOperator.BitAnd or BinaryOperator.BitOr or BinaryOperator.BitXor))
        {
            double a = left.AsDouble, b = right.AsDouble;
            return op switch
            {
                BinaryOperator.Add => Value.From(a + b),
                BinaryOperator.Subtract => Value.From(a - b),
                BinaryOperator.Multiply => Value.From(a * b),
                BinaryOperator.Divide => b == 0 ? throw DividedByZero() : Value.From(a / b),
                _ => b == 0 ? throw DividedByZero() : Value.From(a % b),
            };
        }

        throw Invalid(left, SqlPrinter.OperatorText(op), right);
    }

    private static EvaluationException DividedByZero() => new("divided by zero");

    public static Value Negate(Value operand) => operand.Kind switch
    {
        ValueKind.Null => Value.Null,
        ValueKind.Integer => Value.From(unchecked(-operand.AsInteger)),
        ValueKind.Float => Value.From(-operand.AsFloat),
        _ => throw new EvaluationException($"invalid operation -{operand.Describe()}"),
    };

    /// <summary>Three-valued NOT: null stays null (and is not true, so WHERE drops the row).</summary>
    public static Value Not(Value operand) => operand.Kind switch
    {
        ValueKind.Null => Value.Null,
        ValueKind.Boolean => Value.From(!operand.AsBoolean),
        _ => throw new EvaluationException($"invalid operation NOT {operand.Describe()}"),
    };

    public static bool IsTrue(Value v) => v.Kind == ValueKind.Boolean && v.AsBoolean;

    /// <summary>Checks a logical operand: a boolean or null.</summary>
    public static Value Logical(Value v, string op, Value other)
    {
        if (v.Kind is ValueKind.Boolean or ValueKind.Null)
        {
            return v;
        }

        throw Invalid(v, op, other);
    }

    /// <summary>A comparison; false when either side is null.</summary>
    public static bool Compare(BinaryOperator op, Value left, Value right)
    {
        if (left.IsNull || right.IsNull)
        {
            return false;
        }

        int order;
        if (left.Kind == ValueKind.Integer && right.Kind == ValueKind.Integer)
        {
            order = left.AsInteger.CompareTo(right.AsInteger);
        }
        else if (left.IsNumber && right.IsNumber)
        {
            order = left.AsDouble.CompareTo(right.AsDouble);
        }
        else if (left.Kind == ValueKind.String && right.Kind == ValueKind.String)
        {
            order = string.CompareOrdinal(left.AsString, right.AsString);
        }
        else if (left.Kind == ValueKind.Datetime && right.Kind == ValueKind.Datetime)
        {
            order = left.AsDatetimeMs.CompareTo(right.AsDatetimeMs);
        }
        else if (left.Kind == ValueKind.Datetime && right.IsNumber)
        {
            order = ((double)left.AsDatetimeMs).CompareTo(right.AsDouble);
        }
        else if (left.IsNumber && right.Kind == ValueKind.Datetime)
        {
            order = left.AsDouble.CompareTo(right.AsDatetimeMs);
        }
        else if (left.Kind == right.Kind && op is BinaryOperator.Equal or BinaryOperator.NotEqual)
        {
            var equal = left.Equals(right);
            return op == BinaryOperator.Equal ? equal : !equal;
        }
        else
        {
            throw Invalid(left, SqlPrinter.OperatorText(op), right);
        }

        return op switch
        {
            BinaryOperator.Equal => order == 0,
            BinaryOperator.NotEqual => order != 0,
            BinaryOperator.Less => order < 0,
            BinaryOperator.LessOrEqual => order <= 0,
            BinaryOperator.Greater => order > 0,
            _ => order >= 0,
        };
    }

    /// <summary><c>value BETWEEN low AND high</c>, inclusive; false when any operand is null.</summary>
    public static bool Between(Value value, Value low, Value high)
    {
        if (value.IsNull || low.IsNull || high.IsNull)
        {
            return false;
        }

        try
        {
            return Compare(BinaryOperator.GreaterOrEqual, value, low) && Compare(BinaryOperator.LessOrEqual, value, high);
        }
        catch (EvaluationException e)
        {
            throw new EvaluationException($"between operator cannot compare: {e.Message}");
        }
    }

    /// <summary>Whether <paramref name="value"/> is an element of <paramref name="array"/> (null or a non-array: none).</summary>
    public static bool InArray(Value value, Value array)
    {
        if (value.IsNull || array.Kind != ValueKind.Array)
        {
            return false;
        }

        foreach (var item in array.AsArray)
        {
            if (Compare(BinaryOperator.Equal, value, item))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>An array element; a negative index counts from the end.</summary>
    public static Value Index(Value target, Value index)
    {
        if (target.IsNull || index.IsNull)
        {
            return Value.Null;
        }

        if (target.Kind != ValueKind.Array)
        {
            throw new EvaluationException($"invalid operation {target.Describe()}[{index}]: not an array");
        }

        if (index.Kind != ValueKind.Integer)
        {
            throw new EvaluationException($"index {index.Describe()} is not int");
        }

        var items = target.AsArray;
        var i = index.AsInteger < 0 ? items.Length + index.AsInteger : index.AsInteger;
        if (i < 0 || i >= items.Length)
        {
            throw new EvaluationException($"out of index: {index.AsInteger} of {items.Length}");
        }

        return items[i];
    }

    /// <summary><c>target[start:end]</c>, end exclusive; either bound may be absent (null) or negative (from the end).</summary>
    public static Value Slice(Value target, Value? start, Value? end)
    {
        if (target.IsNull)
        {
            return Value.Null;
        }

        if (target.Kind != ValueKind.Array)
        {
            throw new EvaluationException($"invalid operation {target.Describe()}[:]: not an array");
        }

        // As eKuiper: bounds are never clamped; the start must be an element, the end at most the length.
        var items = target.AsArray;
        var from = Bound(start, 0, items.Length, items.Length - 1);
        var to = Bound(end, items.Length, items.Length, items.Length);
        if (from > to)
        {
            throw new EvaluationException($"start cannot be greater than end: [{from}:{to}]");
        }

        return Value.From(items.AsSpan((int)from, (int)(to - from)).ToArray());
    }

    private static long Bound(Value? bound, long absent, long length, long max)
    {
        if (bound is not { } b || b.IsNull)
        {
            return absent;
        }

        if (b.Kind != ValueKind.Integer)
        {
            throw new EvaluationException($"slice bound {b.Describe()} is not int");
        }

        var i = b.AsInteger < 0 ? length + b.AsInteger : b.AsInteger;
        if (i < 0 || i > max)
        {
            throw new EvaluationException($"out of index: {b.AsInteger} of {length}");
        }

        return i;
    }

    /// <summary><c>target.name</c> / <c>target->name</c>: a field of an object; null when absent.</summary>
    public static Value Member(Value target, string name)
    {
        return target.Kind switch
        {
            ValueKind.Null => Value.Null,
            ValueKind.Object => target.AsObject[name],
            _ => throw new EvaluationException($"invalid operation {target.Describe()}->{name}: not an object"),
        };
    }
}
