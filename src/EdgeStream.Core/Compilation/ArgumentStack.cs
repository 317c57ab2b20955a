using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EdgeStream.Abstractions;

namespace EdgeStream.Compilation;

/// <summary>
/// A per-thread stack of argument values for calls with many arguments, so a call does not allocate per row. A nested
/// call reserves the slots above its caller's, so <c>f(g(x), y)</c> works; the stack grows when deep.
/// </summary>
internal static class ArgumentStack
{
    [ThreadStatic]
    private static Value[]? stack;

    [ThreadStatic]
    private static int top;

    /// <summary>Evaluates <paramref name="arguments"/> into a new frame; returns where it starts. Pair with <see cref="Pop"/> in a finally.</summary>
    public static int Push(Evaluator[] arguments, EvalContext ctx)
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
        }
        catch
        {
            Pop(start, count);
            throw;
        }

        return start;
    }

    /// <summary>The frame's values.</summary>
    public static ReadOnlySpan<Value> Span(int start, int count) => count == 0 ? default : stack.AsSpan(start, count);

    /// <summary>The frame's values as user functions see them.</summary>
    public static ReadOnlySpan<SqlValue> SqlSpan(int start, int count) =>
        count == 0 ? default : MemoryMarshal.CreateReadOnlySpan(ref Unsafe.As<Value, SqlValue>(ref stack![start]), count);

    /// <summary>Lets go of the frame (and of the strings and arrays its values held).</summary>
    public static void Pop(int start, int count)
    {
        stack.AsSpan(start, count).Clear();
        top = start;
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
