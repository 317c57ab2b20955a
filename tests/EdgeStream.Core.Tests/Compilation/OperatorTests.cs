using EdgeStream.Abstractions;
using EdgeStream.Compilation;
using EdgeStream.Sql.Ast;

namespace EdgeStream.Tests.Compilation;

public sealed class OperatorTests
{
    [TestCase("abc", "abc", true)]
    [TestCase("a%", "abc", true)]
    [TestCase("%c", "abc", true)]
    [TestCase("%b%", "abc", true)]
    [TestCase("a_c", "abc", true)]
    [TestCase("a_c", "abbc", false)]
    [TestCase("a%c%e", "abcde", true)]
    [TestCase("a%c%e", "abcdf", false)]
    [TestCase("%", "", true)]
    [TestCase("_", "", false)]
    [TestCase("A%", "abc", false)]
    [TestCase("50\\%", "50%", true)]
    [TestCase("50\\%", "500", false)]
    [TestCase("a\\_b", "a_b", true)]
    [TestCase("a\\_b", "axb", false)]
    [TestCase("%%%a", "bba", true)]
    public void Like_matches_percent_underscore_and_escapes(string pattern, string text, bool expected)
    {
        Assert.That(new LikePattern(pattern).IsMatch(text), Is.EqualTo(expected));
    }

    [Test]
    public void Like_honours_a_custom_escape()
    {
        Assert.That(new LikePattern("a!%", '!').IsMatch("a%"), Is.True);
        Assert.That(new LikePattern("a!%", '!').IsMatch("ab"), Is.False);
    }

    [Test]
    public void Integer_arithmetic_stays_integer_and_mixing_gives_float()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Operators.Arithmetic(BinaryOperator.Divide, Value.From(7L), Value.From(2L)), Is.EqualTo(Value.From(3L)));
            Assert.That(Operators.Arithmetic(BinaryOperator.Divide, Value.From(7L), Value.From(2.0)), Is.EqualTo(Value.From(3.5)));
            Assert.That(Operators.Arithmetic(BinaryOperator.Add, Value.From(long.MaxValue), Value.From(1L)), Is.EqualTo(Value.From(long.MinValue)));
            Assert.That(Operators.Arithmetic(BinaryOperator.Divide, Value.From(long.MinValue), Value.From(-1L)), Is.EqualTo(Value.From(long.MinValue)));
            Assert.That(Operators.Arithmetic(BinaryOperator.Add, Value.Null, Value.From(1L)).IsNull, Is.True);
            Assert.Throws<EvaluationException>(() => Operators.Arithmetic(BinaryOperator.Divide, Value.From(1L), Value.From(0L)));
            var error = Assert.Throws<EvaluationException>(() => Operators.Arithmetic(BinaryOperator.Multiply, Value.From("string"), Value.From(5L)))!;
            Assert.That(error.Message, Is.EqualTo("invalid operation string(string) * int64(5)"));
        });
    }
}
