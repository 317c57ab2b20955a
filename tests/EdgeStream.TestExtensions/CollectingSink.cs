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

/// <summary>How <see cref="OptionsSink"/> delivers.</summary>
public enum DeliveryMode
{
    /// <summary>One row at a time.</summary>
    OneByOne,

    /// <summary>Rows in batches.</summary>
    Batched,
}

/// <summary>The typed options of <see cref="OptionsSink"/>, bound from a rule action's properties.</summary>
public sealed class OptionsSinkOptions
{
    /// <summary>Where to send (required).</summary>
    public required Uri Url { get; set; }

    /// <summary>How many times to try.</summary>
    public int Retries { get; set; } = 3;

    /// <summary>How long a token lives.</summary>
    public TimeSpan TokenTtl { get; set; }

    /// <summary>Delivery mode.</summary>
    public DeliveryMode Mode { get; set; }

    /// <summary>Extra labels.</summary>
    public IReadOnlyList<string> Labels { get; set; } = [];
}

/// <summary>A sink whose properties bind to <see cref="OptionsSinkOptions"/>; it records its options with each row.</summary>
public sealed class OptionsSink(CollectedRows collected, OptionsSinkOptions options) : ISink
{
    /// <inheritdoc />
    public ValueTask OpenAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <inheritdoc />
    public ValueTask WriteAsync(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows, CancellationToken cancellationToken)
    {
        var label = FormattableString.Invariant($"{options.Url}|{options.Retries}|{options.TokenTtl.TotalMilliseconds}|{options.Mode}|{string.Join("+", options.Labels)}");
        foreach (var row in rows)
        {
            collected.Rows.Enqueue((label, row));
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
