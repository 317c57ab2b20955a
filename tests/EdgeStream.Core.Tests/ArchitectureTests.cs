using System.Reflection;
using NetArchTest.Rules;

namespace EdgeStream.Tests;

/// <summary>
/// Keeps the layering of DESIGN.md true: Diagnostics → Sql, Functions → Planning → (later) Compilation, Runtime.
/// A lower layer never reaches up, and the parser library never shows in the public API.
/// </summary>
public sealed class ArchitectureTests
{
    private static readonly Assembly Core = typeof(EdgeSql).Assembly;

    private static void AssertNoDependency(string layer, params string[] forbidden)
    {
        var result = Types.InAssembly(Core).That().ResideInNamespace(layer).ShouldNot().HaveDependencyOnAny(forbidden).GetResult();
        Assert.That(result.IsSuccessful, Is.True,
            $"{layer} depends on {string.Join(", ", forbidden)}: {string.Join(", ", result.FailingTypeNames ?? [])}");
    }

    [Test]
    public void Diagnostics_depend_on_no_other_layer() =>
        AssertNoDependency("EdgeStream.Diagnostics", "EdgeStream.Sql.", "EdgeStream.Functions", "EdgeStream.Planning");

    [Test]
    public void The_sql_layer_does_not_reach_up() =>
        AssertNoDependency("EdgeStream.Sql", "EdgeStream.Functions", "EdgeStream.Planning");

    [Test]
    public void Functions_do_not_reach_into_planning_or_parsing() =>
        AssertNoDependency("EdgeStream.Functions", "EdgeStream.Planning", "EdgeStream.Sql.Parsing", "Superpower");

    [Test]
    public void Only_parsing_uses_superpower()
    {
        var users = Types.InAssembly(Core).That().HaveDependencyOn("Superpower").GetTypes()
            .Select(t => t.Namespace).Distinct().ToList();
        Assert.That(users, Is.EquivalentTo(new[] { "EdgeStream.Sql.Parsing" }));
    }

    [Test]
    public void No_public_signature_mentions_superpower()
    {
        var leaks = new List<string>();
        foreach (var type in Core.GetExportedTypes())
        {
            foreach (var member in type.GetMembers(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            {
                var types = member switch
                {
                    MethodInfo m => m.GetParameters().Select(p => p.ParameterType).Append(m.ReturnType),
                    PropertyInfo p => [p.PropertyType],
                    FieldInfo f => [f.FieldType],
                    ConstructorInfo c => c.GetParameters().Select(p => p.ParameterType),
                    _ => [],
                };
                leaks.AddRange(types.Where(t => t.Assembly.GetName().Name == "Superpower").Select(t => $"{type.Name}.{member.Name}: {t.Name}"));
            }
        }

        Assert.That(leaks, Is.Empty);
    }
}
