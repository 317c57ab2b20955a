using EdgeStream.Cli;

namespace EdgeStream.Tests.Cli;

public sealed class RunCommandTests
{
    private const string Stream = "CREATE STREAM s (a BIGINT, b FLOAT) WITH (DATASOURCE=\"s\")";

    private static (int Code, string Out, string Err) Run(string stdin, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = CliApp.Run(["run", .. args], new StringReader(stdin), stdout, stderr);
        return (code, stdout.ToString().Replace("\r\n", "\n", StringComparison.Ordinal), stderr.ToString().Replace("\r\n", "\n", StringComparison.Ordinal));
    }

    [Test]
    public void A_rule_without_actions_prints_each_emission_as_a_json_line()
    {
        var (code, output, error) = Run("{\"a\": 5, \"b\": 1}\n{\"a\": 11, \"b\": 1.5}\n{\"a\": 12, \"b\": 2}\n", "--stream", Stream, "--sql", "SELECT a, b * 2 AS c FROM s WHERE a > 10");
        Assert.That(code, Is.Zero, error);
        Assert.That(output, Is.EqualTo("[{\"a\":11,\"c\":3.0}]\n[{\"a\":12,\"c\":4.0}]\n"));
        Assert.That(error, Is.EqualTo("ready\n"));
    }

    [Test]
    public void Malformed_lines_are_reported_with_their_number_and_skipped()
    {
        var (code, output, error) = Run("{\"a\": 11}\n{oops\n\n[1, 2]\n{\"a\": 12}\n", "--stream", Stream, "--sql", "SELECT a FROM s");
        Assert.That(code, Is.Zero);
        Assert.That(output, Is.EqualTo("[{\"a\":11}]\n[{\"a\":12}]\n"));
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines[0], Is.EqualTo("ready"));
        Assert.That(lines[1], Does.StartWith("stdin:2: skipped: malformed JSON"));
        Assert.That(lines[2], Is.EqualTo("stdin:4: skipped: not a JSON object"));
    }

    [Test]
    public void Named_inputs_feed_named_streams_and_max_events_stops_early()
    {
        var folder = Directory.CreateTempSubdirectory();
        try
        {
            var file = Path.Combine(folder.FullName, "t.jsonl");
            File.WriteAllLines(file, ["{\"x\": 1}", "{\"x\": 2}", "{\"x\": 3}"]);
            var (code, output, _) = Run(string.Empty, "--stream", Stream, "--stream", "CREATE STREAM t () WITH (DATASOURCE=\"t\")",
                "--sql", "SELECT x FROM t", "--input", "t=" + file, "--max-events", "2");
            Assert.That(code, Is.Zero);
            Assert.That(output, Is.EqualTo("[{\"x\":1}]\n[{\"x\":2}]\n"));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Test]
    public void A_rule_json_file_runs_with_its_actions_and_warns_about_options_not_applied()
    {
        var folder = Directory.CreateTempSubdirectory();
        try
        {
            var rule = Path.Combine(folder.FullName, "rule.json");
            File.WriteAllText(rule, """{"id": "r1", "sql": "SELECT a FROM s", "actions": [{"nop": {}}], "options": {"debug": true, "sendError": true}}""");
            var silent = Run("{\"a\": 1}\n", rule, "--stream", Stream);
            Assert.That((silent.Code, silent.Out), Is.EqualTo((0, string.Empty)), "with actions, nothing is printed");
            Assert.That(silent.Err, Does.Contain("warning: rule option `debug` is accepted but not applied yet"));

            var printed = Run("{\"a\": 1}\n", rule, "--stream", Stream, "--print");
            Assert.That(printed.Out, Is.EqualTo("[{\"a\":1}]\n"));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [TestCase("--sql", "SELECT nope FROM s", "error: line 1, column 8: unknown field `nope` in stream `s`")]
    [TestCase("--sql", "SELECT a FORM s", "error: line 1, column 10: unexpected identifier `FORM`, expected `FROM`")]
    [TestCase("--sql", "SELECT a FROM s", "--bogus", "error: unknown option `--bogus`; run `edgestream --help`")]
    [TestCase("--sql", "SELECT a FROM s", "--max-events", "0", "error: --max-events needs a positive integer")]
    [TestCase("--sql", "SELECT a FROM s", "--input", "missing.jsonl", "error: ")]
    public void Bad_input_exits_two_with_a_message(params string[] argsAndMessage)
    {
        var (code, _, error) = Run(string.Empty, ["--stream", Stream, .. argsAndMessage[..^1]]);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(error, Does.Contain(argsAndMessage[^1]));
    }

    [Test]
    public void At_the_end_of_the_input_open_windows_fire_unless_no_flush()
    {
        // Event time over a file: 3 windows of 1 s; the watermark (no tolerance) closes the first two, the flush the last.
        const string Events = "{\"a\": 1, \"ts\": 1000}\n{\"a\": 2, \"ts\": 1500}\n{\"a\": 3, \"ts\": 2100}\n{\"a\": 4, \"ts\": 3200}\n{\"a\": 5, \"ts\": 3300}\n";
        string[] args = ["--stream", "CREATE STREAM e (a BIGINT, ts BIGINT) WITH (DATASOURCE=\"e\", TIMESTAMP=\"ts\")"];
        var rule = Path.GetTempFileName();
        try
        {
            File.WriteAllText(rule, """{"id": "w", "sql": "SELECT collect(a) AS all FROM e GROUP BY TUMBLINGWINDOW(ss, 1)", "options": {"isEventTime": true}}""");
            var flushed = Run(Events, [.. args, rule]);
            Assert.That(flushed.Code, Is.Zero, flushed.Err);
            Assert.That(flushed.Out, Is.EqualTo("[{\"all\":[1,2]}]\n[{\"all\":[3]}]\n[{\"all\":[4,5]}]\n"));

            var kept = Run(Events, [.. args, rule, "--no-flush"]);
            Assert.That(kept.Code, Is.Zero, kept.Err);
            Assert.That(kept.Out, Is.EqualTo("[{\"all\":[1,2]}]\n[{\"all\":[3]}]\n"), "as eKuiper: the last window, still open, is never sent");
        }
        finally
        {
            File.Delete(rule);
        }
    }

    [Test]
    public void Neither_or_both_rule_forms_is_an_error()
    {
        Assert.That(Run(string.Empty, "--stream", Stream).Code, Is.EqualTo(2));
        Assert.That(Run(string.Empty, "rule.json", "--sql", "SELECT a FROM s").Code, Is.EqualTo(2));
    }
}
