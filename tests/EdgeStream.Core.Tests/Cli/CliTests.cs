using System.Diagnostics;
using EdgeStream.Cli;

namespace EdgeStream.Tests.Cli;

public sealed class CliTests
{
    private static (int Code, string Out, string Err) Run(string stdin, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = CliApp.Run(args, new StringReader(stdin), stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Test]
    public void Parse_prints_canonical_sql_and_exits_zero()
    {
        var (code, output, error) = Run(string.Empty, "parse", "select a,b from s where a>1;");
        Assert.That((code, output, error), Is.EqualTo((0, "SELECT a, b FROM s WHERE a > 1" + Environment.NewLine, string.Empty)));
    }

    [Test]
    public void Parse_reads_the_statement_from_stdin()
    {
        var (code, output, _) = Run("select *\nfrom demo\n", "parse");
        Assert.That((code, output.Trim()), Is.EqualTo((0, "SELECT * FROM demo")));
    }

    [Test]
    public void Syntax_errors_go_to_stderr_with_position_and_exit_two()
    {
        var (code, output, error) = Run(string.Empty, "parse", "SELECT color, size, ts FORM demo");
        Assert.That((code, output), Is.EqualTo((2, string.Empty)));
        Assert.That(error, Is.EqualTo("error: line 1, column 24: unexpected identifier `FORM`, expected `FROM`" + Environment.NewLine));
    }

    [Test]
    public void With_streams_the_statement_is_bound()
    {
        const string Demo = "CREATE STREAM demo (color STRING, size BIGINT) WITH (DATASOURCE=\"demo\")";
        Assert.That(Run(string.Empty, "parse", "--stream", Demo, "SELECT color FROM demo WHERE size > 1").Code, Is.Zero);

        var (code, _, error) = Run(string.Empty, "parse", "--stream", Demo, "SELECT colr FROM demo");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(error.Trim(), Is.EqualTo("error: line 1, column 8: unknown field `colr` in stream `demo`; did you mean `color`?"));
    }

    [Test]
    public void An_error_in_a_declaration_names_it()
    {
        var (code, _, error) = Run(string.Empty, "parse", "--stream", "CREATE STREAM s (a INT)", "SELECT a FROM s");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(error.Trim(), Is.EqualTo("error: line 1, column 20: unexpected identifier `INT`, expected column type (bigint, float, string, datetime, boolean, bytea, array or struct) (in --stream #1)"));
    }

    [TestCase("frobnicate")]
    [TestCase("parse", "--bogus", "SELECT a FROM s")]
    [TestCase("parse", "SELECT a FROM s", "SELECT b FROM s")]
    [TestCase("parse", "--stream")]
    public void Bad_arguments_exit_two_with_a_message(params string[] args)
    {
        var (code, _, error) = Run(string.Empty, args);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(error, Does.StartWith("error: "));
    }

    [Test]
    public void Help_exits_zero()
    {
        var (code, output, _) = Run(string.Empty, "--help");
        Assert.That(code, Is.Zero);
        Assert.That(output, Does.Contain("edgestream parse"));
    }

    [Test]
    public void The_built_tool_runs_as_a_process()
    {
        // The CLI assembly is copied next to the tests; run it the way the README does: dotnet <dll>.
        var dll = Path.Combine(AppContext.BaseDirectory, "edgestream.dll");
        var start = new ProcessStartInfo("dotnet", ["exec", dll, "parse", "SELECT a FORM s"])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.That(process.ExitCode, Is.EqualTo(2));
        Assert.That(error.Trim(), Is.EqualTo("error: line 1, column 10: unexpected identifier `FORM`, expected `FROM`"));
    }
}

public sealed class ReplayCommandTests
{
    private static string Case(string name) => Path.Combine(AppContext.BaseDirectory, "Conformance", "cases", name + ".json");

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = CliApp.Run(args, new StringReader(string.Empty), stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Test]
    public void Passing_cases_print_pass_and_exit_zero()
    {
        var (code, output, _) = Run("replay", Case("alias_sql__alias_sql"), Case("single_sql__single_sql_rule15"));
        Assert.That(code, Is.Zero);
        Assert.That(output.Split('\n', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(new[] { "PASS alias_sql__alias_sql", "PASS single_sql__single_sql_rule15" }));
    }

    [Test]
    public void A_failing_case_prints_the_difference_and_exits_one()
    {
        var folder = Directory.CreateTempSubdirectory();
        try
        {
            // A real case with one expected number changed.
            var text = File.ReadAllText(Case("single_sql__single_sql_rule15")).Replace("\"col1\": 2", "\"col1\": 3", StringComparison.Ordinal);
            var path = Path.Combine(folder.FullName, "changed.json");
            File.WriteAllText(path, text);
            var (code, output, _) = Run("replay", path);
            Assert.That(code, Is.EqualTo(1));
            Assert.That(output, Does.StartWith("FAIL single_sql__single_sql_rule15"));
            Assert.That(output, Does.Contain("""reason:   emission 0 row 0: expected {"col1":3}, got {"col1":2}"""));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Test]
    public void Json_output_is_one_object_per_case_and_nothing_else()
    {
        var folder = Directory.CreateTempSubdirectory();
        try
        {
            // A case made to fail: its expected value is changed.
            var failing = Path.Combine(folder.FullName, "failing.json");
            File.WriteAllText(failing, File.ReadAllText(Case("single_sql__single_sql_rule15")).Replace("\"col1\": 2", "\"col1\": 3", StringComparison.Ordinal));
            var (code, output, _) = Run("replay", "--json", Case("single_sql__single_sql_rule15"), failing);
            var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.That(code, Is.EqualTo(1));
            Assert.That(lines, Has.Length.EqualTo(2));
            Assert.That(lines[0], Is.EqualTo("""{"name":"single_sql__single_sql_rule15","status":"pass","pass":true,"expected":[[{"col1":2}]],"actual":[[{"col1":2}]],"reason":null}"""));
            using var second = System.Text.Json.JsonDocument.Parse(lines[1]);
            Assert.That(second.RootElement.GetProperty("status").GetString(), Is.EqualTo("fail"));
            Assert.That(second.RootElement.GetProperty("pass").GetBoolean(), Is.False);
            Assert.That(second.RootElement.GetProperty("reason").GetString(), Does.Contain("emission 0"));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Test]
    public void A_recorded_deviation_does_not_fail_the_run()
    {
        var folder = Directory.CreateTempSubdirectory();
        try
        {
            var text = File.ReadAllText(Case("single_sql__single_sql_rule15")).Replace("\"col1\": 2", "\"col1\": 3", StringComparison.Ordinal);
            text = text.Insert(text.IndexOf('{', StringComparison.Ordinal) + 1, "\"deviation\": \"we differ on purpose\",");
            var path = Path.Combine(folder.FullName, "deviation.json");
            File.WriteAllText(path, text);
            var (code, output, _) = Run("replay", path);
            Assert.That(code, Is.Zero);
            Assert.That(output, Does.StartWith("DEVIATION single_sql__single_sql_rule15"));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [TestCase]
    [TestCase("--bogus", "x.json")]
    [TestCase("does-not-exist.json")]
    public void Bad_arguments_exit_two(params string[] args)
    {
        Assert.That(Run(["replay", .. args]).Code, Is.EqualTo(2));
    }
}
