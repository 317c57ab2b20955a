using EdgeStream.Abstractions;

namespace EdgeStream.Compilation;

/// <summary>A compiled expression: reads the current rows (and alias values) of the context, returns a value.</summary>
internal delegate Value Evaluator(EvalContext context);

/// <summary>A runtime error in one row's evaluation (a type mismatch, division by zero). The rule goes on.</summary>
internal sealed class EvaluationException(string message) : Exception(message);

/// <summary>
/// What an expression evaluates against: the current row of each source (FROM first, then each JOIN; null for the
/// missing side of an outer join) and the select aliases, each computed at most once per row on first use — so a
/// stateful expression behind an alias (<c>lag(x) AS l</c>) runs once however often <c>l</c> is read.
/// One context per stage; never shared between threads.
/// </summary>
internal sealed class EvalContext
{
    private readonly Value[] aliasValues;
    private readonly byte[] aliasState;
    private Evaluator[] aliasEvaluators;

    public EvalContext(int sources, int aliases)
    {
        Rows = new Row?[sources];
        aliasValues = new Value[aliases];
        aliasState = new byte[aliases];
        aliasEvaluators = new Evaluator[aliases];
    }

    public Row?[] Rows { get; }

    /// <summary>The rows of the group being projected (a window, or a GROUP BY group of it); null outside windows.</summary>
    public IReadOnlyList<Row>? Group { get; set; }

    /// <summary>The current window's start and end (Unix ms), for <c>window_start()</c> and <c>window_end()</c>.</summary>
    public long WindowStart { get; set; }

    public long WindowEnd { get; set; }

    /// <summary>
    /// The results of the statement's aggregate calls for the current group, when a window computed them as rows
    /// arrived (by <see cref="AggregateSpec.Id"/>); null when aggregates read <see cref="Group"/>.
    /// </summary>
    public Value[]? AggregateValues { get; set; }

    /// <summary>For each aggregate with <see cref="AggregateValues"/>, its error, if it failed.</summary>
    public string?[]? AggregateErrors { get; set; }

    /// <summary><c>row_number()</c>: the current row's place (from 1) in the emission being projected; 0 outside one (reads 1).</summary>
    public long RowNumber { get; set; }

    /// <summary>Whether an aggregate is evaluating its argument on each row of the group (<c>event_time()</c> is then the row's).</summary>
    public bool InAggregate { get; set; }

    /// <summary><c>last_hit_time()</c>: when a row last passed WHERE, or a sliding window last triggered (Unix ms; 0 before).</summary>
    public long LastHitTime { get; set; }

    /// <summary><c>last_hit_count()</c>: how many rows passed WHERE before the current one.</summary>
    public long LastHitCount { get; set; }

    /// <summary><c>last_agg_hit_time()</c>: the end of the last window that passed HAVING (0 before).</summary>
    public long LastAggHitTime { get; set; }

    /// <summary><c>last_agg_hit_count()</c>: how many windows passed HAVING before the current one.</summary>
    public long LastAggHitCount { get; set; }

    internal void SetAliasEvaluators(Evaluator[] evaluators) => aliasEvaluators = evaluators;

    /// <summary>Makes <paramref name="row"/> (a plain row of its source, or a joined combination) current and forgets alias values.</summary>
    public void SetRow(Row row)
    {
        if (row.Joined is { } parts)
        {
            SetParts(parts);
            return;
        }

        if (Rows.Length > 1)
        {
            // A row of one stream of a join: the others are absent.
            Array.Clear(Rows);
        }

        Rows[row.Source] = row;
        Array.Clear(aliasState);
    }

    /// <summary>Makes a joined combination (one row or null per source) current and forgets alias values.</summary>
    public void SetParts(Row?[] parts)
    {
        parts.CopyTo(Rows, 0);
        Array.Clear(aliasState);
    }

    /// <summary>Starts a new row combination (joins): forgets alias values.</summary>
    public void ResetAliases() => Array.Clear(aliasState);

    public Value Alias(int index)
    {
        switch (aliasState[index])
        {
            case 2:
                return aliasValues[index];
            case 1:
                throw new EvaluationException("alias refers to itself");
            default:
                aliasState[index] = 1;
                try
                {
                    var value = aliasEvaluators[index](this);
                    aliasValues[index] = value;
                    aliasState[index] = 2;
                    return value;
                }
                catch
                {
                    aliasState[index] = 0;
                    throw;
                }
        }
    }
}
