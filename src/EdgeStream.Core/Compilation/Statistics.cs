using EdgeStream.Abstractions;

namespace EdgeStream.Compilation;

/// <summary>
/// The statistical aggregates, over a group's non-null numbers, as floats: <c>stddev</c>/<c>var</c> (population),
/// <c>stddevs</c>/<c>vars</c> (sample: null below two values), <c>median</c>, <c>percentile_cont(x, p)</c> (linear
/// interpolation between the two nearest ranks) and <c>percentile_disc(x, p)</c> (the first value whose cumulative
/// share reaches p). A group without numbers gives null; a value that is not a number is an error.
/// </summary>
internal static class Statistics
{
    public static Value Apply(string name, Value[] values, Value[] settings)
    {
        var numbers = new List<double>(values.Length);
        foreach (var value in values)
        {
            if (value.IsNull)
            {
                continue;
            }

            if (!value.IsNumber)
            {
                throw new EvaluationException($"run {name} function error: requires number but found {value.Describe()}");
            }

            numbers.Add(value.AsDouble);
        }

        if (name is "percentile_cont" or "percentile_disc")
        {
            var p = settings is [{ IsNumber: true } fraction] ? fraction.AsDouble
                : throw new EvaluationException($"{name}'s second argument must be a number between 0 and 1");
            if (p is < 0 or > 1 || double.IsNaN(p))
            {
                throw new EvaluationException($"{name}'s second argument must be between 0 and 1, not {p.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
            }

            return numbers.Count == 0 ? Value.Null : Value.From(name == "percentile_cont" ? Continuous(numbers, p) : Discrete(numbers, p));
        }

        if (numbers.Count == 0)
        {
            return Value.Null;
        }

        switch (name)
        {
            case "median":
                return Value.From(Continuous(numbers, 0.5));
            case "var" or "stddev":
                {
                    var variance = SquaredDeviations(numbers) / numbers.Count;
                    return Value.From(name == "var" ? variance : Math.Sqrt(variance));
                }

            default:
                {
                    if (numbers.Count < 2)
                    {
                        return Value.Null;
                    }

                    var variance = SquaredDeviations(numbers) / (numbers.Count - 1);
                    return Value.From(name == "vars" ? variance : Math.Sqrt(variance));
                }
        }
    }

    /// <summary>The sum of squared deviations from the mean, computed in two passes for accuracy.</summary>
    private static double SquaredDeviations(List<double> numbers)
    {
        var mean = numbers.Average();
        var sum = 0.0;
        foreach (var x in numbers)
        {
            sum += (x - mean) * (x - mean);
        }

        return sum;
    }

    private static double Continuous(List<double> numbers, double p)
    {
        numbers.Sort();
        var index = p * (numbers.Count - 1);
        var lower = (int)Math.Floor(index);
        var upper = (int)Math.Ceiling(index);
        return numbers[lower] + ((index - lower) * (numbers[upper] - numbers[lower]));
    }

    private static double Discrete(List<double> numbers, double p)
    {
        numbers.Sort();
        var index = Math.Max(0, (int)Math.Ceiling(p * numbers.Count) - 1);
        return numbers[index];
    }
}
