using System.Globalization;
using EdgeStream.Abstractions;
using static EdgeStream.Functions.Builtins.FunctionArgs;

namespace EdgeStream.Functions.Builtins;

/// <summary>
/// The other functions: null handling (<c>coalesce</c>, <c>isnull</c>), identity and time (<c>newuuid</c>,
/// <c>tstamp</c>), the rule's metadata (<c>rule_id</c>, <c>rule_start</c>, <c>props</c>) and the host's keyed state
/// (<c>get_keyed_state</c>). <c>meta</c>, <c>mqtt</c>, <c>event_time</c>, <c>last_hit_*</c> and the window functions
/// read the row and the window, so the compiler handles them.
/// </summary>
internal static class OtherFunctions
{
    /// <summary>This category's implementations.</summary>
    public static readonly ScalarFunction[] All =
    [
        // The first argument that is not null, else null.
        new("coalesce", "x", static (args, _) =>
        {
            foreach (var arg in args)
            {
                if (!arg.IsNull)
                {
                    return arg;
                }
            }

            return Value.Null;
        }),

        // Whether the argument is null; never null itself.
        new("isnull", "x", static (args, _) => Value.From(args[0].IsNull)),

        // A fresh UUID as text. eKuiper makes a time-based version 1 UUID; a version 7 one is time-ordered too, and
        // takes its time from the engine's clock.
        new("newuuid", string.Empty, static (_, env) => Value.From(Guid.CreateVersion7(env.Time.GetUtcNow()).ToString())),

        // Now, as Unix milliseconds, from the engine's clock.
        new("tstamp", string.Empty, static (_, env) => Value.From(env.NowMs)),
        new("rule_id", string.Empty, static (_, env) => Value.From(env.RuleId)),

        // When the rule last started, Unix milliseconds.
        new("rule_start", string.Empty, static (_, env) => Value.From(env.RuleStart)),
        new("props", "s", static (args, env) => Props(args[0], env)),
        new("get_keyed_state", "ssx", static (args, env) => KeyedState(args, env), PrepareKeyedState),
    ];

    /// <summary>The types <c>get_keyed_state</c> converts to, as eKuiper lists them.</summary>
    private static readonly string[] KeyedStateTypes = ["bigint", "float", "string", "boolean", "datetime"];

    /// <summary>
    /// <c>props(name)</c>: a property of the running rule, as text. <c>et</c> is the time of the event being processed
    /// (Unix ms; the clock's now when there is none, as in eKuiper's test), <c>ruleId</c> the rule's id and
    /// <c>ruleStart</c> its start; any other name is null.
    /// </summary>
    private static Value Props(Value name, FunctionEnvironment env)
    {
        if (name.IsNull)
        {
            return Value.Null;
        }

        if (name.Kind != ValueKind.String)
        {
            throw Error("props", $"invalid input {Text(name)}: must be property name of string type");
        }

        return name.AsString switch
        {
            "et" => Value.From(env.NowMs.ToString(CultureInfo.InvariantCulture)),
            "ruleId" => Value.From(env.RuleId),
            "ruleStart" => Value.From(env.RuleStart.ToString(CultureInfo.InvariantCulture)),
            _ => Value.Null,
        };
    }

    private static ScalarBody? PrepareKeyedState(PreparedCall call)
    {
        if (call.ConstantString(1) is { } type && !KeyedStateTypes.Contains(type, StringComparer.Ordinal))
        {
            throw call.Fail(1, "expect one of following value for the 2nd parameter: bigint, float, string, boolean, datetime");
        }

        return null;
    }

    /// <summary>
    /// <c>get_keyed_state(key, type, default)</c>: the host's value for <c>key</c> converted to <c>type</c> (as
    /// <c>cast</c> does), or <c>default</c> when the store has none. A null argument gives null, as in eKuiper.
    /// </summary>
    private static Value KeyedState(ReadOnlySpan<Value> args, FunctionEnvironment env)
    {
        if (AnyNull(args))
        {
            return Value.Null;
        }

        if (args[0].Kind != ValueKind.String)
        {
            throw Error("get_keyed_state", $"key {Text(args[0])} is not a string");
        }

        var type = String("get_keyed_state", args[1], 2);
        if (!KeyedStateTypes.Contains(type, StringComparer.Ordinal))
        {
            throw Error("get_keyed_state", "expect one of following value for the 2nd parameter: bigint, float, string, boolean, datetime");
        }

        if (env.KeyedState is not { } store || !store.TryGet(args[0].AsString, out var stored))
        {
            return args[2];
        }

        return stored.IsNull ? Value.Null : ConversionFunctions.CastTo("get_keyed_state", stored.Inner, type, env);
    }
}
