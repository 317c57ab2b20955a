using System.Globalization;
using System.Text;
using System.Text.Json;
using EdgeStream.Mqtt;
using EdgeStream.Sinks.Mqtt;
using EdgeStream.Sinks.MySql;
using EdgeStream.Sources.Mqtt;
using EdgeStream.Sql.Parsing;
using EdgeStream.Testing;

namespace EdgeStream.Cli;

/// <summary>
/// <c>edgestream run (--sql "SELECT …" | RULE.json) [--stream "CREATE …"]… [--input [NAME=]FILE.jsonl]… [--config FILE.json]
/// [--duration S] [--max-events N] [--drain-timeout S] [--print] [--no-flush]</c>: runs one rule over JSON-lines input,
/// or, when the rule reads an MQTT stream, over what the broker delivers until Ctrl-C, <c>--duration</c> or
/// <c>--max-events</c>.
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

    /// <summary>How often the status is read while waiting for the broker or for --max-events.</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>How long the MQTT source may take to subscribe before `waiting for the MQTT broker` is printed.</summary>
    private static readonly TimeSpan QuietWait = TimeSpan.FromSeconds(1);

    public static int Run(string[] args, TextReader stdin, TextWriter stdout, TextWriter stderr, CancellationToken stop)
    {
        var command = new RunCommand();
        var error = command.ParseArguments(args);
        return error is not null
            ? CliApp.Fail(stderr, error)
            : command.ExecuteAsync(stdin, stdout, stderr, stop).GetAwaiter().GetResult();
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

    private async Task<int> ExecuteAsync(TextReader stdin, TextWriter stdout, TextWriter stderr, CancellationToken stop)
    {
        RuleDefinition rule;
        try
        {
            rule = ruleFile is null ? new RuleDefinition("run", sql!) : RuleDefinition.FromJson(await File.ReadAllTextAsync(ruleFile, CancellationToken.None).ConfigureAwait(false));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or JsonException)
        {
            return CliApp.Fail(stderr, e.Message);
        }

        var profiles = new MqttProfiles();
        if (configFile is not null)
        {
            try
            {
                profiles = CliConfig.LoadMqttProfiles(configFile);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
                return CliApp.Fail(stderr, $"--config {configFile}: {e.Message}");
            }
        }

        foreach (var option in rule.UnsupportedOptions)
        {
            await stderr.WriteLineAsync($"warning: rule option `{option}` is accepted but not applied yet").ConfigureAwait(false);
        }

        var engine = new EdgeStreamEngine();
        engine.RegisterMySqlSink(); // rule files with a `mysql` or `sql` action
        engine.RegisterMqttSource(profiles); // streams WITH (TYPE="mqtt")
        engine.RegisterMqttSink(); // rule files with an `mqtt` action
        await using (engine.ConfigureAwait(false))
        {
            var mqttStreams = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase); // name → CONF_KEY
            for (var i = 0; i < streams.Count; i++)
            {
                try
                {
                    engine.Execute(streams[i]);
                    var declared = SqlParser.ParseCreate(streams[i]);
                    if (declared.Options.FirstOrDefault(o => o.Name == "TYPE")?.Value.Equals(MqttSourceExtensions.SourceType, StringComparison.OrdinalIgnoreCase) == true)
                    {
                        mqttStreams[declared.Name] = declared.Options.FirstOrDefault(o => o.Name == "CONF_KEY")?.Value;
                    }
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
            List<(string Stream, string Endpoint)> subscriptions = [];
            try
            {
                var read = EdgeSql.SourcesOf(rule.Sql);
                defaultStream = read[0];
                foreach (var name in read)
                {
                    if (mqttStreams.TryGetValue(name, out var confKey))
                    {
                        // The stream's metric is named as declared; its broker as the profile says (an unknown CONF_KEY fails here).
                        var declaredName = mqttStreams.Keys.First(k => k.Equals(name, StringComparison.OrdinalIgnoreCase));
                        try
                        {
                            subscriptions.Add((declaredName, MqttSettings.From(profiles.Resolve(confKey), "edgestream-cli").Endpoint));
                        }
                        catch (ArgumentException e)
                        {
                            return CliApp.Fail(stderr, $"stream `{declaredName}`: {e.Message}");
                        }
                    }
                }

                if (subscriptions.Count > 0 && inputs.Count > 0)
                {
                    return CliApp.Fail(stderr, $"the rule reads MQTT stream `{subscriptions[0].Stream}`: it takes its events from the broker, not from --input");
                }

                await engine.CreateRuleAsync(rule, CancellationToken.None).ConfigureAwait(false);
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

            using var deadline = duration is { } d ? new CancellationTokenSource(TimeSpan.FromSeconds(d)) : new CancellationTokenSource();
            using var ending = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, stop);
            long? fed;
            bool inputEnded;
            var failed = false;
            if (subscriptions.Count > 0)
            {
                fed = null;
                var end = await ListenAsync(engine, rule.Id, subscriptions, stderr, ending.Token).ConfigureAwait(false);
                inputEnded = end == ListenEnd.MaxEvents;
                failed = end == ListenEnd.RuleFailed;
            }
            else
            {
                await stderr.WriteLineAsync("ready").ConfigureAwait(false);
                fed = await FeedAsync(engine, defaultStream, stdin, stderr, ending.Token).ConfigureAwait(false);
                if (fed is null)
                {
                    return CliApp.InvalidInput;
                }

                inputEnded = !ending.IsCancellationRequested;
            }

            // The input has ended (or --max-events were taken): open windows fire with what they hold, unless
            // --no-flush (eKuiper's behaviour) or the run was cut short by --duration or Ctrl-C.
            if (flush && inputEnded)
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
            if (failed)
            {
                return CliApp.Failed;
            }

            if (status.RecordsIn < (fed ?? 0) || drain.IsCancellationRequested || undelivered.Count > 0)
            {
                await stderr.WriteLineAsync(
                    $"error: not everything was delivered within --drain-timeout {drainTimeout.ToString(CultureInfo.InvariantCulture)} s: {fed ?? status.RecordsIn} events read, {status.RecordsIn} processed")
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

    /// <summary>
    /// A rule over MQTT streams: waits until each is subscribed (printing `waiting for the MQTT broker at …` once when
    /// that takes a while), prints `ready`, then runs until <paramref name="ending"/> (--duration, Ctrl-C) or until the
    /// rule has taken --max-events events, or until the rule fails.
    /// </summary>
    private async Task<ListenEnd> ListenAsync(EdgeStreamEngine engine, string ruleId, List<(string Stream, string Endpoint)> subscriptions, TextWriter stderr, CancellationToken ending)
    {
        var started = TimeProvider.System.GetTimestamp();
        var waiting = false;
        var ready = false;
        try
        {
            while (!ending.IsCancellationRequested)
            {
                var status = engine.GetRuleStatus(ruleId);
                if (!ready)
                {
                    var missing = subscriptions.FirstOrDefault(s => !status.Metrics.TryGetValue($"source_{s.Stream}_0_connected", out var up) || up != 1);
                    if (missing.Stream is null)
                    {
                        ready = true;
                        await stderr.WriteLineAsync("ready").ConfigureAwait(false);
                    }
                    else if (!waiting && TimeProvider.System.GetElapsedTime(started) >= QuietWait)
                    {
                        // Once: the source keeps trying with backoff, and says why in the status (never a password).
                        waiting = true;
                        await stderr.WriteLineAsync($"waiting for the MQTT broker at {missing.Endpoint} (stream `{missing.Stream}`){Why(status, missing.Endpoint)}").ConfigureAwait(false);
                    }
                }

                if (status.State == RuleState.StoppedByError)
                {
                    await stderr.WriteLineAsync($"error: the rule stopped: {status.LastError}").ConfigureAwait(false);
                    return ListenEnd.RuleFailed;
                }

                if (maxEvents is { } enough && status.RecordsIn >= enough)
                {
                    return ListenEnd.MaxEvents;
                }

                await Task.Delay(PollInterval, ending).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ending.IsCancellationRequested)
        {
        }

        return ListenEnd.Stopped;
    }

    /// <summary>What ended a rule over MQTT streams.</summary>
    private enum ListenEnd
    {
        /// <summary>--duration or Ctrl-C.</summary>
        Stopped,

        /// <summary>The rule took --max-events events.</summary>
        MaxEvents,

        /// <summary>The rule stopped by an error.</summary>
        RuleFailed,
    }

    /// <summary>The rule's last error, which says why the source is not connected yet, as <c>: reason</c> (empty when none).</summary>
    internal static string Why(RuleStatus status, string endpoint)
    {
        if (status.LastError is not { Length: > 0 } error)
        {
            return string.Empty;
        }

        var prefix = $"mqtt {endpoint}: ";
        return ": " + (error.StartsWith(prefix, StringComparison.Ordinal) ? error[prefix.Length..] : error);
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
                    // WaitAsync: a console read cannot be canceled, but --duration and Ctrl-C must not wait for a line.
                    var line = await reader.ReadLineAsync(deadline).AsTask().WaitAsync(deadline).ConfigureAwait(false);
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
