using System.Globalization;
using System.Text.Json;

namespace EdgeStream.Testing;

/// <summary>
/// Compares emissions as the conformance corpus prescribes: emissions and rows in order (optionally rows of an
/// emission as a multiset, for GROUP BY results without ORDER BY, whose group order is unspecified); numbers by value
/// within 1e-9 relative, and an integer never equals a float; a row with an <c>error</c> key matches any error row.
/// </summary>
public static class EmissionComparer
{
    /// <summary>Compares two JSON arrays of emissions (each an array of row objects).</summary>
    /// <param name="expected">The expected emissions.</param>
    /// <param name="actual">The actual emissions.</param>
    /// <param name="rowOrderMatters">False to compare the rows of each emission as a multiset.</param>
    /// <returns>Null when they match; otherwise what differs first, in words.</returns>
    public static string? Compare(JsonElement expected, JsonElement actual, bool rowOrderMatters = true)
    {
        if (expected.ValueKind != JsonValueKind.Array || actual.ValueKind != JsonValueKind.Array)
        {
            return "emissions must be JSON arrays";
        }

        var want = expected.EnumerateArray().ToList();
        var got = actual.EnumerateArray().ToList();
        if (want.Count != got.Count)
        {
            return string.Create(CultureInfo.InvariantCulture, $"expected {want.Count} emissions, got {got.Count}");
        }

        for (var i = 0; i < want.Count; i++)
        {
            var rowsWanted = want[i].EnumerateArray().ToList();
            var rowsGot = got[i].EnumerateArray().ToList();
            if (rowsWanted.Count != rowsGot.Count)
            {
                return string.Create(CultureInfo.InvariantCulture, $"emission {i}: expected {rowsWanted.Count} rows, got {rowsGot.Count}");
            }

            if (rowOrderMatters)
            {
                for (var j = 0; j < rowsWanted.Count; j++)
                {
                    if (!SameRow(rowsWanted[j], rowsGot[j]))
                    {
                        return string.Create(CultureInfo.InvariantCulture, $"emission {i} row {j}: expected {ResultJson.Compact(rowsWanted[j])}, got {ResultJson.Compact(rowsGot[j])}");
                    }
                }
            }
            else
            {
                var unused = rowsGot.ToList();
                foreach (var row in rowsWanted)
                {
                    var match = unused.FindIndex(r => SameRow(row, r));
                    if (match < 0)
                    {
                        return string.Create(CultureInfo.InvariantCulture, $"emission {i}: no row matches {ResultJson.Compact(row)}");
                    }

                    unused.RemoveAt(match);
                }
            }
        }

        return null;
    }

    private static bool SameRow(JsonElement expected, JsonElement actual)
    {
        if (expected.ValueKind == JsonValueKind.Object && expected.TryGetProperty("error", out _))
        {
            return actual.ValueKind == JsonValueKind.Object && actual.TryGetProperty("error", out _);
        }

        return Same(expected, actual);
    }

    /// <summary>Whether two JSON values are equal under the corpus rules.</summary>
    /// <param name="expected">The expected value.</param>
    /// <param name="actual">The actual value.</param>
    /// <returns>True when they match.</returns>
    public static bool Same(JsonElement expected, JsonElement actual)
    {
        if (expected.ValueKind != actual.ValueKind)
        {
            return false;
        }

        switch (expected.ValueKind)
        {
            case JsonValueKind.Number:
                var (a, b) = (expected.GetRawText(), actual.GetRawText());
                if (IsInteger(a) != IsInteger(b))
                {
                    return false;
                }

                if (IsInteger(a) && expected.TryGetInt64(out var x) && actual.TryGetInt64(out var y))
                {
                    return x == y;
                }

                var (d1, d2) = (expected.GetDouble(), actual.GetDouble());
                return d1.Equals(d2) || Math.Abs(d1 - d2) <= 1e-9 * Math.Max(Math.Abs(d1), Math.Abs(d2));
            case JsonValueKind.String:
                return expected.GetString() == actual.GetString();
            case JsonValueKind.Array:
                var (l1, l2) = (expected.EnumerateArray().ToList(), actual.EnumerateArray().ToList());
                return l1.Count == l2.Count && l1.Zip(l2).All(p => Same(p.First, p.Second));
            case JsonValueKind.Object:
                var props = expected.EnumerateObject().ToList();
                return props.Count == actual.EnumerateObject().Count()
                    && props.All(p => actual.TryGetProperty(p.Name, out var v) && Same(p.Value, v));
            default:
                return true;
        }
    }

    private static bool IsInteger(string number) => number.AsSpan().IndexOfAny('.', 'e', 'E') < 0;
}
