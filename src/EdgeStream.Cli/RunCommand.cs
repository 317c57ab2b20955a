using System.Globalization;
using System.Text;
using System.Text.Json;
using EdgeStream.Sinks.MySql;
using EdgeStream.Testing;

namespace EdgeStream.Cli;

/// <summary>
/// <c>edgestream run (--sql "SELECT …" | RULE.json) [--stream "CREATE …"]… [--input [NAME=]FILE.jsonl]… [--config FILE.json]
/// [--duration S] [--max-events N] [--drain-timeout S] [--print] [--no-flush]</c>: runs one rule over JSON-lines input.
/// </summary>
internal sealed class RunCommand
{
    private const string OutputTopic = "edgestream-run-output";
    private readonly List<string> streams = [];
    private readonly List<(string? Stream, string Path)> inputs = [];
    private string? sql;
    private string? ruleFile;
    private string? configFile;
    private double? duration;
    private long? maxEvents;
    private double drainTimeout = 30;
    private bool print;
    private bool flush = true;

    public static int Run(string[] args, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        var command = new RunCommand();
        var error = command.ParseArguments(args);
        return error is not null
            ? CliApp.Fail(stderr, error)
            : command.ExecuteAsync(stdin, stdout, stderr).GetAwaiter().GetResult();
    }

