namespace EdgeStream.Abstractions;

/// <summary>One event of a stream: values by the slots of its <see cref="Schema"/>, its time and its metadata.</summary>
internal sealed class Row(RowSchema schema, Value[] values, long timestamp = 0)
{
    public RowSchema Schema { get; } = schema;

    /// <summary>Values by slot. May be shorter than the schema (a growing schema gained names later): those read as null.</summary>
    public Value[] Values { get; } = values;

    /// <summary>Event or arrival time, Unix milliseconds.</summary>
    public long Timestamp { get; set; } = timestamp;

    /// <summary>Which source of a join rule it came from (0: the FROM stream, i: the i-th joined one).</summary>
    public int Source { get; set; }

    /// <summary>A joined combination: one row (or null) per source of the rule; null for a plain row.</summary>
    public Row?[]? Joined { get; init; }

    /// <summary>The results of the rule's analytic calls on this row, by call (null until computed); see <c>AnalyticCall</c>.</summary>
    public Value?[]? Analytics { get; set; }

    /// <summary>A copy the rule may change (its time, its analytic results) without touching a row other rules share.</summary>
    public Row Copy() => new(Schema, Values, Timestamp) { Source = Source, Meta = Meta };

    /// <summary>Source metadata (<c>meta(topic)</c>…), or null.</summary>
    public ValueObject? Meta { get; set; }

    public Value this[int slot] => (uint)slot < (uint)Values.Length ? Values[slot] : Value.Null;

    /// <summary>The row's fields that have values, by name, in slot order.</summary>
    public IEnumerable<KeyValuePair<string, Value>> Fields()
    {
        for (var i = 0; i < Values.Length; i++)
        {
            yield return new(Schema.NameAt(i), Values[i]);
        }
    }
}
