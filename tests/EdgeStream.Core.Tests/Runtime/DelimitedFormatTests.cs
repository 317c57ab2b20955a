using System.Text;
using EdgeStream.Runtime;
using EdgeStream.Tests.DependencyInjection;

namespace EdgeStream.Tests.Runtime;

/// <summary>
/// eKuiper's <c>delimited</c> format: streams with <c>FORMAT="DELIMITED"</c> and <c>DELIMITER</c>, and sinks with
/// <c>format: delimited</c>, <c>delimiter</c> and <c>hasHeader</c>.
/// </summary>
public sealed class DelimitedFormatTests
{
    private static async Task<(List<IReadOnlyDictionary<string, object?>> Rows, RuleStatus Status)> Read(string ddl, string sql, int expected, params string[] payloads)
    {
        await using var engine = new EdgeStreamEngine();
        engine.Execute(ddl);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var output = engine.Memory.Subscribe("out", stop.Token);
        var rule = new RuleDefinition("r", sql);
        rule.Actions.Add(new RuleAction("memory", new Dictionary<string, string> { ["topic"] = "out" }));
        await engine.CreateRuleAsync(rule);
        foreach (var payload in payloads)
        {
            await engine.PublishJsonAsync("s", Encoding.UTF8.GetBytes(payload));
        }

        var rows = await ExtensionContractTests.Take(output, expected);
        await engine.StopRuleAsync("r");
        return (rows, engine.GetRuleStatus("r"));
    }

    [Test]
    public async Task A_typed_stream_maps_fields_to_columns_by_position_and_parses_each_to_its_type()
    {
        var (rows, status) = await Read(
            "CREATE STREAM s (id BIGINT, name STRING, temp FLOAT, ok BOOLEAN) WITH (DATASOURCE=\"in\", TYPE=\"memory\", FORMAT=\"DELIMITED\", DELIMITER=\";\")",
            "SELECT id + 1 AS next, name, temp * 2 AS t, ok FROM s",
            4,
            "1;ann; 20.5;true",
            "2;bob;;0;extra;fields\r\n3;  cy  ;1e2\n\n", // one payload, two lines; a blank line is not an event
            "4");

        Assert.That(rows.Select(r => (r["next"], r.GetValueOrDefault("name"), r.GetValueOrDefault("t"), r.GetValueOrDefault("ok"))), Is.EqualTo(new[]
        {
            ((object?)2L, (object?)"ann", (object?)41.0, (object?)true),
            (3L, "bob", null, false),        // an empty FLOAT is null; fields past the schema are ignored
            (4L, "  cy  ", 200.0, null),     // a string keeps its spaces; a missing field is null
            (5L, null, null, null),          // (null columns are left out of the output, as in eKuiper)
        }));
        Assert.That(status.Errors, Is.Zero);
    }

    [Test]
    public async Task A_schemaless_stream_names_the_fields_col0_col1_and_keeps_them_as_text()
    {
        var (rows, _) = await Read(
            "CREATE STREAM s () WITH (DATASOURCE=\"in\", TYPE=\"memory\", FORMAT=\"delimited\", DELIMITER=\"\\t\")",
            "SELECT col0, col2, cast(col1, \"bigint\") + 1 AS n FROM s",
            1,
            "#\t41\t1670170500");

        Assert.That(rows[0], Is.EqualTo(new Dictionary<string, object?> { ["col0"] = "#", ["col2"] = "1670170500", ["n"] = 42L }));
    }

    [Test]
    public async Task A_comma_is_the_default_and_text_that_is_not_a_number_fails_strict_validation_only()
    {
        const string Sql = "SELECT id FROM s";
        var (lenient, _) = await Read(
            "CREATE STREAM s (id BIGINT, v FLOAT) WITH (DATASOURCE=\"in\", TYPE=\"memory\", FORMAT=\"delimited\")",
            Sql, 2, "x,1.5", "7,2");
        Assert.That(lenient.Select(r => r["id"]), Is.EqualTo(new object[] { "x", 7L }), "best effort keeps the text, as for JSON");

        var (strict, status) = await Read(
            "CREATE STREAM s (id BIGINT, v FLOAT) WITH (DATASOURCE=\"in\", TYPE=\"memory\", FORMAT=\"delimited\", STRICT_VALIDATION=\"true\")",
            Sql, 1, "x,1.5", "7,2");
        Assert.That(strict.Select(r => r["id"]), Is.EqualTo(new object[] { 7L }));
        Assert.That((status.Errors, status.LastError), Is.EqualTo((1L, "error in preprocessor: field id type mismatch: cannot convert string(x) to int64")));
    }

    [Test]
    public async Task An_empty_delimiter_is_refused_when_the_stream_is_created()
    {
        await using var engine = new EdgeStreamEngine();
        var error = Assert.Throws<SqlException>(() => engine.Execute("CREATE STREAM s () WITH (DATASOURCE=\"in\", FORMAT=\"delimited\", DELIMITER=\"\")"))!;
        Assert.That(error.Reason, Is.EqualTo("option `DELIMITER` must not be empty"));
    }

    [Test]
    public void Encoding_writes_values_in_column_order_one_line_per_row_with_an_optional_header()
    {
        var rows = new[]
        {
            new Dictionary<string, object?>
            {
                ["id"] = 1670170500.0, ["name"] = "test", ["none"] = null, ["ok"] = true,
                ["tags"] = new object?[] { "a", 1L }, ["raw"] = new byte[] { 1, 2 },
            },
            new Dictionary<string, object?> { ["id"] = 0.1, ["name"] = "x", ["none"] = 3L, ["ok"] = false, ["tags"] = null, ["raw"] = null },
        };

        var plain = new DelimitedFormat(":").Encode(rows, asSingleRow: false);
        Assert.That(Encoding.UTF8.GetString(plain.Span), Is.EqualTo("1670170500:test::true:[\"a\",1]:AQI=\n0.1:x:3:false::"));
        var headed = DelimitedFormat.ForSink(new Dictionary<string, string> { ["delimiter"] = "|", ["hasHeader"] = "true" }).Encode(rows[1..], asSingleRow: true);
        Assert.That(Encoding.UTF8.GetString(headed.Span), Is.EqualTo("id|name|none|ok|tags|raw\n0.1|x|3|false||"));
        Assert.That(() => DelimitedFormat.ForSink(new Dictionary<string, string> { ["hasHeader"] = "yes" }), Throws.ArgumentException.With.Message.Contains("`hasHeader` must be true or false"));
    }

    [Test]
    public void Decoding_what_was_encoded_gives_the_rows_back()
    {
        var format = new DelimitedFormat(";");
        var encoded = format.Encode([new Dictionary<string, object?> { ["a"] = "x", ["b"] = 2L }, new Dictionary<string, object?> { ["a"] = "y", ["b"] = 3L }], false);
        var decoded = format.Decode(encoded);
        Assert.That(decoded.Select(d => (d["col0"], d["col1"])), Is.EqualTo(new[] { ((object?)"x", (object?)"2"), ("y", "3") }));
        Assert.That(() => format.Decode("\n\r\n"u8.ToArray()), Throws.InstanceOf<FormatException>());
    }
}
