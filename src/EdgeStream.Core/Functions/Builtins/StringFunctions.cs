using EdgeStream.Abstractions;
using static EdgeStream.Functions.Builtins.FunctionArgs;

namespace EdgeStream.Functions.Builtins;

/// <summary>The string functions.</summary>
internal static class StringFunctions
{
    /// <summary>This category's implementations.</summary>
    public static readonly ScalarFunction[] All =
    [
        // As eKuiper: null gives null; any other value is turned into its text first (Go's %v).
        new("upper", "x", static (args, _) => args[0].IsNull ? Value.Null : Value.From(Text(args[0]).ToUpperInvariant())),
        new("lower", "x", static (args, _) => args[0].IsNull ? Value.Null : Value.From(Text(args[0]).ToLowerInvariant())),
    ];
}
