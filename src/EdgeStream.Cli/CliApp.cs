using System.Reflection;

namespace EdgeStream.Cli;

/// <summary>
/// The <c>edgestream</c> command. Exit codes: 0 success, 2 invalid input (bad SQL, bad arguments); any other
/// code is a bug. Reads and writes only through the given readers and writers, so tests drive it in-process.
/// </summary>
internal static class CliApp
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int InvalidInput = 2;

    private const string Usage = """
        usage:
          edgestream demo [--duration S] [--broker mqtt://host:port] [--devices N]
              Streaming SQL over MQTT in one command: starts an MQTT broker in-process (or uses --broker), simulates N
              devices (5) publishing {"deviceId", "temperature", "humidity", "ts"} to demo/sensors/<deviceId> twice a
              second, and runs two rules over them: `alert` (temperature above 30) and `avg10s` (each device's
              average temperature every 10 seconds). Each result goes to standard output as `<rule>: <row as JSON>`.
              Runs 30 s (--duration); Ctrl-C stops it.
          edgestream parse [--stream "CREATE STREAM …"]… ["<sql>"]
              Checks one statement and prints it as canonical SQL. The SQL is read from standard input when not
              given. With --stream declarations it is also bound against them (names, functions, types).
          edgestream run (--sql "SELECT …" | RULE.json) [--stream "CREATE …"]… [--input [NAME=]FILE.jsonl]…
                         [--config FILE.json] [--duration S] [--max-events N] [--drain-timeout S] [--print] [--no-flush]
              Runs one rule over JSON lines (one object per line; standard input when no --input). Without actions
              (or with --print) each emission goes to standard output as one JSON line. `ready` goes to standard
              error once the rule runs; malformed lines are reported there with their line number and skipped.
              At the end of the input, open windows fire with what they hold, unless --no-flush.
              A rule over an MQTT stream (WITH (TYPE="mqtt", DATASOURCE="topic/filter")) reads the broker instead:
              `ready` once subscribed, then it runs until Ctrl-C, --duration S, or --max-events N events taken.
              --config FILE.json holds MQTT connection profiles with eKuiper's property names, picked by a stream's
              CONF_KEY ("default" without one; tcp://127.0.0.1:1883 when there is none):
              {"mqtt": {"default": {"server": "tcp://127.0.0.1:1883"}, "plant": {"server": "ssl://plant:8883",
              "username": "edge", "password": "…"}}}
          edgestream replay [--json] CASE.json…
              Replays conformance cases (streams, events, SQL, expected emissions) through the engine and prints
              PASS name / FAIL name with the difference; with --json, one JSON object per case per line.
          edgestream functions [--json | --markdown]
              Lists every function rules can call, one per line, tab-separated: name, category, kind, signature (an
              alias has its own line). --json prints one JSON array of {"name", "category", "kind", "minArgs",
              "maxArgs", "aliasOf"}; --markdown the SQL function reference (docs/functions.md).
          edgestream --help | --version

        exit codes: 0 ok, 1 a replayed case failed or run could not deliver everything, 2 invalid SQL or arguments
        (error: line L, column C: message on stderr)
        """;

    public static int Run(string[] args, TextReader stdin, TextWriter stdout, TextWriter stderr) =>
        Run(args, stdin, stdout, stderr, CancellationToken.None);

    /// <summary>Runs a command; <paramref name="stop"/> (Ctrl-C, SIGTERM) ends <c>run</c> and <c>demo</c> cleanly.</summary>
    public static int Run(string[] args, TextReader stdin, TextWriter stdout, TextWriter stderr, CancellationToken stop)
    {
        try
        {
            if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
            {
                stdout.WriteLine(Usage);
                return args.Length == 0 ? InvalidInput : Ok;
            }

            if (args[0] is "--version" or "version")
            {
                stdout.WriteLine(typeof(CliApp).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown");
                return Ok;
            }

            return args[0] switch
            {
                "parse" => Parse(args.AsSpan(1), stdin, stdout, stderr),
                "replay" => Replay.Run(args.AsSpan(1).ToArray(), stdout, stderr),
                "run" => RunCommand.Run(args.AsSpan(1).ToArray(), stdin, stdout, stderr, stop),
                "demo" => DemoCommand.Run(args.AsSpan(1).ToArray(), stdout, stderr, stop),
                "functions" => FunctionsCommand.Run(args.AsSpan(1).ToArray(), stdout, stderr),
                _ => Fail(stderr, $"unknown command `{args[0]}`; run `edgestream --help`"),
            };
        }
        catch (IOException e)
        {
            return Fail(stderr, e.Message);
        }
    }

    internal static int Fail(TextWriter stderr, string message)
    {
        stderr.WriteLine("error: " + message);
        return InvalidInput;
    }

    private static int Parse(ReadOnlySpan<string> args, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        var declarations = new List<string>();
        string? sql = null;
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg == "--stream")
            {
                if (i + 1 >= args.Length)
                {
                    return Fail(stderr, "--stream needs a CREATE STREAM or CREATE TABLE statement");
                }

                declarations.Add(args[++i]);
            }
            else if (arg.StartsWith("--stream=", StringComparison.Ordinal))
            {
                declarations.Add(arg["--stream=".Length..]);
            }
            else if (arg.StartsWith("--", StringComparison.Ordinal) && arg.Length > 2)
            {
                return Fail(stderr, $"unknown option `{arg}`; run `edgestream --help`");
            }
            else if (sql is null)
            {
                sql = arg;
            }
            else
            {
                return Fail(stderr, "give one SQL statement (quote it as one argument)");
            }
        }

        sql ??= stdin.ReadToEnd();
        for (var i = 0; i < declarations.Count; i++)
        {
            try
            {
                EdgeSql.Check(declarations[i], declarations.Take(i));
            }
            catch (SqlException e)
            {
                return Fail(stderr, $"line {e.Line}, column {e.Column}: {e.Reason} (in --stream #{i + 1})");
            }
        }

        try
        {
            var canonical = declarations.Count == 0 ? EdgeSql.Format(sql) : EdgeSql.Check(sql, declarations);
            stdout.WriteLine(canonical);
            return Ok;
        }
        catch (SqlException e)
        {
            return Fail(stderr, $"line {e.Line}, column {e.Column}: {e.Reason}");
        }
    }
}
