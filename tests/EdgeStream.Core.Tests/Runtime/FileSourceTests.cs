namespace EdgeStream.Tests.Runtime;

public sealed class FileSourceTests
{
    [Test]
    public async Task A_file_stream_reads_one_json_object_per_line_and_reports_bad_lines()
    {
        var folder = Directory.CreateTempSubdirectory();
        try
        {
            var path = Path.Combine(folder.FullName, "events.jsonl");
            await File.WriteAllLinesAsync(path, ["{\"t\": 21.5}", "", "{\"t\": 35}", "garbage", "{\"t\": 40.5}"]);
            await using var engine = new EdgeStreamEngine();
            engine.Execute($"CREATE STREAM temps (t FLOAT) WITH (DATASOURCE=\"{path.Replace("\\", "\\\\", StringComparison.Ordinal)}\", TYPE=\"file\")");
            using var stop = new CancellationTokenSource();
            var output = engine.Memory.Subscribe("hot", stop.Token);
            var rule = new RuleDefinition("hot", "SELECT t FROM temps WHERE t > 30");
            rule.Actions.Add(new RuleAction("memory", new Dictionary<string, string> { ["topic"] = "hot" }));
            await engine.CreateRuleAsync(rule);

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var results = new[] { await output.ReadAsync(timeout.Token), await output.ReadAsync(timeout.Token) };
            Assert.That(results.Select(e => e[0]["t"]), Is.EqualTo(new object[] { 35.0, 40.5 }));
            while (engine.GetRuleStatus("hot").RecordsIn < 4)
            {
                await Task.Delay(10, timeout.Token);
            }

            var status = engine.GetRuleStatus("hot");
            Assert.That((status.RecordsIn, status.Errors), Is.EqualTo((4L, 1L)), "four non-blank lines, one of them not JSON");
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Test]
    public async Task A_missing_file_fails_rule_creation()
    {
        await using var engine = new EdgeStreamEngine();
        engine.Execute("CREATE STREAM f () WITH (DATASOURCE=\"/nonexistent/in.jsonl\", TYPE=\"file\")");
        var error = Assert.ThrowsAsync<SqlException>(() => engine.CreateRuleAsync(new RuleDefinition("r", "SELECT * FROM f")))!;
        Assert.That(error.Reason, Is.EqualTo("stream `f` reads file `/nonexistent/in.jsonl`, which does not exist"));
    }
}
