using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Threading.Channels;

namespace EdgeStream.TestExtensions;

/// <summary>A service the host registers to feed <see cref="FeedSource"/> instances and count what they do.</summary>
public sealed class SourceFeed
{
    private readonly ConcurrentDictionary<string, Channel<string>> feeds = new(StringComparer.Ordinal);

    /// <summary>How many source instances were made.</summary>
    public int Instances => InstanceCount;

    internal int InstanceCount;

    /// <summary>How many times a source instance failed on purpose (see <see cref="FailFirstRuns"/>).</summary>
    public int Failures => FailureCount;

    internal int FailureCount;

    /// <summary>How many payloads <see cref="KeyValueFormat"/> decoded.</summary>
    public int Decodes => DecodeCount;

    internal int DecodeCount;

    /// <summary>How many of the next runs throw before reading.</summary>
    public int FailFirstRuns { get; set; }

    /// <summary>The payloads of one data source, as text.</summary>
    /// <param name="dataSource">The stream's DATASOURCE.</param>
    /// <returns>The writer the host feeds.</returns>
    public ChannelWriter<string> For(string dataSource) => Channel(dataSource).Writer;

    /// <summary>How many fed payloads no source has read yet.</summary>
    /// <param name="dataSource">The stream's DATASOURCE.</param>
    /// <returns>The count.</returns>
    public int Pending(string dataSource) => Channel(dataSource).Reader.Count;

    internal Channel<string> Channel(string dataSource) =>
        feeds.GetOrAdd(dataSource, _ => System.Threading.Channels.Channel.CreateUnbounded<string>());
}

/// <summary>A source made by the container: reads the payloads the host feeds for its DATASOURCE, with metadata.</summary>
public sealed class FeedSource : ISource
{
    private readonly SourceFeed feed;
    private readonly SourceContext context;

    /// <summary>Creates the source.</summary>
    /// <param name="feed">The host's feed service.</param>
    /// <param name="context">The stream.</param>
    public FeedSource(SourceFeed feed, SourceContext context)
    {
        this.feed = feed;
        this.context = context;
        Interlocked.Increment(ref feed.InstanceCount);
    }

    /// <inheritdoc />
    public async Task RunAsync(ISourceWriter writer, CancellationToken cancellationToken)
    {
        if (feed.FailFirstRuns > 0)
        {
            feed.FailFirstRuns--;
            Interlocked.Increment(ref feed.FailureCount);
            throw new IOException("feed unavailable");
        }

        var reader = feed.Channel(context.DataSource).Reader;
        await foreach (var payload in reader.ReadAllAsync(cancellationToken))
        {
            if (payload.StartsWith("rows:", StringComparison.Ordinal))
            {
                var rows = payload[5..].Split(',').Select(a => (IReadOnlyDictionary<string, object?>)new Dictionary<string, object?> { ["a"] = long.Parse(a, CultureInfo.InvariantCulture) }).ToArray();
                await writer.WriteRowsAsync(rows, null, cancellationToken);
                continue;
            }

            if (payload.StartsWith("row:", StringComparison.Ordinal))
            {
                await writer.WriteRowAsync(new Dictionary<string, object?> { ["a"] = long.Parse(payload[4..], CultureInfo.InvariantCulture) }, null, cancellationToken);
                continue;
            }

            await writer.WritePayloadAsync(Encoding.UTF8.GetBytes(payload), new Dictionary<string, object?> { ["source"] = context.DataSource }, cancellationToken);
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary><c>scale(x, factor)</c>: x times factor; a factor of 0 throws, to test faults.</summary>
public sealed class ScaleFunction : IFunction
{
    /// <inheritdoc />
    public int MinArguments => 1;

    /// <inheritdoc />
    public int MaxArguments => 2;

    /// <inheritdoc />
    public SqlValue Invoke(ReadOnlySpan<SqlValue> arguments, FunctionContext context)
    {
        var x = arguments[0];
        var factor = arguments.Length > 1 ? arguments[1].AsInt64() : 2;
        if (factor == 0)
        {
            throw new InvalidOperationException("factor 0 is not allowed");
        }

        return x.IsNull ? SqlValue.Null : x.Kind == SqlValueKind.Integer ? SqlValue.From(x.AsInt64() * factor) : SqlValue.From(x.AsDouble() * factor);
    }
}

/// <summary><c>tag(x)</c>: the calling rule's id and function name joined to x, to test the context.</summary>
public sealed class TagFunction : IFunction
{
    /// <inheritdoc />
    public int MinArguments => 1;

    /// <inheritdoc />
    public int MaxArguments => 1;

    /// <inheritdoc />
    public SqlValue Invoke(ReadOnlySpan<SqlValue> arguments, FunctionContext context) =>
        SqlValue.From($"{context.RuleId}/{context.FunctionName}/{arguments[0]}");
}

/// <summary><c>product(x)</c>: an aggregate multiplying the group's numbers.</summary>
public sealed class ProductAggregate : IAggregateFunction
{
    /// <inheritdoc />
    public int MinArguments => 1;

    /// <inheritdoc />
    public int MaxArguments => 1;

    /// <inheritdoc />
    public IAggregateAccumulator CreateAccumulator(FunctionContext context) => new Accumulator();

    private sealed class Accumulator : IAggregateAccumulator
    {
        private double product = 1;

        public void Add(ReadOnlySpan<SqlValue> arguments) => product *= arguments[0].AsDouble();

        public SqlValue GetResult() => SqlValue.From(product);
    }
}

/// <summary>
/// A key=value format: <c>a=1;b=x</c> is one event (integers where they parse), lines are events; encodes rows the
/// same way. Counts decodes in the feed service, to show a SHARED stream decodes once.
/// </summary>
/// <param name="feed">Where decodes are counted.</param>
public sealed class KeyValueFormat(SourceFeed feed) : IFormat
{
    /// <inheritdoc />
    public IReadOnlyList<IReadOnlyDictionary<string, object?>> Decode(ReadOnlyMemory<byte> payload)
    {
        Interlocked.Increment(ref feed.DecodeCount);
        var rows = new List<IReadOnlyDictionary<string, object?>>();
        foreach (var line in Encoding.UTF8.GetString(payload.Span).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var row = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var pair in line.Split(';'))
            {
                var eq = pair.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    throw new FormatException($"`{pair}` is not key=value");
                }

                var text = pair[(eq + 1)..];
                row[pair[..eq]] = long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : text;
            }

            rows.Add(row);
        }

        return rows;
    }

    /// <inheritdoc />
    public ReadOnlyMemory<byte> Encode(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows, bool asSingleRow) =>
        Encoding.UTF8.GetBytes(string.Join("\n", rows.Select(r => string.Join(";", r.Select(f => string.Create(CultureInfo.InvariantCulture, $"{f.Key}={f.Value}"))))));
}

/// <summary>
/// <c>clamp(x, low, high)</c>: x kept within [low, high]. Deterministic (constant calls fold once at rule creation) and
/// validating (constant bounds in the wrong order fail the rule's creation). Counts its calls.
/// </summary>
public sealed class ClampFunction : IFunction
{
    private int calls;

