using EdgeStream.TestExtensions;
using Microsoft.Extensions.DependencyInjection;
using static EdgeStream.Tests.DependencyInjection.ExtensionContractTests;

namespace EdgeStream.Tests.DependencyInjection;

/// <summary>
/// User functions from a separate assembly, through DI: bind-time validation with SQL positions, constant folding of
/// deterministic calls, aggregates with several arguments, and overriding a built-in only on purpose.
/// </summary>
public sealed class UserFunctionTests
{
    private static ServiceProvider Provider(bool overrideUpper = true)
    {
        var services = new ServiceCollection();
        services.AddSingleton<ClampFunction>();
        var builder = services.AddEdgeStream()
            .AddAggregateFunction<WeightedAverageAggregate>("wavg");
        builder.Registrations.Add((provider, engine) => engine.RegisterFunction("clamp", provider.GetRequiredService<ClampFunction>()));
        if (overrideUpper)
        {
            builder.AddFunction<ShoutFunction>("upper", overrideBuiltin: true);
        }

        return services.BuildServiceProvider();
    }

    private static RuleDefinition Rule(string id, string sql)
    {
        var rule = new RuleDefinition(id, sql);
        rule.Actions.Add(new RuleAction("memory", new Dictionary<string, string> { ["topic"] = id }));
        return rule;
    }

    [Test]
    public async Task A_user_scalar_and_a_two_argument_aggregate_run_end_to_end()
    {
        await using var provider = Provider();
        var engine = provider.GetRequiredService<EdgeStreamEngine>();
        engine.Execute("CREATE STREAM s () WITH (DATASOURCE=\"s\", TYPE=\"memory\")");
        using var cts = new CancellationTokenSource();
        var output = engine.Memory.Subscribe("w", cts.Token);
        await engine.CreateRuleAsync(Rule("w", "SELECT wavg(clamp(v, 0, 10), n) AS avg, count(*) AS c FROM s GROUP BY COUNTWINDOW(3)"));
        await engine.PublishAsync("s", new Dictionary<string, object?> { ["v"] = 4, ["n"] = 1 });
        await engine.PublishAsync("s", new Dictionary<string, object?> { ["v"] = 50, ["n"] = 2 }); // clamped to 10
        await engine.PublishAsync("s", new Dictionary<string, object?> { ["v"] = 1, ["n"] = 1 });
        var row = (await Take(output, 1))[0];
        Assert.That(row["avg"], Is.EqualTo((4.0 + 20.0 + 1.0) / 4.0));
        Assert.That(row["c"], Is.EqualTo(3L));
    }

    [Test]
    public async Task A_deterministic_call_with_constant_arguments_runs_once_when_the_rule_is_created()
    {
        await using var provider = Provider();
        var engine = provider.GetRequiredService<EdgeStreamEngine>();
        var clamp = provider.GetRequiredService<ClampFunction>();
        engine.Execute("CREATE STREAM s () WITH (DATASOURCE=\"s\", TYPE=\"memory\")");
        using var cts = new CancellationTokenSource();
        var output = engine.Memory.Subscribe("k", cts.Token);
        await engine.CreateRuleAsync(Rule("k", "SELECT clamp(15, 0, 10) AS k, clamp(v, 0, 10) AS c FROM s"));
        var afterCreation = clamp.Calls;
        for (var i = 0; i < 5; i++)
        {
            await engine.PublishAsync("s", new Dictionary<string, object?> { ["v"] = i * 5 });
        }

        var rows = await Take(output, 5);
        Assert.That(rows.Select(r => r["k"]), Has.All.EqualTo(10.0));
        Assert.That(rows.Select(r => r["c"]), Is.EqualTo(new object?[] { 0.0, 5.0, 10.0, 10.0, 10.0 }));
        Assert.That(afterCreation, Is.EqualTo(1), "the constant call was folded at creation");
        Assert.That(clamp.Calls, Is.EqualTo(6), "then one call per row for the column call only");
    }

    [Test]
    public async Task Validation_refuses_a_bad_constant_argument_at_its_position()
    {
        await using var provider = Provider();
        var engine = provider.GetRequiredService<EdgeStreamEngine>();
        engine.Execute("CREATE STREAM s () WITH (DATASOURCE=\"s\", TYPE=\"memory\")");
        var bounds = Assert.ThrowsAsync<SqlException>(() => engine.CreateRuleAsync(Rule("b", "SELECT clamp(v, 10, 1) FROM s")))!;
        Assert.That((bounds.Line, bounds.Column), Is.EqualTo((1, 21)));
        Assert.That(bounds.Reason, Is.EqualTo("clamp: the upper bound 1 is below the lower bound 10"));
        var text = Assert.ThrowsAsync<SqlException>(() => engine.CreateRuleAsync(Rule("t", "SELECT clamp(v, 'low', 1) FROM s")))!;
        Assert.That(text.Column, Is.EqualTo(17));
        Assert.That(text.Reason, Does.Contain("is not a number"));
        Assert.That(engine.RuleIds, Is.Empty);
    }

    [Test]
    public async Task A_built_in_is_overridden_only_with_the_flag()
    {
        await using (var plain = Provider(overrideUpper: false))
        {
            var engine = plain.GetRequiredService<EdgeStreamEngine>();
            Assert.That(() => engine.RegisterFunction("upper", new ShoutFunction()), Throws.ArgumentException.With.Message.Contains("override flag"));
        }

        await using var provider = Provider();
        var overridden = provider.GetRequiredService<EdgeStreamEngine>();
        overridden.Execute("CREATE STREAM s () WITH (DATASOURCE=\"s\", TYPE=\"memory\")");
        using var cts = new CancellationTokenSource();
        var output = overridden.Memory.Subscribe("u", cts.Token);
        await overridden.CreateRuleAsync(Rule("u", "SELECT upper(name) AS u, lower(name) AS l FROM s"));
        await overridden.PublishAsync("s", new Dictionary<string, object?> { ["name"] = "pump" });
        var row = (await Take(output, 1))[0];
        Assert.That((row["u"], row["l"]), Is.EqualTo(((object?)"PUMP!", (object?)"pump")));
        var description = overridden.GetFunctions().Single(f => f.Name == "upper");
        Assert.That((description.IsUserDefined, description.Category), Is.EqualTo((true, "string")));
        Assert.That(() => overridden.RegisterFunction("upper", new ShoutFunction(), overrideBuiltin: true), Throws.ArgumentException, "a user function is never replaced");
    }
}
