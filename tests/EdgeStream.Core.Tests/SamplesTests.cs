namespace EdgeStream.Tests;

/// <summary>The samples run and print what the README says they do, so they cannot rot.</summary>
public sealed class SamplesTests
{
    [Test]
    public async Task The_samples_run_and_produce_their_results()
    {
        var output = new StringWriter();
        await EdgeStream.Samples.Samples.RunAllAsync(output);
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.That(lines, Is.EqualTo(new[]
        {
            "1. Rules in code, results read back",
            "alert: b at 95 °F",
            "2. Your own sink",
            "even: {\"a\":2,\"square\":4}",
            "even: {\"a\":4,\"square\":16}",
            "even: {\"a\":6,\"square\":36}",
            "3. With dependency injection and eKuiper rule JSON",
            "big-orders: bolts for 250",
            "4. Typed objects in and out, and a function of your own",
            "Alert { Id = b, Fahrenheit = 95, Level = high }",
            "Alert { Id = c, Fahrenheit = 113, Level = critical }",
        }));
    }
}
