using EdgeStream.Abstractions;
using EdgeStream.Compilation;

namespace EdgeStream.Tests.Compilation;

/// <summary>
/// The laws the pane windows rely on, for every built-in aggregate with an accumulator, on random values: adding a
/// sequence equals merging the states of any split of it (in order), merging an empty state changes nothing, and the
/// result equals the general aggregate over the same values. (No aggregate retracts: panes never remove rows.)
/// </summary>
public sealed class AccumulatorLawTests
{
    private static readonly string[] Names =
        ["count", "sum", "avg", "min", "max", "collect", "last_value", "median", "stddev", "stddevs", "var", "vars", "percentile_cont", "percentile_disc"];

    private static Value[] OptionsOf(string name) => name switch
    {
        "last_value" => [Value.From(true)],
        "percentile_cont" or "percentile_disc" => [Value.From(0.3)],
        _ => [],
    };

    [Test]
    public void Adding_a_sequence_equals_merging_the_states_of_its_parts([ValueSource(nameof(Names))] string name, [Range(1, 12)] int seed)
    {
        var random = new Random(seed);
        var values = RandomValues(random, name);
        var split = random.Next(values.Length + 1);
        var whole = Accumulate(name, values);
        var left = Accumulate(name, values[..split]);
        left.Merge(Accumulate(name, values[split..]));
        left.Merge(Accumulator.Create(name)!);
        Assert.That(Show(left.Result(OptionsOf(name))), Is.EqualTo(Show(whole.Result(OptionsOf(name)))), $"{name} over {values.Length} values split at {split}");
    }

    [Test]
    public void An_accumulator_gives_what_the_general_aggregate_gives([ValueSource(nameof(Names))] string name, [Range(1, 12)] int seed)
    {
        var values = RandomValues(new Random(100 + seed), name);
        var rows = values.Select(v => new Row(Schema, [v])).ToList();
        var context = new EvalContext(1, 0) { Group = rows };
        context.SetRow(rows.Count > 0 ? rows[0] : new Row(Schema, [Value.Null]));
        var options = OptionsOf(name).Select(o => (Evaluator)(_ => o)).ToArray();
        var general = Aggregates.Compile(name, ctx => ctx.Rows[0]![0], options, null)(context);
        Assert.That(Show(Accumulate(name, values).Result(OptionsOf(name))), Is.EqualTo(Show(general)));
    }

    [Test]
    public void A_value_an_aggregate_cannot_take_fails_it_after_any_merge()
    {
        var first = Accumulate("sum", [Value.From(1L)]);
        first.Merge(Accumulate("sum", [Value.From("x"), Value.From(2L)]));
        Assert.That(() => first.Result([]), Throws.InstanceOf<EvaluationException>().With.Message.EqualTo("run sum function error: requires number but found string(x)"));
    }

    private static readonly RowSchema Schema = RowSchema.Fixed(["x"]);

    private static Accumulator Accumulate(string name, Value[] values)
    {
        var accumulator = Accumulator.Create(name)!;
        foreach (var value in values)
        {
            accumulator.Add(value);
        }

        return accumulator;
    }

    /// <summary>Integers, floats and nulls for numeric aggregates; min/max also get strings-only sequences.</summary>
    private static Value[] RandomValues(Random random, string name)
    {
        var count = random.Next(0, 30);
        var strings = name is "min" or "max" && random.Next(3) == 0;
        var integers = random.Next(2) == 0;
        return Enumerable.Range(0, count).Select(_ => random.Next(7) == 0 ? Value.Null
            : strings ? Value.From(((char)('a' + random.Next(26))).ToString())
            : integers ? Value.From((long)random.Next(-50, 50))
            : Value.From(Math.Round((random.NextDouble() * 200) - 100, 3))).ToArray();
    }

    /// <summary>A result as text, floats to 10 significant digits (merging adds partial sums in another order).</summary>
    private static string Show(Value value) => value.Kind switch
    {
        ValueKind.Float => value.AsDouble.ToString("G10", System.Globalization.CultureInfo.InvariantCulture),
        ValueKind.Array => "[" + string.Join(",", value.AsArray.Select(Show)) + "]",
        _ => value.Kind + ":" + value.Describe(),
    };
}
