using EdgeStream.Abstractions;

namespace EdgeStream.Runtime;

/// <summary>
/// The rows a rule holds for one <c>CREATE TABLE</c> source, as eKuiper's scan tables keep them: every row that arrives
/// is added; with <c>KEY</c>, a row replaces the one with the same key (an update in place); with <c>RETAIN_SIZE</c>,
/// only the newest that many rows are kept. A stream row joins with what the table holds when it is processed.
/// </summary>
internal sealed class TableState(string? key, int retainSize)
{
    private readonly List<Row> rows = [];
    private readonly Dictionary<Value, int> byKey = [];

    /// <summary>The rows held, oldest first.</summary>
    public IReadOnlyList<Row> Rows => rows;

    public void Add(Row row)
    {
        if (key is not null && row.Schema.TryGetSlot(key, out var slot) && row[slot] is { IsNull: false } id)
        {
            if (byKey.TryGetValue(id, out var at))
            {
                rows[at] = row;
                return;
            }

            byKey[id] = rows.Count;
        }

        rows.Add(row);
        if (retainSize > 0 && rows.Count > retainSize)
        {
            rows.RemoveRange(0, rows.Count - retainSize);
            if (key is not null)
            {
                Reindex();
            }
        }
    }

    /// <summary>Writes the rows held, for a rule snapshot.</summary>
    public void Save(RuleStateWriter writer) => writer.Write(rows.Select(r => (r, 0L)).ToList());

    /// <summary>Replaces the rows with those <see cref="Save"/> wrote.</summary>
    public void Load(RuleStateReader reader)
    {
        rows.Clear();
        rows.AddRange(reader.ReadRows().Select(r => r.Row));
        if (key is not null)
        {
            Reindex();
        }
    }

    private void Reindex()
    {
        byKey.Clear();
        for (var i = 0; i < rows.Count; i++)
        {
            if (rows[i].Schema.TryGetSlot(key!, out var slot) && rows[i][slot] is { IsNull: false } id)
            {
                byKey[id] = i;
            }
        }
    }
}
