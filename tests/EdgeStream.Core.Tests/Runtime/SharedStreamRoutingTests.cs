namespace EdgeStream.Tests.Runtime;

/// <summary>
/// Rules on a SHARED stream whose WHERE starts with <c>column = constant</c> are only sent the events that can pass;
/// what they were spared still shows in their counters, and their results are the same as without routing.
/// </summary>
public sealed class SharedStreamRoutingTests
{
    private const string Ddl = "CREATE STREAM s (deviceId STRING, n BIGINT, t FLOAT) WITH (DATASOURCE=\"in\", TYPE=\"memory\", SHARED=\"true\")";

    private static async Task<(List<string> Rows, RuleStatus Status)[]> RunAsync(string[] sql, IEnumerable<IReadOnlyDictionary<string, object?>> events)
    {
        await using var engine = new EdgeStreamEngine();
        engine.Execute(Ddl);
        using var stop = new CancellationTokenSource();
        var outputs = new List<System.Threading.Channels.ChannelReader<IReadOnlyList<IReadOnlyDictionary<string, object?>>>>();
        for (var i = 0; i < sql.Length; i++)
        {
            outputs.Add(engine.Memory.Subscribe("out" + i, stop.Token, capacity: 10_000));
            var rule = new RuleDefinition("r" + i, sql[i]);
            rule.Actions.Add(new RuleAction("memory", new Dictionary<string, string> { ["topic"] = "out" + i }));
            await engine.CreateRuleAsync(rule);
        }

        foreach (var e in events)
        {
            await engine.Memory.PublishAsync("in", e);
        }

        await AllTakenAsync(engine, sql.Length);
        var results = new (List<string>, RuleStatus)[sql.Length];
        for (var i = 0; i < sql.Length; i++)
        {
            await engine.StopRuleAsync("r" + i);
            var rows = new List<string>();
            while (outputs[i].TryRead(out var emission))
            {
                rows.AddRange(emission.Select(r => string.Join(",", r.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"))));
            }

            results[i] = (rows, engine.GetRuleStatus("r" + i));
        }

        return results;
    }

    /// <summary>Waits until every rule has counted all 302 events in (the memory source delivers in the background).</summary>
    private static async Task AllTakenAsync(EdgeStreamEngine engine, int rules)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Enumerable.Range(0, rules).Any(i => engine.GetRuleStatus("r" + i).RecordsIn < 302))
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "the rules did not take every event");
            await Task.Delay(5);
        }
    }

    private static IEnumerable<IReadOnlyDictionary<string, object?>> Events()
    {
        for (var i = 0; i < 300; i++)
        {
            yield return new Dictionary<string, object?> { ["deviceId"] = "d" + (i % 10), ["n"] = (long)(i % 7), ["t"] = i * 0.5 };
        }

        // Values of another kind than the column's: they go to every rule, which handles them as it always does.
        yield return new Dictionary<string, object?> { ["deviceId"] = 42L, ["n"] = "seven", ["t"] = 1.0 };
        yield return new Dictionary<string, object?> { ["deviceId"] = null, ["n"] = null, ["t"] = 2.0 };
    }

    [Test]
    public async Task Routed_rules_emit_what_they_would_and_count_every_event()
    {
        string[] sql =
        [
            "SELECT deviceId, t FROM s WHERE deviceId = \"d3\"",
            "SELECT deviceId, t FROM s WHERE \"d4\" = deviceId AND t > 20",
            "SELECT n, t FROM s WHERE n = 5",
            "SELECT deviceId FROM s WHERE t > 140", // not routed: takes every event
            "SELECT deviceId FROM s WHERE deviceId = \"nobody\"",
        ];
        var results = await RunAsync(sql, Events());

        Assert.Multiple(() =>
        {
            Assert.That(results[0].Rows, Has.Count.EqualTo(30));
            Assert.That(results[0].Rows, Has.All.StartsWith("deviceId=d3,"));
            Assert.That(results[1].Rows, Is.EqualTo(Enumerable.Range(0, 300).Where(i => i % 10 == 4 && i * 0.5 > 20).Select(i => $"deviceId=d4,t={i * 0.5}")));
            Assert.That(results[2].Rows, Is.EqualTo(Enumerable.Range(0, 300).Where(i => i % 7 == 5).Select(i => $"n=5,t={i * 0.5}")));
            Assert.That(results[3].Rows, Has.Count.EqualTo(Enumerable.Range(0, 300).Count(i => i * 0.5 > 140)));
            Assert.That(results[4].Rows, Is.Empty);
            foreach (var (_, status) in results)
            {
                // Every event of the stream is counted in, whether or not the bus delivered it.
                Assert.That(status.RecordsIn, Is.EqualTo(302), status.Id);
                Assert.That(status.Metrics["source_s_0_records_in_total"], Is.EqualTo(302), status.Id);
                Assert.That(status.Metrics["source_s_0_records_out_total"], Is.EqualTo(302), status.Id);
                Assert.That(status.Metrics["op_2_filter_0_records_in_total"], Is.EqualTo(302), status.Id);
            }

            // The string sent to the BIGINT column fails n = 5 with a type error, reported as without routing.
            Assert.That(results[2].Status.Errors, Is.EqualTo(1));
            Assert.That(results[0].Status.Errors, Is.EqualTo(1)); // 42 = "d3"
            Assert.That(results[0].Status.Metrics["op_2_filter_0_records_out_total"], Is.EqualTo(30));
        });
    }

    [Test]
    public async Task Routing_gives_the_same_results_and_counters_as_evaluating_every_event()
    {
        // The same rules, once routed (SHARED) and once not: a non-shared stream delivers every event to every rule.
        string[] sql =
        [
            "SELECT deviceId, n FROM s WHERE deviceId = \"d1\" AND n > 2",
            "SELECT deviceId, n FROM s WHERE n = 3",
        ];
        var routed = await RunAsync(sql, Events());
        await using var engine = new EdgeStreamEngine();
        var plain = new List<(List<string>, RuleStatus)>();
        engine.Execute(Ddl.Replace(", SHARED=\"true\"", string.Empty, StringComparison.Ordinal));
        using var stop = new CancellationTokenSource();
        var outputs = sql.Select((q, i) => engine.Memory.Subscribe("out" + i, stop.Token, capacity: 10_000)).ToArray();
        for (var i = 0; i < sql.Length; i++)
        {
            var rule = new RuleDefinition("r" + i, sql[i]);
            rule.Actions.Add(new RuleAction("memory", new Dictionary<string, string> { ["topic"] = "out" + i }));
            await engine.CreateRuleAsync(rule);
        }

        foreach (var e in Events())
        {
            await engine.Memory.PublishAsync("in", e);
        }

        await AllTakenAsync(engine, sql.Length);
        for (var i = 0; i < sql.Length; i++)
        {
            await engine.StopRuleAsync("r" + i);
            var rows = new List<string>();
            while (outputs[i].TryRead(out var emission))
            {
                rows.AddRange(emission.Select(r => string.Join(",", r.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"))));
            }

            plain.Add((rows, engine.GetRuleStatus("r" + i)));
        }

        for (var i = 0; i < sql.Length; i++)
        {
            Assert.That(routed[i].Rows, Is.EqualTo(plain[i].Item1), sql[i]);
            Assert.That(routed[i].Rows, Is.Not.Empty, sql[i]);
            Assert.That(routed[i].Status.RecordsIn, Is.EqualTo(plain[i].Item2.RecordsIn), sql[i]);
            Assert.That(routed[i].Status.Errors, Is.EqualTo(plain[i].Item2.Errors), sql[i]);
            foreach (var name in new[] { "source_s_0_records_in_total", "source_s_0_records_out_total", "op_2_filter_0_records_in_total", "op_2_filter_0_records_out_total", "op_3_project_0_records_out_total" })
            {
                Assert.That(routed[i].Status.Metrics[name], Is.EqualTo(plain[i].Item2.Metrics[name]), $"{sql[i]}: {name}");
            }
        }
    }

    [Test]
    public async Task Rules_joining_and_leaving_in_numbers_are_each_sent_exactly_their_events()
    {
        // 120 rules routed on deviceId, 12 on n (which take every event: the first rule fixes the column); 99 leave (so the bus rebuilds its index with the 33 left), 30 join after.
        await using var engine = new EdgeStreamEngine();
        engine.Execute(Ddl);
        using var stop = new CancellationTokenSource();
        var outputs = new Dictionary<int, System.Threading.Channels.ChannelReader<IReadOnlyList<IReadOnlyDictionary<string, object?>>>>();
        async Task CreateAsync(int i)
        {
            outputs[i] = engine.Memory.Subscribe("out" + i, stop.Token, capacity: 10_000);
            var sql = i % 11 == 5 ? "SELECT deviceId, n FROM s WHERE n = " + (i % 7) : $"SELECT deviceId, n FROM s WHERE deviceId = \"d{i % 10}\"";
            var rule = new RuleDefinition("r" + i, sql);
            rule.Actions.Add(new RuleAction("memory", new Dictionary<string, string> { ["topic"] = "out" + i }));
            await engine.CreateRuleAsync(rule);
        }

        for (var i = 0; i < 132; i++)
        {
            await CreateAsync(i);
        }

        for (var i = 0; i < 132; i++)
        {
            if (i % 4 != 3)
            {
                await engine.DeleteRuleAsync("r" + i);
                outputs.Remove(i);
            }
        }

        for (var i = 132; i < 162; i++)
        {
            await CreateAsync(i);
        }

        foreach (var e in Events())
        {
            await engine.Memory.PublishAsync("in", e);
        }

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (outputs.Keys.Any(i => engine.GetRuleStatus("r" + i).RecordsIn < 302))
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "the rules did not take every event");
            await Task.Delay(5);
        }

        Assert.That(outputs, Has.Count.EqualTo(33 + 30));
        foreach (var (i, output) in outputs)
        {
            await engine.StopRuleAsync("r" + i);
            var rows = new List<string>();
            while (output.TryRead(out var emission))
            {
                rows.AddRange(emission.Select(r => $"{r["deviceId"]}/{r["n"]}"));
            }

            var expected = Enumerable.Range(0, 300)
                .Where(e => i % 11 == 5 ? e % 7 == i % 7 : e % 10 == i % 10)
                .Select(e => $"d{e % 10}/{e % 7}");
            Assert.That(rows, Is.EqualTo(expected), "rule r" + i);
            Assert.That(engine.GetRuleStatus("r" + i).RecordsIn, Is.EqualTo(302), "rule r" + i);
        }
    }
}
