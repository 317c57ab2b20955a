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

    /// <summary>This registry plus one user function.</summary>
    /// <exception cref="ArgumentException">The name is not an identifier, or a function of that name exists.</exception>
    public FunctionRegistry With(FunctionInfo function)
    {
        if (!Sql.SqlNames.IsPlainIdentifier(function.Name))
        {
            throw new ArgumentException($"`{function.Name}` is not a valid function name (letters, digits and `_`, not starting with a digit)", nameof(function));
        }

        if (functions.ContainsKey(function.Name))
        {
            throw new ArgumentException($"a function named `{function.Name}` already exists", nameof(function));
        }

        return new FunctionRegistry(functions.Values.Append(function));
    }

    public IEnumerable<FunctionInfo> All => functions.Values.OrderBy(f => f.Name, StringComparer.Ordinal);

    public int Count => functions.Count;

    public bool TryGet(string name, out FunctionInfo function) => functions.TryGetValue(name, out function!);

    /// <summary>The registered name closest to <paramref name="name"/>, for "did you mean".</summary>
    public string? Closest(string name) => Sql.SqlNames.Closest(name, functions.Keys);
}
