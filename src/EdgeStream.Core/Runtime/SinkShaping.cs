using System.Globalization;
using System.Text.Json;
using EdgeStream.Abstractions;
using EdgeStream.Sql;

namespace EdgeStream.Runtime;

/// <summary>
/// eKuiper's common sink properties, applied in Core for every sink so connectors implement only their I/O:
/// <c>fields</c> (keep these columns, in this order), <c>excludeFields</c> (drop these), <c>dataField</c> (send
/// the value of this field of each row instead of the row), <c>omitIfEmpty</c> (skip empty emissions) and
/// <c>sendSingle</c> (one emission per row).
/// </summary>
internal sealed class SinkShaping
{
    /// <summary>The properties every sink accepts (eKuiper's documented common sink properties).</summary>
    public static readonly string[] CommonProperties =
    [
        "sendSingle", "omitIfEmpty", "fields", "excludeFields", "dataField", "dataTemplate", "format", "schemaId",
        "delimiter", "hasHeader", "batchSize", "lingerInterval", "bufferLength", "concurrency", "runAsync", "compression",
        "encryption", "enableCache", "memoryCacheThreshold", "maxDiskCache", "bufferPageSize", "resendInterval",
        "cleanCacheAtStop", "resendAlterQueue", "resendPriority", "resendIndicatorField", "resendDestination",
    ];

    /// <summary>
    /// Common properties that shaping and encoding do not apply. A sink runner applies most of them
    /// (<see cref="SinkRunner.RunnerProperties"/>, for registered sinks); the rest, and all of them on the built-in
    /// sinks, which have no runner, are accepted with a warning that they are not applied.
    /// </summary>
    internal static readonly string[] NotApplied =
    [
        "schemaId", "batchSize", "lingerInterval", "bufferLength", "concurrency",
        "runAsync", "compression", "encryption", "enableCache", "memoryCacheThreshold", "maxDiskCache", "bufferPageSize",
        "resendInterval", "cleanCacheAtStop", "resendAlterQueue", "resendPriority", "resendIndicatorField", "resendDestination",
    ];

    private readonly string[]? fields;
    private readonly HashSet<string>? excluded;
    private readonly string? dataField;
    private readonly bool omitIfEmpty;
    private readonly bool sendSingle;

    private SinkShaping(RuleAction action)
    {
        var p = action.Properties;
        fields = p.TryGetValue("fields", out var f) ? Names(action, "fields", f) : null;
        excluded = p.TryGetValue("excludeFields", out var x) ? Names(action, "excludeFields", x).ToHashSet(StringComparer.Ordinal) : null;
        dataField = p.TryGetValue("dataField", out var d) && d.Length > 0 ? d : null;
        omitIfEmpty = Bool(action, "omitIfEmpty");
        sendSingle = Bool(action, "sendSingle");
    }

    /// <summary>Checks the action's property names against the sink's own (case-insensitive, as eKuiper maps them) and the common ones, then builds the shaping.</summary>
    /// <exception cref="ArgumentException">A property name is unknown (the message names the closest) or a value is invalid.</exception>
    /// <param name="action">The action.</param>
    /// <param name="sinkProperties">The sink's own property names; null when the sink accepts any.</param>
    /// <param name="warnings">Receives a line per property accepted but not applied.</param>
    /// <param name="applied">Common properties that are applied by whoever runs this sink (its runner).</param>
    public static SinkShaping Create(RuleAction action, IReadOnlyCollection<string>? sinkProperties, IList<string> warnings, IReadOnlyCollection<string>? applied = null)
    {
        foreach (var name in action.Properties.Keys)
        {
            if (sinkProperties is null || sinkProperties.Contains(name, StringComparer.OrdinalIgnoreCase) || CommonProperties.Contains(name, StringComparer.Ordinal))
            {
                if (NotApplied.Contains(name, StringComparer.Ordinal) && applied?.Contains(name) != true)
                {
                    warnings.Add($"sink property `{name}` of `{action.SinkType}` is accepted but not applied yet");
                }

                continue;
            }

            var closest = SqlNames.Closest(name, sinkProperties.Concat(CommonProperties));
            throw new ArgumentException(
                $"unknown property `{name}` for sink `{action.SinkType}`{(closest is null ? string.Empty : $"; did you mean `{closest}`?")}",
                nameof(action));
        }

        return new SinkShaping(action);
    }

    /// <summary>True when no property changes emissions: the sink then takes them as they are, with no per-emission work.</summary>
    public bool IsIdentity => fields is null && excluded is null && dataField is null && !omitIfEmpty && !sendSingle;

    /// <summary>Whether <see cref="Shape"/> would give back just this emission: one row, with no field changes (the stateless rule's case).</summary>
    public bool KeepsAsIs(IReadOnlyList<ValueObject> emission) => emission.Count == 1 && fields is null && excluded is null && dataField is null;

