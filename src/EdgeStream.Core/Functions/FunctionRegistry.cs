using System.Collections.Frozen;

namespace EdgeStream.Functions;

/// <summary>
/// The functions a statement may call, looked up by name (case-insensitive). Holds every eKuiper built-in
/// (<see cref="BuiltinFunctionCatalog"/>); user functions join it in the runtime.
/// </summary>
internal sealed class FunctionRegistry
{
    private readonly FrozenDictionary<string, FunctionInfo> functions;

    public FunctionRegistry(IEnumerable<FunctionInfo> functions)
    {
        var map = new Dictionary<string, FunctionInfo>(StringComparer.OrdinalIgnoreCase);
        foreach (var function in functions)
        {
            if (!map.TryAdd(function.Name, function))
            {
                throw new ArgumentException($"Function `{function.Name}` is registered twice.", nameof(functions));
            }
        }

        this.functions = map.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The built-in functions.</summary>
    public static FunctionRegistry Builtins { get; } = new(BuiltinFunctionCatalog.All);

    /// <summary>This registry plus one user function, which may replace a built-in of its name when <paramref name="overrideBuiltin"/>.</summary>
    /// <exception cref="ArgumentException">The name is not an identifier, or a function of that name exists (a user function, or a built-in without the flag).</exception>
    public FunctionRegistry With(FunctionInfo function, bool overrideBuiltin = false)
    {
        if (!Sql.SqlNames.IsPlainIdentifier(function.Name))
        {
            throw new ArgumentException($"`{function.Name}` is not a valid function name (letters, digits and `_`, not starting with a digit)", nameof(function));
        }

        if (functions.TryGetValue(function.Name, out var existing))
        {
            if (existing.Implementation is not null)
            {
                throw new ArgumentException($"a user function named `{function.Name}` is already registered", nameof(function));
            }

            if (!overrideBuiltin)
            {
                throw new ArgumentException($"`{function.Name}` is a built-in function; register with the override flag to replace it", nameof(function));
            }

            // The replacement keeps the built-in's category and signature for listings, and `*` as an argument
            // (count(*)); its arguments are plain expressions, and whether it is volatile is its own business.
            function = function with { Category = existing.Category, Signature = existing.Signature, Flags = existing.Flags & FunctionFlags.Star, AliasOf = null, Overrides = true };
        }

        return new FunctionRegistry(functions.Values.Where(f => !f.Name.Equals(function.Name, StringComparison.OrdinalIgnoreCase)).Append(function));
    }

    public IEnumerable<FunctionInfo> All => functions.Values.OrderBy(f => f.Name, StringComparer.Ordinal);

    public int Count => functions.Count;

    public bool TryGet(string name, out FunctionInfo function) => functions.TryGetValue(name, out function!);

    /// <summary>The registered name closest to <paramref name="name"/>, for "did you mean".</summary>
    public string? Closest(string name) => Sql.SqlNames.Closest(name, functions.Keys);
}
