using System.Text;
using System.Text.Json;
using EdgeStream.Abstractions;
using EdgeStream.Runtime.Json;

namespace EdgeStream.Tests.Runtime;

public sealed class JsonValueReaderTests
{
    [Test]
    public void Numbers_keep_integer_or_float_kind()
    {
        var obj = JsonValueReader.Parse("""{"i": 3, "f": 3.0, "e": 1e2, "big": 100000000000000000000, "neg": -7}""").AsObject;
        Assert.Multiple(() =>
        {
            Assert.That(obj["i"], Is.EqualTo(Value.From(3L)));
            Assert.That(obj["f"], Is.EqualTo(Value.From(3.0)));
            Assert.That(obj["e"], Is.EqualTo(Value.From(100.0)));
            Assert.That(obj["big"], Is.EqualTo(Value.From(1e20)));
            Assert.That(obj["neg"], Is.EqualTo(Value.From(-7L)));
        });
    }

    [Test]
    public void Nested_values_and_key_order_are_kept()
    {
        var value = JsonValueReader.Parse("""{"z": [1, "a", null, true, {"k": [2.5]}], "a": {"b": {}}}""");
        Assert.That(value.AsObject.Fields.Select(f => f.Key), Is.EqualTo(new[] { "z", "a" }));
        var array = value.AsObject["z"].AsArray;
        Assert.Multiple(() =>
        {
            Assert.That(array.Select(v => v.Kind), Is.EqualTo(new[] { ValueKind.Integer, ValueKind.String, ValueKind.Null, ValueKind.Boolean, ValueKind.Object }));
            Assert.That(array[4].AsObject["k"].AsArray[0], Is.EqualTo(Value.From(2.5)));
            Assert.That(value.AsObject["a"].AsObject["b"].AsObject.Count, Is.Zero);
        });
    }

    [TestCase("")]
    [TestCase("{")]
    [TestCase("{\"a\": }")]
    [TestCase("{\"a\": 1} x")]
    [TestCase("[1, 2")]
    [TestCase("nul")]
    public void Malformed_json_is_a_json_exception(string json)
    {
        Assert.Throws(Is.InstanceOf<JsonException>(), () => JsonValueReader.Parse(json));
    }

    [Test]
    public void Rows_map_keys_to_slots_of_a_growing_schema()
    {
        var schema = RowSchema.Growing();
        var first = JsonValueReader.ReadRow(Encoding.UTF8.GetBytes("""{"a": 1, "b": 2}"""), schema, 10);
        var second = JsonValueReader.ReadRow(Encoding.UTF8.GetBytes("""{"c": 3, "a": 4}"""), schema, 20);
        Assert.Multiple(() =>
        {
            Assert.That(schema.Count, Is.EqualTo(3));
            Assert.That(first[schema.GetOrAdd("a")], Is.EqualTo(Value.From(1L)));
            Assert.That(first[schema.GetOrAdd("c")].IsNull, Is.True);
            Assert.That(second[schema.GetOrAdd("a")], Is.EqualTo(Value.From(4L)));
            Assert.That(second[schema.GetOrAdd("b")].IsNull, Is.True);
            Assert.That(second.Timestamp, Is.EqualTo(20));
        });
    }

    [Test]
    public void A_fixed_schema_ignores_undeclared_keys()
    {
        var schema = RowSchema.Fixed(["a", "b"]);
        var row = JsonValueReader.ReadRow(Encoding.UTF8.GetBytes("""{"b": "x", "zzz": 1}"""), schema, 0);
        Assert.Multiple(() =>
        {
            Assert.That(schema.Count, Is.EqualTo(2));
            Assert.That(schema.GetOrAdd("zzz"), Is.EqualTo(-1));
            Assert.That(row[1], Is.EqualTo(Value.From("x")));
            Assert.That(row[0].IsNull, Is.True);
        });
    }

    [Test]
    public void A_non_object_document_is_not_a_row()
    {
        Assert.Throws<JsonException>(() => JsonValueReader.ReadRow("[1]"u8, RowSchema.Growing(), 0));
    }
}

public sealed class RowSchemaTests
{
    [Test]
    public void A_growing_schema_stops_taking_new_names_at_its_cap()
    {
        var schema = EdgeStream.Abstractions.RowSchema.Growing();
        for (var i = 0; i < EdgeStream.Abstractions.RowSchema.MaxGrowingFields; i++)
        {
            Assert.That(schema.GetOrAdd("k" + i), Is.EqualTo(i));
        }

        Assert.That(schema.GetOrAdd("one-too-many"), Is.EqualTo(-1));
        Assert.That(schema.GetOrAdd("k42"), Is.EqualTo(42), "known names keep their slots");
        Assert.That(schema.NameAt(9_999), Is.EqualTo("k9999"));
    }

    [Test]
    public void Names_resolve_concurrently_with_additions()
    {
        var schema = EdgeStream.Abstractions.RowSchema.Growing();
        Parallel.For(0, 4_000, i =>
        {
            var slot = schema.GetOrAdd("f" + (i % 2_000));
            Assert.That(schema.NameAt(slot), Is.EqualTo("f" + (i % 2_000)));
        });
        Assert.That(schema.Count, Is.EqualTo(2_000));
    }
}
