namespace EdgeStream.Tests.Abstractions;

public sealed class SqlValueTests
{
    [Test]
    public void Values_keep_their_kind_and_content()
    {
        var when = new DateTimeOffset(2026, 11, 23, 1, 2, 3, 456, TimeSpan.FromHours(2));
        Assert.Multiple(() =>
        {
            Assert.That(default(SqlValue).IsNull, Is.True);
            Assert.That(SqlValue.From(42L).AsInt64(), Is.EqualTo(42));
            Assert.That(SqlValue.From(42L).AsDouble(), Is.EqualTo(42.0), "an integer reads as a double");
            Assert.That(SqlValue.From(1.5).Kind, Is.EqualTo(SqlValueKind.Float));
            Assert.That(SqlValue.From("x").AsString(), Is.EqualTo("x"));
            Assert.That(SqlValue.From((string?)null).IsNull, Is.True);
            Assert.That(SqlValue.From(true).AsBoolean(), Is.True);
            Assert.That(SqlValue.From(new byte[] { 1, 2 }).AsBytes().ToArray(), Is.EqualTo(new byte[] { 1, 2 }));
            Assert.That(SqlValue.From(when).AsDateTime(), Is.EqualTo(when));
            Assert.That(SqlValue.FromArray([SqlValue.From(1L), SqlValue.Null]).AsArray(), Is.EqualTo(new[] { SqlValue.From(1L), SqlValue.Null }));
            Assert.That(SqlValue.FromObject([new("a", SqlValue.From(1L))]).AsObject()["a"], Is.EqualTo(SqlValue.From(1L)));
        });
    }

    [Test]
    public void Clr_values_convert_both_ways()
    {
        var value = SqlValue.FromObject(new Dictionary<string, object?> { ["n"] = 3, ["list"] = new[] { 1.5, 2.0 }, ["none"] = null });
        Assert.That(value.Kind, Is.EqualTo(SqlValueKind.Object));
        var back = (IReadOnlyDictionary<string, object?>)value.ToObject()!;
        Assert.That(back["n"], Is.EqualTo(3L), "int widens to long");
        Assert.That(back["list"], Is.EqualTo(new object[] { 1.5, 2.0 }));
        Assert.That(back["none"], Is.Null);
        Assert.That(() => SqlValue.FromObject(new Uri("http://x")), Throws.ArgumentException);
    }

    [Test]
    public void Equality_is_by_kind_and_content()
    {
        var one = SqlValue.From(1L);
        Assert.That(one, Is.EqualTo(SqlValue.From(2L - 1)));
        Assert.That(SqlValue.From(1L) == SqlValue.From(1.0), Is.False, "an integer never equals a float");
        Assert.That(SqlValue.From("a") != SqlValue.From("b"), Is.True);
    }

    [TestCase("AsInt64", "the value is string(x), not an integer")]
    [TestCase("AsBoolean", "the value is string(x), not a boolean")]
    [TestCase("AsDouble", "the value is string(x), not a number")]
    [TestCase("AsArray", "the value is string(x), not an array")]
    public void Reading_the_wrong_kind_says_what_the_value_is(string accessor, string message)
    {
        var value = SqlValue.From("x");
        TestDelegate read = accessor switch
        {
            "AsInt64" => () => value.AsInt64(),
            "AsBoolean" => () => value.AsBoolean(),
            "AsDouble" => () => value.AsDouble(),
            _ => () => value.AsArray(),
        };
        Assert.That(read, Throws.InvalidOperationException.With.Message.EqualTo(message));
    }
}
