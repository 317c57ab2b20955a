using System.Text.Json;
using EdgeStream.Testing;

namespace EdgeStream.Tests.Conformance;

public sealed class EmissionComparerTests
{
    private static string? Compare(string expected, string actual, bool ordered = true)
    {
        using var e = JsonDocument.Parse(expected);
        using var a = JsonDocument.Parse(actual);
        return EmissionComparer.Compare(e.RootElement, a.RootElement, ordered);
    }

    [Test]
    public void Equal_emissions_match_whatever_the_key_order()
    {
        Assert.That(Compare("""[[{"a": 1, "b": "x"}], []]""", """[[{"b": "x", "a": 1}], []]"""), Is.Null);
    }

    [Test]
    public void Swapped_rows_fail_where_order_matters_and_match_as_a_multiset()
    {
        const string Expected = """[[{"a": 1}, {"a": 2}]]""";
        const string Swapped = """[[{"a": 2}, {"a": 1}]]""";
        Assert.That(Compare(Expected, Swapped), Is.EqualTo("""emission 0 row 0: expected {"a":1}, got {"a":2}"""));
        Assert.That(Compare(Expected, Swapped, ordered: false), Is.Null);
        Assert.That(Compare(Expected, """[[{"a": 2}, {"a": 2}]]""", ordered: false), Is.EqualTo("""emission 0: no row matches {"a":1}"""));
    }

    [TestCase("""[[{"a": 1}]]""", """[[{"a": 2}]]""")]
    [TestCase("""[[{"a": 1.5}]]""", """[[{"a": 1.5001}]]""")]
    [TestCase("""[[{"a": 1}]]""", """[[{"a": 1.0}]]""")]
    [TestCase("""[[{"a": 1.0}]]""", """[[{"a": 1}]]""")]
    [TestCase("""[[{"a": "1"}]]""", """[[{"a": 1}]]""")]
    [TestCase("""[[{"a": 1}]]""", """[[{"a": 1, "b": 2}]]""")]
    [TestCase("""[[{"a": 1}]]""", """[[{"a": 1}], []]""")]
    [TestCase("""[[{"a": [1, 2]}]]""", """[[{"a": [2, 1]}]]""")]
    [TestCase("""[[{"a": 1}]]""", """[[]]""")]
    public void A_changed_number_type_or_shape_fails(string expected, string actual)
    {
        Assert.That(Compare(expected, actual), Is.Not.Null);
    }

    [Test]
    public void Floats_match_within_a_relative_tolerance()
    {
        Assert.That(Compare("""[[{"a": 0.1}]]""", """[[{"a": 0.10000000000000001}]]"""), Is.Null);
        Assert.That(Compare("""[[{"a": 1e20}]]""", """[[{"a": 1.00000000000000001e20}]]"""), Is.Null);
    }

    [Test]
    public void Error_rows_match_on_the_key_only()
    {
        Assert.That(Compare("""[[{"error": "eKuiper's words"}]]""", """[[{"error": "ours"}]]"""), Is.Null);
        Assert.That(Compare("""[[{"error": "x"}]]""", """[[{"a": 1}]]"""), Is.Not.Null);
    }

    [Test]
    public void Results_are_encoded_like_the_corpus()
    {
        var json = ResultJson.Write([[new Dictionary<string, object?> { ["i"] = 3L, ["f"] = 3.0, ["g"] = 2.5, ["b"] = new byte[] { 1, 2 }, ["n"] = null }]]);
        Assert.That(json, Is.EqualTo("""[[{"i":3,"f":3.0,"g":2.5,"b":{"$base64":"AQI="},"n":null}]]"""));
    }

    [TestCase("SELECT a FROM s", true)]
    [TestCase("SELECT count(*) FROM s GROUP BY TUMBLINGWINDOW(ss, 10)", true)]
    [TestCase("SELECT color, count(*) FROM s GROUP BY TUMBLINGWINDOW(ss, 10), color", false)]
    [TestCase("SELECT color FROM s GROUP BY color, HOPPINGWINDOW(ss, 2, 1) HAVING count(*) > 1", false)]
    [TestCase("SELECT color FROM s GROUP BY SlidingWindow(ss, 2) OVER (WHEN a > 1), color ORDER BY color", true)]
    public void Group_order_is_free_only_for_keyed_groups_without_order_by(string sql, bool ordered)
    {
        Assert.That(CaseReplayer.RowOrderMatters(sql), Is.EqualTo(ordered));
    }
}
