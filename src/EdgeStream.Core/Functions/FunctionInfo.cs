namespace EdgeStream.Functions;

/// <summary>How a function is evaluated.</summary>
internal enum FunctionKind
{
    /// <summary>One value per row from that row's arguments.</summary>
    Scalar,

    /// <summary>One value per group of rows (a window, a GROUP BY group).</summary>
    Aggregate,

    /// <summary>One value per row, with state carried across rows (lag, acc_sum…); accepts <c>OVER (PARTITION BY … WHEN …)</c>.</summary>
    Analytic,

    /// <summary>Several output rows per input row (unnest).</summary>
    SetReturning,
}

/// <summary>The documentation category of a function (eKuiper's function reference pages).</summary>
internal enum FunctionCategory
{
    Math,
    String,
    Conversion,
    Hashing,
    DateTime,
    Json,
    Transform,
    Array,
    Object,
    Aggregate,
    Analytic,
    MultiRow,
    Other,

    /// <summary>Registered by the host.</summary>
    User,
}

/// <summary>Facts about a function's arguments and result that the binder and the compiler use.</summary>
[Flags]
internal enum FunctionFlags
{
    None = 0,

    /// <summary>Accepts <c>*</c> as its first argument: <c>count(*)</c>, <c>collect(*)</c>, <c>meta(*)</c>.</summary>
    Star = 1,

    /// <summary>Its arguments are bare metadata key names, not field references: <c>meta(topic)</c>, <c>mqtt(topic)</c>.</summary>
    MetaKey = 2,

    /// <summary>Its result is not determined by its arguments alone (time, randomness, rule state): never constant-folded.</summary>
    Volatile = 4,

    /// <summary>Only meaningful in a window query: <c>window_start()</c>, <c>window_end()</c>, <c>window_trigger()</c>.</summary>
    Windowed = 8,
}

/// <summary>A registered function's metadata.</summary>
/// <param name="Name">Lower-case name.</param>
/// <param name="Category">Documentation category.</param>
/// <param name="Kind">How it is evaluated.</param>
/// <param name="MinArgs">Fewest arguments.</param>
/// <param name="MaxArgs">Most arguments; -1 for no limit.</param>
/// <param name="Signature">How the documentation writes a call, e.g. <c>round(x [, scale])</c>.</param>
/// <param name="AliasOf">For an alias, the name it stands for.</param>
/// <param name="Flags">Argument and result facts.</param>
internal sealed record FunctionInfo(
    string Name,
    FunctionCategory Category,
    FunctionKind Kind,
    int MinArgs,
    int MaxArgs,
    string Signature,
    string? AliasOf = null,
    FunctionFlags Flags = FunctionFlags.None)
{
    public bool IsVariadic => MaxArgs < 0;

    /// <summary>A user function's implementation (<see cref="IFunction"/> or <see cref="IAggregateFunction"/>); null for built-ins.</summary>
    public object? Implementation { get; init; }

    /// <summary>Whether it is a user function that replaced the built-in of its name.</summary>
    public bool Overrides { get; init; }

    public bool Accepts(int count) => count >= MinArgs && (MaxArgs < 0 || count <= MaxArgs);

    /// <summary>The accepted argument count in words: <c>1</c>, <c>1 to 3</c>, <c>at least 2</c>.</summary>
    public string ArityText => MaxArgs < 0 ? $"at least {MinArgs}" : MinArgs == MaxArgs ? $"{MinArgs}" : $"{MinArgs} to {MaxArgs}";
}
