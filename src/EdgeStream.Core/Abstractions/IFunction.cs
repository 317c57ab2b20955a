namespace EdgeStream;

/// <summary>
/// A scalar function that rules can call by the name it is registered under
/// (<see cref="EdgeStreamEngine.RegisterFunction(string, IFunction)"/>, or <c>AddFunction</c> on the DI builder):
/// one result per row from that row's arguments.
/// </summary>
/// <remarks>
/// <para>Threading: one instance serves every rule of the engine, and rules run in parallel, so
/// <see cref="Invoke"/> may run concurrently on several threads. Keep it free of mutable state or synchronize.</para>
/// <para>Faults: an exception from <see cref="Invoke"/> fails that row only: it is counted in the rule's status,
/// logged, sent as an <c>{"error": …}</c> row when the rule's <c>sendError</c> is on, and the rule goes on.</para>
/// </remarks>
public interface IFunction
{
    /// <summary>Fewest arguments a call takes; checked when a rule is created.</summary>
    int MinArguments { get; }

    /// <summary>Most arguments a call takes, or -1 for no limit; checked when a rule is created.</summary>
    int MaxArguments { get; }

    /// <summary>
    /// Whether the result depends only on the arguments (no clock, randomness or outside state). A call of a
    /// deterministic function whose arguments are all constants is computed once, when the rule is created.
    /// </summary>
    bool IsDeterministic => false;

    /// <summary>
    /// Checks a call's arguments when a rule is created (after the argument count): throw
    /// <see cref="FunctionArgumentException"/> to refuse one, and the rule's creation fails with an error at that
    /// argument's position in the SQL. Constant arguments (literals) come with their values.
    /// </summary>
    /// <param name="arguments">The call's arguments, in order.</param>
    void Validate(IReadOnlyList<FunctionArgument> arguments)
    {
    }

    /// <summary>Computes the result for one row.</summary>
    /// <param name="arguments">The evaluated arguments. The span is reused after the call returns: copy what you keep.</param>
    /// <param name="context">The calling rule.</param>
    /// <returns>The result; <see cref="SqlValue.Null"/> for SQL null.</returns>
    SqlValue Invoke(ReadOnlySpan<SqlValue> arguments, FunctionContext context);
}

/// <summary>
/// An aggregate function: one result per group of rows (a window, a <c>GROUP BY</c> group), computed incrementally
/// by an accumulator. Rules call it like the built-in aggregates (<c>sum</c>, <c>avg</c>…), with <c>FILTER (WHERE …)</c>.
/// </summary>
/// <remarks>
/// Rules call it in window queries (a whole window, or each GROUP BY group of it). Each row's arguments reach
/// <see cref="IAggregateAccumulator.Add"/>; rows whose first argument is null are skipped, as the built-in aggregates
/// skip them. An
/// exception fails that window's emission (counted, an error row with <c>sendError</c>), never the rule.
/// Threading: <see cref="CreateAccumulator"/> may be called concurrently; each accumulator is used by one thread at a time.
/// </remarks>
public interface IAggregateFunction
{
    /// <summary>Fewest arguments a call takes.</summary>
    int MinArguments { get; }

    /// <summary>Most arguments a call takes, or -1 for no limit.</summary>
    int MaxArguments { get; }

    /// <summary>Starts an empty group.</summary>
    /// <param name="context">The calling rule.</param>
    /// <returns>A new accumulator.</returns>
    IAggregateAccumulator CreateAccumulator(FunctionContext context);
}

/// <summary>The running state of one group of an <see cref="IAggregateFunction"/>.</summary>
public interface IAggregateAccumulator
{
    /// <summary>Adds one row's arguments to the group.</summary>
    /// <param name="arguments">The row's evaluated arguments; reused after the call returns.</param>
    void Add(ReadOnlySpan<SqlValue> arguments);

    /// <summary>The group's result so far.</summary>
    /// <returns>The result; <see cref="SqlValue.Null"/> for SQL null.</returns>
    SqlValue GetResult();
}

/// <summary>What a function learns about its caller.</summary>
public sealed class FunctionContext
{
    internal FunctionContext(string ruleId, string functionName)
    {
        RuleId = ruleId;
        FunctionName = functionName;
    }

    /// <summary>The id of the calling rule.</summary>
    public string RuleId { get; }

    /// <summary>The name the function was called by.</summary>
    public string FunctionName { get; }
}

/// <summary>One argument of a call, as <see cref="IFunction.Validate"/> sees it when the rule is created.</summary>
public sealed class FunctionArgument
{
    internal FunctionArgument(int index, bool isConstant, SqlValue value, string text)
    {
        Index = index;
        IsConstant = isConstant;
        Value = value;
        Text = text;
    }

    /// <summary>The argument's position, from 0.</summary>
    public int Index { get; }

    /// <summary>Whether the argument has the same value on every row (a literal, or an expression of literals).</summary>
    public bool IsConstant { get; }

    /// <summary>The constant's value; <see cref="SqlValue.Null"/> when <see cref="IsConstant"/> is false.</summary>
    public SqlValue Value { get; }

    /// <summary>The argument as SQL text, e.g. <c>temperature * 2</c>.</summary>
    public string Text { get; }
}

/// <summary>Thrown by <see cref="IFunction.Validate"/> to refuse an argument; the rule's creation fails at its position.</summary>
public sealed class FunctionArgumentException : Exception
{
    /// <summary>Refuses argument <paramref name="argumentIndex"/>.</summary>
    /// <param name="argumentIndex">The argument's position, from 0; -1 for the call as a whole.</param>
    /// <param name="message">Why, in words the rule's author reads.</param>
    public FunctionArgumentException(int argumentIndex, string message)
        : base(message) => ArgumentIndex = argumentIndex;

    /// <summary>Refuses the call as a whole.</summary>
    public FunctionArgumentException()
        : this(-1, "invalid arguments")
    {
    }

    /// <summary>Refuses the call as a whole.</summary>
    /// <param name="message">Why.</param>
    public FunctionArgumentException(string message)
        : this(-1, message)
    {
    }

    /// <summary>Refuses the call as a whole.</summary>
    /// <param name="message">Why.</param>
    /// <param name="innerException">The cause.</param>
    public FunctionArgumentException(string message, Exception innerException)
        : base(message, innerException) => ArgumentIndex = -1;

    /// <summary>The refused argument's position, from 0; -1 for the call as a whole.</summary>
    public int ArgumentIndex { get; }
}
