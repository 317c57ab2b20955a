namespace EdgeStream;

/// <summary>
/// A function rules can call, as <see cref="EdgeStreamEngine.GetFunctions"/> lists it: the metadata the binder checks
/// calls against, and that <c>edgestream functions</c> and the SQL reference print.
/// </summary>
public sealed class FunctionDescription
{
    internal FunctionDescription(string name, string category, string kind, int minArguments, int maxArguments, string signature, string? aliasOf, bool isUserDefined,
        string summary)
    {
        Summary = summary;
        Name = name;
        Category = category;
        Kind = kind;
        MinArguments = minArguments;
        MaxArguments = maxArguments;
        Signature = signature;
        AliasOf = aliasOf;
        IsUserDefined = isUserDefined;
    }

    /// <summary>The name, lower-case.</summary>
    public string Name { get; }

    /// <summary>
    /// The reference's category: <c>math</c>, <c>string</c>, <c>conversion</c>, <c>hashing</c>, <c>datetime</c>,
    /// <c>json</c>, <c>transform</c>, <c>array</c>, <c>object</c>, <c>aggregate</c>, <c>analytic</c>, <c>multirow</c>,
    /// <c>other</c>, or <c>user</c> for a user function.
    /// </summary>
    public string Category { get; }

    /// <summary>How it evaluates: <c>scalar</c>, <c>aggregate</c>, <c>analytic</c> or <c>set-returning</c>.</summary>
    public string Kind { get; }

    /// <summary>Fewest arguments.</summary>
    public int MinArguments { get; }

    /// <summary>Most arguments; -1 for no limit.</summary>
    public int MaxArguments { get; }

    /// <summary>How a call is written, e.g. <c>round(x [, scale])</c>.</summary>
    public string Signature { get; }

    /// <summary>For an alias (<c>ceil</c>), the function it stands for (<c>ceiling</c>); else null.</summary>
    public string? AliasOf { get; }

    /// <summary>What it does, in one sentence (empty for a user function).</summary>
    public string Summary { get; }

    /// <summary>Whether the host registered it (<see cref="EdgeStreamEngine.RegisterFunction(string, IFunction)"/> and friends), built-in overrides included.</summary>
    public bool IsUserDefined { get; }
}
