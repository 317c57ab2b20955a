using System.Runtime.CompilerServices;
using EdgeStream.Abstractions;
using EdgeStream.Functions.Builtins;

namespace EdgeStream.Compilation;

/// <summary>
/// Calls a built-in scalar body from a compiled expression without allocating: up to four arguments are evaluated
/// into a struct on the stack and passed as a span; more go through the per-thread argument stack that user
/// functions use. An exception other than <see cref="EvaluationException"/> (a bug, an overflow) fails only that row.
/// </summary>
internal static class ScalarCall
{
    public static Evaluator Compile(string name, ScalarBody body, Evaluator[] arguments, FunctionEnvironment env)
    {
        switch (arguments.Length)
        {
            case 0:
                return ctx => Run(name, body, [], env);
            case 1:
                {
                    var a0 = arguments[0];
                    return ctx =>
                    {
                        var v = a0(ctx);
                        return Run(name, body, new ReadOnlySpan<Value>(in v), env);
                    };
                }

            case 2:
                {
                    var (a0, a1) = (arguments[0], arguments[1]);
                    return ctx =>
                    {
                        var args = default(Args4);
                        args[0] = a0(ctx);
                        args[1] = a1(ctx);
                        return Run(name, body, ((ReadOnlySpan<Value>)args)[..2], env);
                    };
                }

            case 3:
                {
                    var (a0, a1, a2) = (arguments[0], arguments[1], arguments[2]);
                    return ctx =>
                    {
                        var args = default(Args4);
                        args[0] = a0(ctx);
                        args[1] = a1(ctx);
                        args[2] = a2(ctx);
                        return Run(name, body, ((ReadOnlySpan<Value>)args)[..3], env);
                    };
                }

            case 4:
                {
                    var (a0, a1, a2, a3) = (arguments[0], arguments[1], arguments[2], arguments[3]);
                    return ctx =>
                    {
                        var args = default(Args4);
                        args[0] = a0(ctx);
                        args[1] = a1(ctx);
                        args[2] = a2(ctx);
                        args[3] = a3(ctx);
                        return Run(name, body, args, env);
                    };
                }

            default:
                return ctx =>
                {
                    var frame = ArgumentStack.Push(arguments, ctx);
                    try
                    {
                        return Run(name, body, ArgumentStack.Span(frame, arguments.Length), env);
                    }
                    finally
                    {
                        ArgumentStack.Pop(frame, arguments.Length);
                    }
                };
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Value Run(string name, ScalarBody body, ReadOnlySpan<Value> args, FunctionEnvironment env)
    {
        try
        {
            return body(args, env);
        }
        catch (Exception e) when (e is not EvaluationException)
        {
            throw FunctionArgs.Error(name, e.Message);
        }
    }

    [InlineArray(4)]
    private struct Args4
    {
        private Value first;
    }
}
