using EdgeStream.Abstractions;
using static EdgeStream.Functions.Builtins.FunctionArgs;

namespace EdgeStream.Functions.Builtins;

/// <summary>The array functions.</summary>
internal static class ArrayFunctions
{
    /// <summary>This category's implementations.</summary>
    public static readonly ScalarFunction[] All =
    [
    ];
}
