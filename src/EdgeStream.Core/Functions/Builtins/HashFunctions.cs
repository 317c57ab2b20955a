using EdgeStream.Abstractions;
using static EdgeStream.Functions.Builtins.FunctionArgs;

namespace EdgeStream.Functions.Builtins;

/// <summary>The hashing functions.</summary>
internal static class HashFunctions
{
    /// <summary>This category's implementations.</summary>
    public static readonly ScalarFunction[] All =
    [
    ];
}
