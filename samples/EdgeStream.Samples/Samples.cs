using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeStream.Samples;

/// <summary>
/// The three ways an application uses EdgeStream. Each sample is self-contained: copy one into your own app.
/// </summary>
internal static class Samples
{
    public static async Task RunAllAsync(TextWriter output)
    {
        await output.WriteLineAsync("1. Rules in code, results read back");
        await RulesInCodeAsync(output);
        await output.WriteLineAsync("2. Your own sink");
        await CustomSinkAsync(output);
        await output.WriteLineAsync("3. With dependency injection and eKuiper rule JSON");
        await DependencyInjectionAsync(output);
        await output.WriteLineAsync("4. Typed objects in and out, and a function of your own");
        await TypedObjectsAsync(output);
    }

    /// <summary>A reading pushed in as an object.</summary>
    public sealed record Reading(string Id, double Celsius);

    /// <summary>A result read back as an object: columns fill the record's parameters by name.</summary>
    public sealed record Alert(string Id, double Fahrenheit, string Level);

    /// <summary>Push C# objects in, call your own function from SQL, read results back as typed objects.</summary>
    public static async Task TypedObjectsAsync(TextWriter output)
    {
        await using var engine = new EdgeStreamEngine();
        engine.RegisterFunction("to_fahrenheit", new ToFahrenheit());
        engine.Execute("CREATE STREAM readings (Id STRING, Celsius FLOAT) WITH (DATASOURCE=\"readings\", TYPE=\"memory\")");
        var rule = new RuleDefinition("alerts", """
            SELECT Id, to_fahrenheit(Celsius) AS fahrenheit, CASE WHEN Celsius > 40 THEN 'critical' ELSE 'high' END AS level
            FROM readings WHERE Celsius > 30
            """);
        rule.Actions.Add(new RuleAction("memory", new Dictionary<string, string> { ["topic"] = "alerts" }));
        await engine.CreateRuleAsync(rule);

        using var done = new CancellationTokenSource();
        var alerts = engine.Memory.ReadAllAsync<Alert>("alerts", done.Token);   // subscribes now
        foreach (var reading in new Reading[] { new("a", 25), new("b", 35), new("c", 45) })
        {
            await engine.PublishObjectAsync("readings", reading);
        }

        await engine.StopRuleAsync("alerts");
        await done.CancelAsync();                   // the reader yields what arrived, then ends
        await foreach (var alert in alerts)
        {
            await output.WriteLineAsync($"   {alert}");
        }
    }

    /// <summary>A scalar function: arguments and result are SqlValues (numbers stay unboxed).</summary>
    private sealed class ToFahrenheit : IFunction
    {
        public int MinArguments => 1;

        public int MaxArguments => 1;

        public SqlValue Invoke(ReadOnlySpan<SqlValue> arguments, FunctionContext context) =>
            arguments[0].IsNumber ? SqlValue.From((arguments[0].AsDouble() * 9 / 5) + 32) : SqlValue.Null;
    }

    /// <summary>Declare a stream, add a rule, push events in, read results from a memory topic.</summary>
    public static async Task RulesInCodeAsync(TextWriter output)
    {
        await using var engine = new EdgeStreamEngine();
        engine.Execute("CREATE STREAM sensors (id STRING, temperature FLOAT) WITH (DATASOURCE=\"sensors\", TYPE=\"memory\")");

        var rule = new RuleDefinition("hot", "SELECT id, temperature * 9 / 5 + 32 AS fahrenheit FROM sensors WHERE temperature > 30");
        rule.Actions.Add(new RuleAction("memory", new Dictionary<string, string> { ["topic"] = "alerts" }));
        await engine.CreateRuleAsync(rule);

        using var done = new CancellationTokenSource();
        var alerts = engine.Memory.Subscribe("alerts", done.Token);        // subscribe before publishing
        await engine.PublishAsync("sensors", new Dictionary<string, object?> { ["id"] = "a", ["temperature"] = 21.5 });
        await engine.PublishJsonAsync("sensors", """{"id": "b", "temperature": 35}"""u8.ToArray());
        await engine.StopRuleAsync("hot");           // finishes what it took

        while (alerts.TryRead(out var emission))
        {
            await output.WriteLineAsync($"   alert: {emission[0]["id"]} at {emission[0]["fahrenheit"]} °F");
        }
    }

    /// <summary>A sink of your own: implement ISink, register it by name, name it in a rule's actions.</summary>
    public static async Task CustomSinkAsync(TextWriter output)
    {
        await using var engine = new EdgeStreamEngine();
        engine.RegisterSink("console", context => new TextSink(output, context.Properties.GetValueOrDefault("prefix", "")), ["prefix"]);
        engine.Execute("CREATE STREAM s (a BIGINT) WITH (DATASOURCE=\"s\")");

        var rule = new RuleDefinition("print", "SELECT a, a * a AS square FROM s WHERE a % 2 = 0");
        rule.Actions.Add(new RuleAction("console", new Dictionary<string, string> { ["prefix"] = "   even: ", ["batchSize"] = "2" }));
        await engine.CreateRuleAsync(rule);
        for (var a = 1; a <= 6; a++)
        {
            await engine.PublishAsync("s", new Dictionary<string, object?> { ["a"] = a });
        }

        await engine.StopRuleAsync("print");
    }

    /// <summary>The engine from a service container, a sink made by the container, a rule in eKuiper's JSON.</summary>
    public static async Task DependencyInjectionAsync(TextWriter output)
    {
        var services = new ServiceCollection();
        services.AddSingleton(output);
        services.AddEdgeStream().AddSink<InjectedSink>("console");
        await using var provider = services.BuildServiceProvider();
        var engine = provider.GetRequiredService<EdgeStreamEngine>();

        engine.Execute("CREATE STREAM orders (item STRING, qty BIGINT, price FLOAT) WITH (DATASOURCE=\"orders\")");
        await engine.CreateRuleAsync(RuleDefinition.FromJson("""
            {"id": "big-orders", "sql": "SELECT item, qty * price AS total FROM orders WHERE qty * price >= 100",
             "actions": [{"console": {}}], "options": {"sendError": true}}
            """));
        await engine.PublishJsonAsync("orders", """{"item": "bolts", "qty": 500, "price": 0.5}"""u8.ToArray());
        await engine.PublishJsonAsync("orders", """{"item": "nuts", "qty": 10, "price": 0.25}"""u8.ToArray());
        await engine.StopRuleAsync("big-orders");
    }

    /// <summary>Writes each result row as JSON, after a prefix.</summary>
    private sealed class TextSink(TextWriter output, string prefix) : ISink
    {
        public ValueTask OpenAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public async ValueTask WriteAsync(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows, CancellationToken cancellationToken)
        {
            foreach (var row in rows)
            {
                await output.WriteLineAsync(prefix + JsonSerializer.Serialize(row, SampleJson.Default.IReadOnlyDictionaryStringObject));
            }
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>A sink the container makes: its constructor takes a registered service and the action's context.</summary>
    private sealed class InjectedSink(TextWriter output, SinkContext context) : ISink
    {
        public ValueTask OpenAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public async ValueTask WriteAsync(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows, CancellationToken cancellationToken)
        {
            foreach (var row in rows)
            {
                await output.WriteLineAsync($"   {context.RuleId}: {row["item"]} for {row["total"]}");
            }
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(IReadOnlyDictionary<string, object?>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(long))]
[System.Text.Json.Serialization.JsonSerializable(typeof(double))]
[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class SampleJson : System.Text.Json.Serialization.JsonSerializerContext;
