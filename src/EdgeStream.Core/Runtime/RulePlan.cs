using EdgeStream.Abstractions;
using EdgeStream.Compilation;
using EdgeStream.Planning;
using EdgeStream.Sql.Ast;

namespace EdgeStream.Runtime;

/// <summary>
/// What a stateless rule runs per event, compiled once: decode, WHERE, then the select list into a result row.
/// Windows, joins, aggregates and functions are rejected at creation until the issues that add them land.
/// </summary>
internal sealed class RulePlan
{
    private readonly BoundSelect bound;
    private readonly Evaluator? where;
    private readonly (string Name, int Index, bool Invisible)[] fields;
    private readonly bool hasStar;

    private RulePlan(BoundSelect bound, RowDecoder decoder, ExpressionCompiler compiler)
    {
        this.bound = bound;
        Decoder = decoder;
        Compiler = compiler;
        where = bound.Statement.Where is null ? null : compiler.Compile(bound.Statement.Where);
        fields = bound.Fields.Select((f, i) => (f.Name, i, f.Invisible)).Where(f => bound.Statement.Fields[f.i].Expr is not Wildcard).ToArray();
        hasStar = bound.Statement.Fields.Any(f => f.Expr is Wildcard);

        // Compile every item now, so an unsupported construct fails rule creation rather than the first event.
        compiler.CompileFields();
    }

    public RowDecoder Decoder { get; }

    /// <summary>Whether the statement has a WHERE clause (a filter operator in eKuiper's plan).</summary>
    public bool HasFilter => where is not null;

    public ExpressionCompiler Compiler { get; }

    public StreamDefinition Source => bound.Sources[0].Definition;

    public SelectStatement Statement => bound.Statement;

    /// <param name="bound">The bound statement.</param>
    /// <param name="ruleId">The rule, for user functions' context.</param>
    /// <param name="format">The stream's payload format; null for JSON.</param>
    /// <param name="shared">The decoder of a <c>SHARED</c> stream, whose rows every rule of the stream reads; null to make one.</param>
    public static RulePlan Create(BoundSelect bound, string ruleId = "", IFormat? format = null, RowDecoder? shared = null)
    {
        var statement = bound.Statement;
        Reject(statement.GroupBy?.Window is { } w ? w.Span : null, "windows (GROUP BY …WINDOW) are not implemented yet");
        Reject(statement.Joins.IsEmpty ? null : statement.Joins[0].Span, "joins are not implemented yet");
        Reject(statement.Having?.Span, "HAVING is not implemented yet");
        Reject(statement.OrderBy.IsEmpty ? null : statement.OrderBy[0].Span, "ORDER BY is not implemented yet");
        Reject(statement.Limit is null ? null : statement.Span, "LIMIT is not implemented yet");
        var decoder = shared ?? new RowDecoder(bound.Sources[0].Definition, UsedColumns(bound), format);
        return new RulePlan(bound, decoder, new ExpressionCompiler(bound, [decoder.Schema], ruleId));
    }

    /// <summary>The columns the statement reads, or null when it reads them all (a <c>*</c> anywhere).</summary>
    private static HashSet<string>? UsedColumns(BoundSelect bound)
    {
        if (bound.Types.Keys.Any(e => e is Wildcard) || bound.Statement.Fields.Any(f => f.Expr is Wildcard))
        {
            return null;
        }

        return bound.Names.Values.Where(n => n.Column is not null).Select(n => n.Column!.Name).ToHashSet(StringComparer.Ordinal);
    }

    private static void Reject(Diagnostics.SourceSpan? span, string reason)
    {
        if (span is { } at)
        {
            throw BindError.At(at, SqlErrorCode.InvalidUse, reason);
        }
    }

    /// <summary>The column that carries an event's metadata with <c>sendMetaToSink</c>.</summary>
    public const string MetaColumn = "__meta";

    /// <summary>Whether the current row passes WHERE.</summary>
    /// <exception cref="EvaluationException">WHERE failed on this row.</exception>
    public bool Filter(EvalContext context) => where is null || Operators.IsTrue(where(context));

    /// <summary>The result row of the current row: <c>*</c> expands to its fields, null columns are left out unless asked.</summary>
    /// <exception cref="EvaluationException">A select item failed on this row.</exception>
    public ValueObject Project(EvalContext context, bool sendNilField, bool sendMeta = false)
    {
        var result = new ValueObject(fields.Length);
        if (hasStar)
        {
            var row = context.Rows[0]!;
            for (var slot = 0; slot < row.Values.Length; slot++)
            {
                var value = row.Values[slot];
                if (!value.IsNull || sendNilField)
                {
                    result[row.Schema.NameAt(slot)] = value;
                }
            }
        }

        foreach (var (name, index, invisible) in fields)
        {
            var value = context.Alias(index);
            if (!invisible && (!value.IsNull || sendNilField))
            {
                result[name] = value;
            }
        }

        if (sendMeta && context.Rows[0]?.Meta is { } meta)
        {
            result[MetaColumn] = Value.From(meta);
        }

        return result;
    }
}