    private string? ParseArguments(string[] args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{arg} needs a value");
            try
            {
                switch (arg)
                {
                    case "--sql": sql = Next(); break;
                    case "--stream": streams.Add(Next()); break;
                    case "--input":
                        var value = Next();
                        var eq = value.IndexOf('=', StringComparison.Ordinal);
                        inputs.Add(eq > 0 && !File.Exists(value) ? (value[..eq], value[(eq + 1)..]) : (null, value));
                        break;
                    case "--config": configFile = Next(); break;
                    case "--duration": duration = Seconds(arg, Next()); break;
                    case "--max-events":
                        maxEvents = long.TryParse(Next(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
                            ? n : throw new ArgumentException("--max-events needs a positive integer");
                        break;
                    case "--drain-timeout": drainTimeout = Seconds(arg, Next()); break;
                    case "--print": print = true; break;
                    case "--no-flush": flush = false; break;
                    default:
                        if (arg.StartsWith("--", StringComparison.Ordinal))
                        {
                            return $"unknown option `{arg}`; run `edgestream --help`";
                        }

                        if (ruleFile is not null)
                        {
                            return "give one rule: --sql \"SELECT …\" or one RULE.json";
                        }

                        ruleFile = arg;
                        break;
                }
            }
            catch (ArgumentException e)
            {
                return e.Message;
            }
        }

        return (sql is null) == (ruleFile is null) ? "give the rule as --sql \"SELECT …\" or as a RULE.json file (one of them)" : null;
    }

    private static double Seconds(string option, string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0 && double.IsFinite(s)
            ? s
            : throw new ArgumentException($"{option} needs a positive number of seconds");

    private async Task<int> ExecuteAsync(TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        RuleDefinition rule;
        try
        {
            rule = ruleFile is null ? new RuleDefinition("run", sql!) : RuleDefinition.FromJson(await File.ReadAllTextAsync(ruleFile).ConfigureAwait(false));
            if (configFile is not null)
            {
                using var config = JsonDocument.Parse(await File.ReadAllTextAsync(configFile).ConfigureAwait(false));
                if (config.RootElement.ValueKind != JsonValueKind.Object)
                {
                    return CliApp.Fail(stderr, $"{configFile}: the configuration must be a JSON object");
                }

                await stderr.WriteLineAsync("warning: --config is read but not used yet: no connector takes configuration so far").ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or JsonException)
        {
            return CliApp.Fail(stderr, e.Message);
        }

        foreach (var option in rule.UnsupportedOptions)
        {
            await stderr.WriteLineAsync($"warning: rule option `{option}` is accepted but not applied yet").ConfigureAwait(false);
        }

        var engine = new EdgeStreamEngine();
        engine.RegisterMySqlSink(); // rule files with a `mysql` or `sql` action
        await using (engine.ConfigureAwait(false))
        {
            for (var i = 0; i < streams.Count; i++)
            {
                try
                {
                    engine.Execute(streams[i]);
                }
                catch (SqlException e)
                {
                    return CliApp.Fail(stderr, $"line {e.Line}, column {e.Column}: {e.Reason} (in --stream #{i + 1})");
                }
            }

            var printing = rule.Actions.Count == 0 || print;
            if (printing)
            {
                rule.Actions.Add(new RuleAction("memory", new Dictionary<string, string> { ["topic"] = OutputTopic }));
            }

            using var outputDone = new CancellationTokenSource();
            var output = engine.Memory.Subscribe(OutputTopic, outputDone.Token);
            var printer = printing ? PrintAsync(output, stdout) : Task.CompletedTask;
            string defaultStream;
            try
            {
                defaultStream = EdgeSql.SourcesOf(rule.Sql)[0];
                await engine.CreateRuleAsync(rule).ConfigureAwait(false);
            }
            catch (SqlException e)
            {
                return CliApp.Fail(stderr, $"line {e.Line}, column {e.Column}: {e.Reason}");
            }
            catch (ArgumentException e)
            {
                return CliApp.Fail(stderr, e.Message);
            }
            catch (SinkException e)
            {
                // A destination refused the rule (bad credentials, a missing table): the reason, never a secret.
                return CliApp.Fail(stderr, e.Message);
            }

            await stderr.WriteLineAsync("ready").ConfigureAwait(false);
            using var deadline = duration is { } d ? new CancellationTokenSource(TimeSpan.FromSeconds(d)) : new CancellationTokenSource();
            var fed = await FeedAsync(engine, defaultStream, stdin, stderr, deadline.Token).ConfigureAwait(false);
            if (fed is null)
            {
                return CliApp.InvalidInput;
            }

            // The input has ended: open windows fire with what they hold, unless --no-flush (eKuiper's behaviour) or the
            // run was cut short by --duration.
            if (flush && !deadline.IsCancellationRequested)
            {
                await engine.FlushWindowsAsync(rule.Id).ConfigureAwait(false);
            }

            using var drain = new CancellationTokenSource(TimeSpan.FromSeconds(drainTimeout));
            try
            {
                await engine.StopRuleAsync(rule.Id, drain.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            var status = engine.GetRuleStatus(rule.Id);
            await outputDone.CancelAsync().ConfigureAwait(false);
            await printer.ConfigureAwait(false);
            var undelivered = Undelivered(status).ToList();
            if (status.RecordsIn < fed || drain.IsCancellationRequested || undelivered.Count > 0)
            {
                await stderr.WriteLineAsync(
                    $"error: not everything was delivered within --drain-timeout {drainTimeout.ToString(CultureInfo.InvariantCulture)} s: {fed} events read, {status.RecordsIn} processed")
                    .ConfigureAwait(false);
                foreach (var line in undelivered)
                {
                    await stderr.WriteLineAsync("  " + line).ConfigureAwait(false);
                }

                return CliApp.Failed;
            }

            return CliApp.Ok;
        }
    }

    /// <summary>Each sink that did not deliver everything it took (from the rule's metrics).</summary>
    private static IEnumerable<string> Undelivered(RuleStatus status)
    {
        foreach (var (name, taken) in status.Metrics)
        {
            if (name.StartsWith("sink_", StringComparison.Ordinal) && name.EndsWith("_0_records_in_total", StringComparison.Ordinal))
            {
                // Counts are by message (an emission), as eKuiper counts; a message the sink gave up on is an exception.
                var sink = name[..^"_0_records_in_total".Length];
                var delivered = status.Metrics.TryGetValue(sink + "_0_records_out_total", out var d) ? d : 0;
                var failed = status.Metrics.TryGetValue(sink + "_0_exceptions_total", out var x) ? x : 0;
                if (delivered < taken || failed > 0)
                {
                    yield return $"{sink}: {taken} messages taken, {delivered} delivered, {failed} failed";
                }
            }
        }
    }

    /// <summary>Publishes every JSON line of the inputs (stdin when none); returns how many, or null on a bad input.</summary>
    private async Task<long?> FeedAsync(EdgeStreamEngine engine, string defaultStream, TextReader stdin, TextWriter stderr, CancellationToken deadline)
    {
        long count = 0;
        var sources = inputs.Count == 0 ? [(null, "-")] : inputs;
        foreach (var (stream, path) in sources)
        {
            var target = stream ?? defaultStream;
            TextReader reader;
            try
            {
                reader = path == "-" ? stdin : new StreamReader(path, Encoding.UTF8);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                CliApp.Fail(stderr, $"{path}: {e.Message}");
                return null;
            }

            try
            {
                var lineNumber = 0;
                while (!deadline.IsCancellationRequested && (maxEvents is null || count < maxEvents))
                {
                    var line = await reader.ReadLineAsync(deadline).ConfigureAwait(false);
                    if (line is null)
                    {
                        break;
                    }

                    lineNumber++;
                    if (line.Trim().Length == 0)
                    {
                        continue;
                    }

                    var bytes = Encoding.UTF8.GetBytes(line);
                    if (Malformed(bytes) is { } problem)
                    {
                        await stderr.WriteLineAsync($"{(path == "-" ? "stdin" : path)}:{lineNumber}: skipped: {problem}").ConfigureAwait(false);
                        continue;
                    }

                    await engine.PublishJsonAsync(target, bytes, deadline).ConfigureAwait(false);
                    count++;
                }
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
            }
            catch (KeyNotFoundException)
            {
                CliApp.Fail(stderr, $"--input names stream `{target}`, which no --stream declares");
                return null;
            }
            finally
            {
                if (!ReferenceEquals(reader, stdin))
                {
                    reader.Dispose();
                }
            }
        }

        return count;
    }

    private static string? Malformed(byte[] line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            return doc.RootElement.ValueKind == JsonValueKind.Object ? null : "not a JSON object";
        }
        catch (JsonException e)
        {
            return "malformed JSON: " + e.Message;
        }
    }

    private static async Task PrintAsync(System.Threading.Channels.ChannelReader<IReadOnlyList<IReadOnlyDictionary<string, object?>>> output, TextWriter stdout)
    {
        await foreach (var emission in output.ReadAllAsync().ConfigureAwait(false))
        {
            await stdout.WriteLineAsync(ResultJson.WriteEmission(emission)).ConfigureAwait(false);
        }
    }
}
