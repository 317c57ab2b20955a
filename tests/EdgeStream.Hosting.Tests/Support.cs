using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Hosting.Tests;

/// <summary>What the <c>collect</c> sinks of a test received.</summary>
internal sealed class Collected
{
    private readonly ConcurrentQueue<IReadOnlyDictionary<string, object?>> rows = new();

    /// <summary>When set, a sink opened from now on refuses (a non-transient error).</summary>
    public bool FailOpen { get; set; }

    public IReadOnlyDictionary<string, string>? Properties { get; set; }

    public bool Closed { get; set; }

    public IReadOnlyList<IReadOnlyDictionary<string, object?>> Rows => [.. rows];

    public void Add(IReadOnlyList<IReadOnlyDictionary<string, object?>> batch)
    {
        foreach (var row in batch)
        {
            rows.Enqueue(row);
        }
    }

    public async Task WaitForAsync(int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (rows.Count < count)
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out waiting for {count} row(s); got {rows.Count}");
            }

            await Task.Delay(10);
        }
    }
}

/// <summary>A sink that hands its rows to <see cref="Collected"/>.</summary>
internal sealed class CollectingSink(Collected collected, SinkContext context) : ISink
{
    public ValueTask OpenAsync(CancellationToken cancellationToken)
    {
        if (collected.FailOpen)
        {
            throw new SinkException("the destination refused the account", isTransient: false);
        }

        collected.Properties = context.Properties;
        return ValueTask.CompletedTask;
    }

    public ValueTask WriteAsync(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows, CancellationToken cancellationToken)
    {
        collected.Add(rows);
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        collected.Closed = true;
        return ValueTask.CompletedTask;
    }
}

/// <summary>Keeps every log entry with its event id and structured state.</summary>
internal sealed class LogCollector : ILoggerProvider
{
    private readonly ConcurrentQueue<Entry> entries = new();

    public IReadOnlyList<Entry> Entries => [.. entries];

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    internal sealed record Entry(int EventId, LogLevel Level, string Message, IReadOnlyDictionary<string, object?> State);

    private sealed class Logger(LogCollector owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state as IEnumerable<KeyValuePair<string, object?>> ?? [];
            owner.entries.Enqueue(new Entry(eventId.Id, logLevel, formatter(state, exception), values.ToDictionary(p => p.Key, p => p.Value)));
        }
    }
}
