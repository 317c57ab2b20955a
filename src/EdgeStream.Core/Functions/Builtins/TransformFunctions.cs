using EdgeStream.Abstractions;
using static EdgeStream.Functions.Builtins.FunctionArgs;

namespace EdgeStream.Functions.Builtins;

/// <summary>The transform (encode, decode, compress, decompress, trunc) functions.</summary>
internal static class TransformFunctions
{
    /// <summary>This category's implementations.</summary>
    public static readonly ScalarFunction[] All =
    [
    ];
}
