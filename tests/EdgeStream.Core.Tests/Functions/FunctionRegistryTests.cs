using EdgeStream.Functions;

namespace EdgeStream.Tests.Functions;

public sealed class FunctionRegistryTests
{
    private static readonly string[] ReferenceNames = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Data", "function-names.txt"))
        .Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();

    [Test]
    public void Every_ekuiper_function_name_is_registered_and_nothing_else()
    {
        Assert.That(ReferenceNames, Has.Length.EqualTo(182));
        Assert.That(FunctionRegistry.Builtins.All.Select(f => f.Name), Is.EquivalentTo(ReferenceNames));
    }

    [Test]
    public void Metadata_is_consistent()
    {
        Assert.Multiple(() =>
        {
            foreach (var f in FunctionRegistry.Builtins.All)
            {
                Assert.That(f.MinArgs, Is.GreaterThanOrEqualTo(0), f.Name);
                Assert.That(f.MaxArgs == -1 || f.MaxArgs >= f.MinArgs, Is.True, f.Name);
                Assert.That(f.Signature, Does.StartWith(f.Name + "("), f.Name);
                Assert.That(f.Name, Is.EqualTo(f.Name.ToLowerInvariant()), f.Name);
                if (f.AliasOf is not null)
                {
                    Assert.That(FunctionRegistry.Builtins.TryGet(f.AliasOf, out var target), Is.True, f.Name);
                    Assert.That((target.Kind, target.MinArgs, target.MaxArgs), Is.EqualTo((f.Kind, f.MinArgs, f.MaxArgs)), f.Name);
                    Assert.That(target.AliasOf, Is.Null, f.Name);
                }
            }
        });
    }

    [TestCase("count", "Aggregate", 1, 1)]
    [TestCase("avg", "Aggregate", 1, 1)]
    [TestCase("round", "Scalar", 1, 2)]
    [TestCase("concat", "Scalar", 1, -1)]
    [TestCase("lag", "Analytic", 1, 4)]
    [TestCase("acc_sum", "Analytic", 1, 3)]
    [TestCase("unnest", "SetReturning", 1, 1)]
    [TestCase("window_start", "Scalar", 0, 0)]
    [TestCase("ceil", "Scalar", 1, 1)]
    public void Known_functions_have_ekuiper_kind_and_arity(string name, string kind, int min, int max)
    {
        Assert.That(FunctionRegistry.Builtins.TryGet(name.ToUpperInvariant(), out var f), Is.True);
        Assert.That((f.Kind.ToString(), f.MinArgs, f.MaxArgs), Is.EqualTo((kind, min, max)));
    }

    [TestCase("cout", "count")]
    [TestCase("uper", "upper")]
    [TestCase("lenght", "length")]
    [TestCase("zzzzzzzzz", null)]
    public void Closest_name_suggests_a_likely_typo(string typo, string? expected)
    {
        Assert.That(FunctionRegistry.Builtins.Closest(typo), Is.EqualTo(expected));
    }

    [Test]
    public void Every_builtin_has_a_summary_and_no_summary_names_an_unknown_function()
    {
        var names = FunctionRegistry.Builtins.All.Select(f => f.Name).ToHashSet(StringComparer.Ordinal);
        Assert.Multiple(() =>
        {
            foreach (var name in names)
            {
                Assert.That(FunctionSummaries.ByName.TryGetValue(name, out var summary) && !string.IsNullOrWhiteSpace(summary), Is.True, name);
            }

            Assert.That(FunctionSummaries.ByName.Keys.Where(k => !names.Contains(k)), Is.Empty);
        });
    }
}
