using EdgeStream.Abstractions;
using EdgeStream.Compilation;

namespace EdgeStream.Functions.Builtins;

/// <summary>
/// The body of a built-in scalar function: the evaluated arguments in, the result out. A type error or a bad value
/// throws <see cref="EvaluationException"/> (that row fails, is counted, the rule goes on); any other exception is
/// wrapped into one by the caller. Numeric bodies must not allocate.
/// </summary>
/// <param name="args">The arguments, evaluated; the span is reused after the call.</param>
/// <param name="env">The calling rule: its clock, time zone, id and start time.</param>
internal delegate Value ScalarBody(ReadOnlySpan<Value> args, FunctionEnvironment env);

/// <summary>
/// Runs once per call site at rule creation, with the arguments that are constants (literals, folded expressions):
/// refuses a bad constant with <see cref="PreparedCall.Fail"/> (an error at its position in the SQL), or returns a body
/// specialized to them (a compiled regex, a parsed time pattern), or null for the function's general body.
/// </summary>
internal delegate ScalarBody? ScalarPrepare(PreparedCall call);

/// <summary>
/// A built-in scalar function's implementation. Its name, arity and category live in <see cref="BuiltinFunctionCatalog"/>.
/// </summary>
/// <param name="Name">The function's name (not an alias: aliases resolve through the catalog).</param>
/// <param name="ArgKinds">
/// What each argument may be when it is a literal, checked at rule creation: one letter per position, the last one
/// repeating for further arguments. <c>n</c> number, <c>i</c> integer, <c>s</c> string, <c>b</c> boolean, <c>a</c>
/// array, <c>o</c> object, <c>t</c> time (a datetime, an epoch-ms integer or a string), <c>x</c> anything. A null
/// literal always passes here; the body decides what null means.
/// </param>
/// <param name="Body">The general body.</param>
/// <param name="Prepare">The optional per-call-site preparation.</param>
internal sealed record ScalarFunction(string Name, string ArgKinds, ScalarBody Body, ScalarPrepare? Prepare = null)
{
    /// <summary>The letter that governs argument <paramref name="index"/>, or <c>x</c> when none is given.</summary>
    public char KindAt(int index) => ArgKinds.Length == 0 ? 'x' : ArgKinds[Math.Min(index, ArgKinds.Length - 1)];

    /// <summary>Whether a constant <paramref name="value"/> fits letter <paramref name="kind"/>.</summary>
    public static bool Fits(char kind, Value value) => value.IsNull || kind switch
    {
        'n' => value.IsNumber,
        'i' => value.Kind == ValueKind.Integer,
        's' => value.Kind == ValueKind.String,
        'b' => value.Kind == ValueKind.Boolean,
        'a' => value.Kind == ValueKind.Array,
        'o' => value.Kind == ValueKind.Object,
        't' => value.Kind is ValueKind.Datetime or ValueKind.Integer or ValueKind.String,
        _ => true,
    };

    /// <summary>The letter in words, for errors: <c>a number</c>, <c>a string</c>…</summary>
    public static string Describe(char kind) => kind switch
    {
        'n' => "a number",
        'i' => "an integer",
        's' => "a string",
        'b' => "a boolean",
        'a' => "an array",
        'o' => "an object",
        't' => "a time (datetime, epoch milliseconds or a string)",
        _ => "any value",
    };
}

/// <summary>A call site being prepared: which arguments are constants, and a way to refuse one.</summary>
/// <param name="name">The function's name as resolved.</param>
/// <param name="constants">Each argument's value when it is a constant, else null.</param>
/// <param name="texts">Each argument as the SQL wrote it.</param>
/// <param name="spans">Each argument's position in the SQL, then the call's.</param>
/// <param name="environment">The rule.</param>
internal sealed class PreparedCall(string name, Value?[] constants, string[] texts, Diagnostics.SourceSpan[] spans, FunctionEnvironment environment)
{
    /// <summary>The function's name as resolved (an alias gives its target's name).</summary>
    public string Name { get; } = name;

    /// <summary>How many arguments the call has.</summary>
    public int Count => constants.Length;

    /// <summary>The rule the call belongs to.</summary>
    public FunctionEnvironment Environment { get; } = environment;

    /// <summary>Argument <paramref name="index"/>'s value when it is a constant, else null.</summary>
    public Value? Constant(int index) => index < constants.Length ? constants[index] : null;

    /// <summary>Argument <paramref name="index"/>'s constant string, or null when it is not a constant string.</summary>
    public string? ConstantString(int index) => Constant(index) is { Kind: ValueKind.String } v ? v.AsString : null;

    /// <summary>The argument as the SQL wrote it.</summary>
    public string ArgumentText(int index) => texts[index];

    /// <summary>Refuses the call: a rule-creation error at argument <paramref name="index"/> (or the call, for -1).</summary>
    public SqlException Fail(int index, string reason, SqlErrorCode code = SqlErrorCode.InvalidValue)
    {
        var span = index >= 0 && index < constants.Length ? spans[index] : spans[^1];
        return new SqlException(code, $"{Name}: {reason}", span.Line, span.Column, span.Start);
    }
}

/// <summary>
/// What a rule gives its functions: the engine's clock and time zone, the rule's id and start time, its properties.
/// One per rule; the functions read it, the runner sets <see cref="RuleStart"/>.
/// </summary>
internal sealed class FunctionEnvironment(string ruleId, TimeProvider time, TimeZoneInfo timeZone)
{
    /// <summary>For tests and tools: no rule, the system clock, UTC.</summary>
    public static FunctionEnvironment Default { get; } = new(string.Empty, TimeProvider.System, TimeZoneInfo.Utc);

    public string RuleId { get; } = ruleId;

    public TimeProvider Time { get; } = time;

    /// <summary>The zone local-time functions (<c>format_time</c>, <c>hour</c>, <c>cur_date</c>…) use, as eKuiper's configured zone.</summary>
    public TimeZoneInfo TimeZone { get; } = timeZone;

    /// <summary>The store <c>get_keyed_state</c> reads; null for none.</summary>
    public IKeyedStateStore? KeyedState { get; init; }

    /// <summary>When the rule last started (Unix ms); 0 before it starts.</summary>
    public long RuleStart { get; set; }

    /// <summary>The engine's bounds on inputs (match timeouts for <c>LIKE</c> and regular expressions among them).</summary>
    public Runtime.InputLimits Limits { get; init; } = Runtime.InputLimits.Default;

    /// <summary>This rule with another clock (the same id, zone, keyed state, limits and start).</summary>
    public FunctionEnvironment WithClock(TimeProvider clock) => new(RuleId, clock, TimeZone) { KeyedState = KeyedState, Limits = Limits, RuleStart = RuleStart };

    /// <summary>Now, Unix milliseconds, from the engine's clock.</summary>
    public long NowMs => Time.GetUtcNow().ToUnixTimeMilliseconds();
}
