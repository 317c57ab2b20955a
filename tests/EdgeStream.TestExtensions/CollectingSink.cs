using System.Collections.Concurrent;

namespace EdgeStream.TestExtensions;

/// <summary>A service the host registers; the sink writes into it.</summary>
public sealed class CollectedRows
{
    /// <summary>Every row written, with the sink's label.</summary>
    public ConcurrentQueue<(string Label, IReadOnlyDictionary<string, object?> Row)> Rows { get; } = new();
}

/// <summary>A sink made by the container: its constructor takes a registered service and the rule action's context.</summary>
public sealed class CollectingSink(CollectedRows collected, SinkContext context) : ISink
{
    private readonly string label = context.Properties.TryGetValue("label", out var l) ? l : throw new ArgumentException("the collect sink needs a `label`");

    /// <inheritdoc />
    public ValueTask OpenAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <inheritdoc />
    public ValueTask WriteAsync(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows, CancellationToken cancellationToken)
    {
        foreach (var row in rows)
        {
            collected.Rows.Enqueue((label, row));
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
