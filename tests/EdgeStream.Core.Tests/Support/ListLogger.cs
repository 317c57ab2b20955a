using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Tests.Support;

/// <summary>A logger factory that keeps every message, for asserting what was logged.</summary>
internal sealed class ListLoggerFactory : ILoggerFactory
{
    public ConcurrentQueue<(string Category, LogLevel Level, EventId Id, string Message)> Entries { get; } = new();

    /// <summary>Everything a provider is given, as text: each message, its structured values and its exception.</summary>
    public ConcurrentQueue<string> Everything { get; } = new();

    /// <summary>How many of the next messages containing <see cref="FailOn"/> throw, as a broken logging provider would.</summary>
    public int Failures;

    public string FailOn { get; set; } = "\u0000";

    public ILogger CreateLogger(string categoryName) => new ListLogger(this, categoryName);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

    public void Dispose()
    {
    }

    private sealed class ListLogger(ListLoggerFactory owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var message = formatter(state, exception);
            if (message.Contains(owner.FailOn, StringComparison.Ordinal) && Interlocked.Decrement(ref owner.Failures) >= 0)
            {
                throw new InvalidOperationException("logging provider failed");
            }

            owner.Entries.Enqueue((category, logLevel, eventId, message));
            owner.Everything.Enqueue(message);
            if (state is IEnumerable<KeyValuePair<string, object?>> values)
            {
                owner.Everything.Enqueue(string.Join("\n", values.Select(v => $"{v.Key}={v.Value}")));
            }

            if (exception is not null)
            {
                owner.Everything.Enqueue(exception.ToString());
            }
        }
    }
}
