using EdgeStream.Abstractions;
using EdgeStream.Compilation;
using EdgeStream.Runtime.Json;

namespace EdgeStream.Tests.Compilation;

/// <summary>
/// eKuiper's expression semantics as data (<c>Data/expression-cases.txt</c>): each expression is compiled once and
/// evaluated against the row of the nearest <c>@row</c> line above it, on a schemaless stream.
/// </summary>
public sealed class ExpressionSemanticsTests
{
    public static IEnumerable<TestCaseData> Cases()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Data", "expression-cases.txt");
        var row = "{}";
        var lineNumber = 0;
        foreach (var raw in File.ReadLines(path))
        {
            lineNumber++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            if (line.StartsWith("@row ", StringComparison.Ordinal))
            {
                row = line["@row ".Length..].Trim();
                continue;
            }

            var at = line.IndexOf('⇒', StringComparison.Ordinal);
            if (at < 0)
            {
                throw new FormatException($"expression-cases.txt:{lineNumber}: no ⇒ in `{line}`");
            }

            yield return new TestCaseData(row, line[..at].Trim(), line[(at + 1)..].Trim()).SetArgDisplayNames($"line {lineNumber}: {line[..at].Trim()}");
        }
    }

    /// <summary>Evaluates <paramref name="expression"/> against a schemaless row given as JSON (as the function cases do).</summary>
    internal static Value Evaluate(string rowJson, string expression) =>
        Functions.FunctionCaseTests.Evaluate(rowJson, expression, TimeProvider.System, TimeZoneInfo.Utc);

    [TestCaseSource(nameof(Cases))]
    public void Expression_evaluates_as_ekuiper_does(string row, string expression, string expected)
    {
        if (expected.StartsWith('!'))
        {
            var fragment = expected[1..].Trim();
            try
            {
                var value = Evaluate(row, expression);
                Assert.Fail($"expected an error containing `{fragment}`, got {value.Describe()}");
            }
            catch (EvaluationException e)
            {
                Assert.That(e.Message, Does.Contain(fragment).IgnoreCase);
            }
            catch (SqlException e)
            {
                // Caught earlier than eKuiper does it: at bind time, from literal types. Stricter is fine.
                Assert.That(e.Code, Is.EqualTo(SqlErrorCode.TypeMismatch).Or.EqualTo(SqlErrorCode.InvalidUse), e.Message);
            }

            return;
        }

        var actual = Evaluate(row, expression);
        Assert.That(ValueComparer.Same(JsonValueReader.Parse(expected), actual), Is.True,
            $"expected {expected}, got {actual.Describe()}");
    }
}

/// <summary>Compares values as the conformance harness does: numbers by value within 1e-9 relative, an integer never equals a float.</summary>
internal static class ValueComparer
{
    public static bool Same(Value expected, Value actual)
    {
        if (expected.Kind != actual.Kind)
        {
            return false;
        }

        switch (expected.Kind)
        {
            case ValueKind.Float:
                var (a, b) = (expected.AsFloat, actual.AsFloat);
                return a.Equals(b) || Math.Abs(a - b) <= 1e-9 * Math.Max(Math.Abs(a), Math.Abs(b));
            case ValueKind.Array:
                var (x, y) = (expected.AsArray, actual.AsArray);
                return x.Length == y.Length && x.Zip(y).All(p => Same(p.First, p.Second));
            case ValueKind.Object:
                var (o, p2) = (expected.AsObject, actual.AsObject);
                return o.Count == p2.Count && o.Fields.All(f => p2.TryGet(f.Key, out var v) && Same(f.Value, v));
            default:
                return expected.Equals(actual);
        }
    }
}
