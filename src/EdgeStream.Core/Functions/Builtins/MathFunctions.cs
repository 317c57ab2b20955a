using EdgeStream.Abstractions;
using static EdgeStream.Functions.Builtins.FunctionArgs;

namespace EdgeStream.Functions.Builtins;

/// <summary>The math functions. Null in gives null out; a non-number is an error.</summary>
internal static class MathFunctions
{
    /// <summary>This category's implementations.</summary>
    public static readonly ScalarFunction[] All =
    [
        new("abs", "n", static (args, _) => args[0].Kind switch
        {
            ValueKind.Null => Value.Null,
            ValueKind.Integer => Value.From(Math.Abs(args[0].AsInteger)),
            _ => Value.From(Math.Abs(Number("abs", args[0]))),
        }),
        new("round", "ni", static (args, _) => Round(args)),
    ];

    /// <summary><c>round(x [, scale])</c>: a float, half away from zero, to <c>scale</c> decimals (0 by default).</summary>
    private static Value Round(ReadOnlySpan<Value> args)
    {
        if (AnyNull(args))
        {
            return Value.Null;
        }

        var x = Number("round", args[0]);
        var scale = args.Length > 1 ? Integer("round", args[1], 2) : 0;
        if (scale == 0)
        {
            return Value.From(Math.Round(x, MidpointRounding.AwayFromZero));
        }

        var factor = Math.Pow(10, scale);
        return Value.From(Math.Round(x * factor, MidpointRounding.AwayFromZero) / factor);
    }
}
