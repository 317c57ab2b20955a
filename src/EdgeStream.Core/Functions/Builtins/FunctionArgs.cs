using System.Runtime.CompilerServices;
using EdgeStream.Abstractions;
using EdgeStream.Compilation;

namespace EdgeStream.Functions.Builtins;

/// <summary>Argument checks and conversions shared by the built-in functions; errors read as eKuiper's.</summary>
internal static class FunctionArgs
{
    /// <summary>A row-level failure of function <paramref name="name"/>.</summary>
    public static EvaluationException Error(string name, string reason) => new($"run {name} function error: {reason}");

    /// <summary>An integer or float argument as a double; anything else is an error.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Number(string name, Value value, int position = 1) => value.Kind switch
    {
        ValueKind.Integer => value.AsInteger,
        ValueKind.Float => value.AsFloat,
        _ => throw Error(name, $"expect number type for parameter {position} but got {value.Describe()}"),
    };

    /// <summary>An integer argument (a float with no fraction is taken too); anything else is an error.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long Integer(string name, Value value, int position = 1) => value.Kind switch
    {
        ValueKind.Integer => value.AsInteger,
        ValueKind.Float when value.AsFloat == Math.Floor(value.AsFloat) && Math.Abs(value.AsFloat) < 9.2e18 => (long)value.AsFloat,
        _ => throw Error(name, $"expect int type for parameter {position} but got {value.Describe()}"),
    };

    /// <summary>A string argument; anything else is an error.</summary>
    public static string String(string name, Value value, int position = 1) =>
        value.Kind == ValueKind.String ? value.AsString : throw Error(name, $"expect string type for parameter {position} but got {value.Describe()}");

    /// <summary>A boolean argument; anything else is an error.</summary>
    public static bool Boolean(string name, Value value, int position = 1) =>
        value.Kind == ValueKind.Boolean ? value.AsBoolean : throw Error(name, $"expect bool type for parameter {position} but got {value.Describe()}");

    /// <summary>An array argument; anything else is an error.</summary>
    public static Value[] Array(string name, Value value, int position = 1) =>
        value.Kind == ValueKind.Array ? value.AsArray : throw Error(name, $"expect array type for parameter {position} but got {value.Describe()}");

    /// <summary>An object argument; anything else is an error.</summary>
    public static ValueObject Object(string name, Value value, int position = 1) =>
        value.Kind == ValueKind.Object ? value.AsObject : throw Error(name, $"expect object type for parameter {position} but got {value.Describe()}");

    /// <summary>Any value as Go's <c>%v</c> prints it (eKuiper's <c>cast.ToStringAlways</c>): <c>1</c>, <c>2.5</c>, <c>true</c>, <c>map[a:1]</c>.</summary>
    public static string Text(Value value) => Runtime.Templates.GoTemplate.Format(value);

    /// <summary>Whether any argument is null (for functions that give null when one is).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool AnyNull(ReadOnlySpan<Value> args)
    {
        foreach (var arg in args)
        {
            if (arg.IsNull)
            {
                return true;
            }
        }

        return false;
    }
}
