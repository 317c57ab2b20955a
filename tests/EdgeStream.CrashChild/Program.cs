// A host process for the crash tests (tests/EdgeStream.State.Sqlite.Tests/CrashTests.cs). It runs an engine over a
// SQLite state file with its definitions kept there, and takes commands on stdin, one per line:
//   event <json>   publish an event to stream s
//   status         print "status <rule> <metric>=<value>…" for every rule
//   flush          fire rule w's open windows (their result is printed as "out <values>")
// It prints "ready <restored definitions>" once the rules run. The test kills it with SIGKILL, never letting it stop.
// Rules: w, a window that collects a (qos 1, a checkpoint every 100 ms); c, which writes a to a file sink that fails
// while a marker file exists, with a cache that goes straight to disk (memoryCacheThreshold 0).
using System.Globalization;
using EdgeStream;
using EdgeStream.State.Sqlite;

if (args.Length != 3)
{
    Console.Error.WriteLine("usage: EdgeStream.CrashChild <state.db> <output file> <down marker file>");
    return 2;
}

var (database, output, down) = (args[0], args[1], args[2]);
await using var store = new SqliteStateStore(database);
await using var engine = new EdgeStreamEngine(new EdgeStreamEngineOptions { StateStore = store, PersistDefinitions = true });
engine.RegisterSink("lines", _ => new LineFileSink(output, down));
engine.Memory.Subscribe("out", (rows, _) =>
{
    foreach (var row in rows)
    {
        Console.Out.WriteLine("out " + string.Join(",", (IEnumerable<object?>)row["all"]!));
    }

    Console.Out.Flush();
    return ValueTask.CompletedTask;
});

var restored = await engine.RestoreDefinitionsAsync();
if (restored == 0)
{
    engine.Execute("CREATE STREAM s (a BIGINT) WITH (DATASOURCE=\"in\", TYPE=\"memory\")");
    await engine.CreateRuleAsync(RuleDefinition.FromJson("""
        {"id": "w", "sql": "SELECT collect(a) AS all FROM s GROUP BY TUMBLINGWINDOW(dd, 1)",
         "actions": [{"memory": {"topic": "out"}}], "options": {"qos": 1, "checkpointInterval": 100}}
        """));
    await engine.CreateRuleAsync(RuleDefinition.FromJson("""
        {"id": "c", "sql": "SELECT a FROM s",
         "actions": [{"lines": {"enableCache": true, "memoryCacheThreshold": 0, "bufferPageSize": 1}}]}
        """));
}

Console.Out.WriteLine($"ready {restored}");
Console.Out.Flush();
while (Console.In.ReadLine() is { } line)
{
    var (command, rest) = line.IndexOf(' ', StringComparison.Ordinal) is var space and > 0 ? (line[..space], line[(space + 1)..]) : (line, string.Empty);
    switch (command)
    {
        case "event":
            await engine.PublishJsonAsync("s", System.Text.Encoding.UTF8.GetBytes(rest));
            break;
        case "status":
            foreach (var id in new[] { "w", "c" })
            {
                var status = engine.GetRuleStatus(id);
                var metrics = status.Metrics.Select(m => $"{m.Key}={m.Value.ToString(CultureInfo.InvariantCulture)}");
                Console.Out.WriteLine($"status {id} records_in={status.RecordsIn.ToString(CultureInfo.InvariantCulture)} {string.Join(' ', metrics)}");
            }

            break;
        case "flush":
            await engine.FlushWindowsAsync("w");
            break;
    }

    Console.Out.Flush();
}

return 0;

/// <summary>Appends each row's <c>a</c> to a file, one per line; fails for now while the marker file exists.</summary>
internal sealed class LineFileSink(string path, string down) : ISink
{
    public ValueTask OpenAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public async ValueTask WriteAsync(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows, CancellationToken cancellationToken)
    {
        if (File.Exists(down))
        {
            throw new SinkException("the destination is down", isTransient: true);
        }

        await File.AppendAllLinesAsync(path, rows.Select(r => Convert.ToString(r["a"], CultureInfo.InvariantCulture) ?? string.Empty), cancellationToken);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
