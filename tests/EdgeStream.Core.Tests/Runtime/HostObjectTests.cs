using System.Text.Json.Serialization;

namespace EdgeStream.Tests.Runtime;

/// <summary>Pushing plain C# objects in and reading results back as rows, typed objects or through a callback.</summary>
public sealed class HostObjectTests
{
    public enum Level
    {
        Low,
        High,
    }

    public sealed class Reading
    {
        public string Device { get; set; } = "";

        [JsonPropertyName("temp")]
        public double Temperature { get; set; }

        public long Count { get; init; }

        public int? Battery { get; set; }

        public bool Online { get; set; }

        public Level Level { get; set; }

        public DateTimeOffset At { get; set; }

        public IReadOnlyList<string> Tags { get; set; } = [];

        [JsonIgnore]
        public string Secret { get; set; } = "never a column";
    }

    public sealed record Alert(string Device, double Temp, Level Level, long Count = -1);

    public sealed class AlertClass
    {
        public string? Device { get; set; }

        public double Temp { get; set; }

        public int Count { get; set; }

        public bool Online { get; set; }

        public DateTimeOffset At { get; set; }
    }

    private static async Task<EdgeStreamEngine> Engine(string sql)
    {
        var engine = new EdgeStreamEngine();
        engine.Execute("CREATE STREAM readings () WITH (TYPE=\"memory\", DATASOURCE=\"readings\")");
        var rule = new RuleDefinition("r", sql);
        rule.Actions.Add(new RuleAction("memory", new Dictionary<string, string> { ["topic"] = "alerts" }));
        await engine.CreateRuleAsync(rule);
        return engine;
    }

    private static Reading Sample(string device, double temp, long count) => new()
    {
        Device = device, Temperature = temp, Count = count, Battery = null, Online = true, Level = Level.High,
        At = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000), Tags = ["a", "b"],
    };

    [Test]
    public async Task Objects_go_in_as_columns_and_come_out_as_records()
    {
        await using var engine = await Engine("SELECT Device, temp, Level, Count, Battery, Tags, Secret FROM readings WHERE temp > 20");
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var rows = engine.Memory.ReadAllAsync("alerts", stop.Token).GetAsyncEnumerator(stop.Token);
        var alerts = engine.Memory.ReadAllAsync<Alert>("alerts", stop.Token).GetAsyncEnumerator(stop.Token);

        await engine.PublishObjectAsync("readings", Sample("d1", 18.5, 1));
        await engine.PublishObjectAsync("readings", Sample("d2", 25.5, 2));

        Assert.That(await alerts.MoveNextAsync(), Is.True);
        Assert.That(alerts.Current, Is.EqualTo(new Alert("d2", 25.5, Level.High, 2)));
        Assert.That(await rows.MoveNextAsync(), Is.True);
        Assert.That(rows.Current, Is.EquivalentTo(new Dictionary<string, object?>
        {
            ["Device"] = "d2", ["temp"] = 25.5, ["Level"] = "High", ["Count"] = 2L, ["Tags"] = new object?[] { "a", "b" },
        }), "null Battery is left out, the ignored property is not a column, the enum is its name");
    }

    [Test]
    public async Task Results_fill_a_class_and_a_bad_value_names_its_column()
    {
        await using var engine = await Engine("SELECT Device, temp AS Temp, Count, Online, At FROM readings");
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var alerts = engine.Memory.ReadAllAsync<AlertClass>("alerts", stop.Token).GetAsyncEnumerator(stop.Token);
        await engine.PublishObjectAsync("readings", Sample("d1", 30, 7));
        await engine.Memory.PublishAsync("readings", new Dictionary<string, object?> { ["Device"] = "d3", ["Count"] = "seven" });

        Assert.That(await alerts.MoveNextAsync(), Is.True);
        var first = alerts.Current;
        Assert.That((first.Device, first.Temp, first.Count, first.Online, first.At.ToUnixTimeMilliseconds()), Is.EqualTo(("d1", 30.0, 7, true, 1_700_000_000_000L)));
        var error = Assert.ThrowsAsync<InvalidCastException>(async () => await alerts.MoveNextAsync())!;
        Assert.That(error.Message, Is.EqualTo("column `Count`: cannot convert String `seven` to Int32 for AlertClass"));
    }

    [Test]
    public async Task A_callback_receives_each_emission_and_its_failures_are_counted()
    {
        await using var engine = await Engine("SELECT Device FROM readings");
        var seen = new List<string>();
        using (engine.Memory.Subscribe("alerts", (rows, _) =>
        {
            var device = (string)rows[0]["Device"]!;
            if (device == "bad")
            {
                throw new InvalidOperationException("callback failed");
            }

            seen.Add(device);
            return ValueTask.CompletedTask;
        }))
        {
            foreach (var device in new[] { "d1", "bad", "d2" })
            {
                await engine.PublishObjectAsync("readings", Sample(device, 1, 1));
            }

            await engine.StopRuleAsync("r");
        }

        Assert.That(seen, Is.EqualTo(new[] { "d1", "d2" }));
        var status = engine.GetRuleStatus("r");
        Assert.That((status.RecordsOut, status.Errors), Is.EqualTo((3L, 1L)));
        Assert.That(status.LastError, Is.EqualTo("sink `memory`: a subscriber of `alerts` failed: callback failed"));
    }

    [Test]
    public async Task Unsubscribing_and_cancelling_end_delivery()
    {
        await using var engine = await Engine("SELECT Device FROM readings");
        var calls = 0;
        var subscription = engine.Memory.Subscribe("alerts", (_, _) =>
        {
            calls++;
            return ValueTask.CompletedTask;
        });
        using var stop = new CancellationTokenSource();
        var rows = engine.Memory.ReadAllAsync("alerts", stop.Token);
        await engine.PublishObjectAsync("readings", Sample("d1", 1, 1));
        await engine.StopRuleAsync("r");
        subscription.Dispose();
        await engine.StartRuleAsync("r");
        await engine.PublishObjectAsync("readings", Sample("d2", 1, 1));
        await engine.StopRuleAsync("r");
        await stop.CancelAsync();

        var read = new List<object?>();
        await foreach (var row in rows)
        {
            read.Add(row["Device"]);
        }

        Assert.That(calls, Is.EqualTo(1));
        Assert.That(read, Is.EqualTo(new object?[] { "d1", "d2" }), "a cancelled reader still yields what it had received, then ends");
    }
}
