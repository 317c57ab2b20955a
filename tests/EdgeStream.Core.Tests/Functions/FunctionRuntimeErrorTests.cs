using EdgeStream.Tests.Support;

namespace EdgeStream.Tests.Functions;

/// <summary>A function that fails on one event (a wrong type at run time) fails that event only: counted, reported, the rule goes on.</summary>
public sealed class FunctionRuntimeErrorTests
{
    [Test]
    public async Task A_runtime_type_error_fails_one_event_and_the_rule_keeps_running()
    {
        await using var rule = await ClockedRule.StartAsync("SELECT id, abs(v) AS a, upper(name) AS u FROM s", 1_000, options: o => o.SendError = true);
        await rule.At(1_000, new Dictionary<string, object?> { ["id"] = 1, ["v"] = -1, ["name"] = "a" });
        await rule.At(1_001, new Dictionary<string, object?> { ["id"] = 2, ["v"] = "minus one", ["name"] = "b" });
        await rule.At(1_002, new Dictionary<string, object?> { ["id"] = 3, ["v"] = -3.5, ["name"] = "c" });
        await Wait.Until(() => rule.Emissions.Count == 3, "three emissions");

        var rows = rule.Emissions.Select(e => e[0]).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(rows[0]["a"], Is.EqualTo(1L));
            Assert.That(rows[1]["error"], Does.Contain("abs").And.Contain("expect number type"));
            Assert.That(rows[2]["a"], Is.EqualTo(3.5));
            Assert.That(rows[2]["u"], Is.EqualTo("C"));
        });
        var status = rule.Engine.GetRuleStatus("r");
        Assert.That((status.RecordsIn, status.Errors), Is.EqualTo((3L, 1L)));
        Assert.That(status.LastError, Does.Contain("expect number type"));
        Assert.That(status.State.ToString(), Is.EqualTo("Running"));
    }
}
