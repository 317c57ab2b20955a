using System.Collections.Frozen;

namespace EdgeStream.Functions.Builtins;

/// <summary>
/// Every built-in scalar function with an implementation, by name. Each category keeps its own table
/// (<see cref="MathFunctions"/>, <see cref="StringFunctions"/>…); aliases (<c>ceil</c>, <c>pow</c>…) resolve through
/// <see cref="BuiltinFunctionCatalog"/> to the function they stand for.
/// </summary>
internal static class BuiltinScalars
{
    private static readonly FrozenDictionary<string, ScalarFunction> ByName = Build();

    /// <summary>All implementations, one per non-alias name.</summary>
    public static IEnumerable<ScalarFunction> All => ByName.Values;

    /// <summary>The implementation of <paramref name="name"/> (an alias resolves to its target).</summary>
    public static bool TryGet(string name, out ScalarFunction function)
    {
        if (ByName.TryGetValue(name, out function!))
        {
            return true;
        }

        return FunctionRegistry.Builtins.TryGet(name, out var info) && info.AliasOf is { } target && ByName.TryGetValue(target, out function!);
    }

    private static FrozenDictionary<string, ScalarFunction> Build()
    {
        var map = new Dictionary<string, ScalarFunction>(StringComparer.OrdinalIgnoreCase);
        ScalarFunction[][] tables =
        [
            MathFunctions.All, StringFunctions.All, ConversionFunctions.All, HashFunctions.All, TransformFunctions.All,
            DateTimeFunctions.All, JsonFunctions.All, ArrayFunctions.All, ObjectFunctions.All, OtherFunctions.All,
        ];
        foreach (var function in tables.SelectMany(t => t))
        {
            if (!map.TryAdd(function.Name, function))
            {
                throw new InvalidOperationException($"built-in `{function.Name}` is implemented twice");
            }
        }

        return map.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }
}