    /// <summary>The emissions to send for one result emission (none, one, or one per row).</summary>
    public IEnumerable<IReadOnlyList<ValueObject>> Shape(IReadOnlyList<ValueObject> emission)
    {
        var rows = fields is null && excluded is null && dataField is null ? emission : emission.Select(ShapeRow).ToList();
        if (rows.Count == 0)
        {
            if (!omitIfEmpty)
            {
                yield return rows;
            }

            yield break;
        }

        if (!sendSingle || rows.Count == 1)
        {
            yield return rows; // one row is already a single-row emission
            yield break;
        }

        foreach (var row in rows)
        {
            yield return [row];
        }
    }

    private ValueObject ShapeRow(ValueObject row)
    {
        if (dataField is not null)
        {
            // The value of one field, which must be an object to stay a row; anything else is wrapped under its name.
            var value = row[dataField];
            return value.Kind == ValueKind.Object ? value.AsObject : new ValueObject(1) { [dataField] = value };
        }

        var shaped = new ValueObject(fields?.Length ?? row.Count);
        if (fields is not null)
        {
            foreach (var name in fields)
            {
                if (row.TryGet(name, out var v))
                {
                    shaped[name] = v;
                }
            }
        }
        else
        {
            for (var i = 0; i < row.Count; i++)
            {
                if (!excluded!.Contains(row.KeyAt(i)))
                {
                    shaped.Add(row.KeyAt(i), row.ValueAt(i));
                }
            }
        }

        return shaped;
    }

    /// <summary>A list of names: a JSON array of strings (as rule JSON gives it) or comma-separated text.</summary>
    private static string[] Names(RuleAction action, string property, string text)
    {
        var trimmed = text.Trim();
        if (trimmed.StartsWith('['))
        {
            try
            {
                using var doc = JsonDocument.Parse(trimmed);
                return doc.RootElement.EnumerateArray().Select(e => e.GetString() ?? throw new FormatException()).ToArray();
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
            {
                throw new ArgumentException($"sink `{action.SinkType}`: `{property}` must be a list of field names", nameof(action), e);
            }
        }

        return trimmed.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    private static bool Bool(RuleAction action, string property) =>
        !action.Properties.TryGetValue(property, out var text) || text.Length == 0
            ? false
            : bool.TryParse(text, out var value)
                ? value
                : throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"sink `{action.SinkType}`: `{property}` must be true or false, not `{text}`"), nameof(action));
}

/// <summary>A sink behind the common properties: shapes each emission, then hands it to the sink's I/O.</summary>
internal sealed class ShapedSink(IRuleSink inner, SinkShaping shaping, OperatorMetrics metrics) : IRuleSink
{
    public OperatorMetrics Metrics => metrics;

    /// <summary>How the sink takes results (rows or payloads, write semantics), for the plan text; null for built-ins.</summary>
    public string? Description { get; init; }

    /// <summary>Whether writing a result twice leaves the destination as writing it once (idempotent writes): what <c>qos</c> 2 needs.</summary>
    public bool Idempotent { get; init; }

    public void Start()
    {
        metrics.Reset();
        inner.Start();
    }

    public Task Opened => inner.Opened;

    public Task StopAsync(CancellationToken cancellationToken) => inner.StopAsync(cancellationToken);

    public Task DrainedAsync(CancellationToken cancellationToken) => inner.DrainedAsync(cancellationToken);

    public ValueTask SendAsync(IReadOnlyList<ValueObject> emission, CancellationToken cancellationToken)
    {
        metrics.AddIn(); // eKuiper counts a sink's records by message (an emission), not by row
        return shaping.IsIdentity || shaping.KeepsAsIs(emission) ? inner.SendAsync(emission, cancellationToken) : SendShapedAsync(emission, cancellationToken);
    }

    public ValueTask SendManyAsync(IReadOnlyList<IReadOnlyList<ValueObject>> emissions, CancellationToken cancellationToken)
    {
        if (!shaping.IsIdentity)
        {
            for (var i = 0; i < emissions.Count; i++)
            {
                if (!shaping.KeepsAsIs(emissions[i]))
                {
                    return SendEachAsync(emissions, cancellationToken);
                }
            }
        }

        metrics.AddIn(emissions.Count);
        return inner.SendManyAsync(emissions, cancellationToken);
    }

    private async ValueTask SendEachAsync(IReadOnlyList<IReadOnlyList<ValueObject>> emissions, CancellationToken cancellationToken)
    {
        for (var i = 0; i < emissions.Count; i++)
        {
            await SendAsync(emissions[i], cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask SendShapedAsync(IReadOnlyList<ValueObject> emission, CancellationToken cancellationToken)
    {
        foreach (var shaped in shaping.Shape(emission))
        {
            await inner.SendAsync(shaped, cancellationToken).ConfigureAwait(false);
        }
    }
}
