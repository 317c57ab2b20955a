namespace EdgeStream.Compilation;

/// <summary>
/// Calls an <see cref="IFunction"/> from a compiled expression without allocating per row: the arguments are
/// evaluated into the per-thread <see cref="ArgumentStack"/> and passed as a span.
/// </summary>
internal static class UserFunctionCall
{
    public static Evaluator Compile(IFunction function, FunctionContext context, Evaluator[] arguments)
    {
        var name = context.FunctionName;
        var count = arguments.Length;
        return ctx =>
        {
            var frame = ArgumentStack.Push(arguments, ctx);
            try
            {
                return function.Invoke(ArgumentStack.SqlSpan(frame, count), context).Inner;
            }
            catch (Exception e) when (e is not EvaluationException)
            {
                throw new EvaluationException($"function `{name}` failed: {e.Message}");
            }
            finally
            {
                ArgumentStack.Pop(frame, count);
            }
        };
    }
}
