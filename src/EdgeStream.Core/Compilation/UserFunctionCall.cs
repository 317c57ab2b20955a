using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EdgeStream.Abstractions;

namespace EdgeStream.Compilation;

/// <summary>
/// Calls an <see cref="IFunction"/> from a compiled expression without allocating per row: the arguments are
/// evaluated into a per-thread stack of values and passed as a span. A nested call reserves the slots above its
/// caller's, so <c>f(g(x), y)</c> works; the stack grows when deep.
/// </summary>
internal static class UserFunctionCall
{
    [ThreadStatic]
    private static Value[]? stack;

    [ThreadStatic]
    private static int top;

    public static Evaluator Compile(IFunction function, FunctionContext context, Evaluator[] arguments)
    {
        var name = context.FunctionName;
        return ctx =>
        {
            var start = top;
            var count = arguments.Length;
            Reserve(start + count);
            top = start + count;
            try
            {
                for (var i = 0; i < count; i++)
                {
                    var value = arguments[i](ctx);
                    stack![start + i] = value; // re-read: a nested call may have grown the stack
                }

                var span = count == 0 ? default : MemoryMarshal.CreateReadOnlySpan(ref Unsafe.As<Value, SqlValue>(ref stack![start]), count);
                SqlValue result;
                try
                {
                    result = function.Invoke(span, context);
                }
                catch (Exception e) when (e is not EvaluationException)
                {
                    throw new EvaluationException($"function `{name}` failed: {e.Message}");
                }

                return result.Inner;
            }
            finally
            {
                stack.AsSpan(start, count).Clear(); // let go of strings and arrays the arguments held
                top = start;
            }
        };
    }

    private static void Reserve(int size)
    {
        if (stack is null || stack.Length < size)
        {
            var bigger = new Value[Math.Max(16, Math.Max(size, (stack?.Length ?? 0) * 2))];
            stack?.CopyTo(bigger, 0);
            stack = bigger;
        }
    }
}