    /// <summary>How often <see cref="Invoke"/> ran.</summary>
    public int Calls => Volatile.Read(ref calls);

    /// <inheritdoc />
    public int MinArguments => 3;

    /// <inheritdoc />
    public int MaxArguments => 3;

    /// <inheritdoc />
    public bool IsDeterministic => true;

    /// <inheritdoc />
    public void Validate(IReadOnlyList<FunctionArgument> arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        foreach (var argument in arguments)
        {
            if (argument.IsConstant && !argument.Value.IsNull && !argument.Value.IsNumber)
            {
                throw new FunctionArgumentException(argument.Index, $"`{argument.Text}` is not a number");
            }
        }

        if (arguments[1].IsConstant && arguments[2].IsConstant && arguments[1].Value.AsDouble() > arguments[2].Value.AsDouble())
        {
            throw new FunctionArgumentException(2, $"the upper bound {arguments[2].Text} is below the lower bound {arguments[1].Text}");
        }
    }

    /// <inheritdoc />
    public SqlValue Invoke(ReadOnlySpan<SqlValue> arguments, FunctionContext context)
    {
        Interlocked.Increment(ref calls);
        if (arguments[0].IsNull)
        {
            return SqlValue.Null;
        }

        return SqlValue.From(Math.Clamp(arguments[0].AsDouble(), arguments[1].AsDouble(), arguments[2].AsDouble()));
    }
}

/// <summary><c>upper(s)</c> replaced: the text upper-cased with a <c>!</c>, to show a built-in overridden on purpose.</summary>
public sealed class ShoutFunction : IFunction
{
    /// <inheritdoc />
    public int MinArguments => 1;

    /// <inheritdoc />
    public int MaxArguments => 1;

    /// <inheritdoc />
    public SqlValue Invoke(ReadOnlySpan<SqlValue> arguments, FunctionContext context) =>
        arguments[0].IsNull ? SqlValue.Null : SqlValue.From(arguments[0].ToString().ToUpperInvariant() + "!");
}

/// <summary><c>wavg(x, weight)</c>: the weighted average of a group, an aggregate taking two arguments per row.</summary>
public sealed class WeightedAverageAggregate : IAggregateFunction
{
    /// <inheritdoc />
    public int MinArguments => 2;

    /// <inheritdoc />
    public int MaxArguments => 2;

    /// <inheritdoc />
    public IAggregateAccumulator CreateAccumulator(FunctionContext context) => new Accumulator();

    private sealed class Accumulator : IAggregateAccumulator
    {
        private double sum;
        private double weights;

        public void Add(ReadOnlySpan<SqlValue> arguments)
        {
            var weight = arguments[1].AsDouble();
            sum += arguments[0].AsDouble() * weight;
            weights += weight;
        }

        public SqlValue GetResult() => weights == 0 ? SqlValue.Null : SqlValue.From(sum / weights);
    }
}
