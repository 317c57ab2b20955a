using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using EdgeStream.Sql.Ast;

namespace EdgeStream.Runtime;

/// <summary>Writes a rule's plan as text for <see cref="EdgeStreamEngine.ExplainRule"/>.</summary>
internal static partial class RulePlanText
{
    public static string Describe(RuleDefinition rule, RulePlan plan, IReadOnlyList<string?> sinks)
    {
        var text = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        var stream = plan.Source;
        var statement = plan.Statement;
        text.Append(inv, $"rule {rule.Id}\n");
        var type = stream.Option("TYPE") ?? "memory";
        var format = stream.Option("FORMAT") ?? "json";
        var source = stream.Option("DATASOURCE") is { Length: > 0 } ds ? $", datasource \"{Redact("DATASOURCE", ds)}\"" : string.Empty;
        text.Append(inv, $"  source {stream.Name}: type {type}{source}, format {format}{(stream.Shared ? ", shared" : string.Empty)}");
        text.Append(stream.IsSchemaless ? ", schemaless" : $", columns {string.Join(", ", stream.Columns.Select(c => c.Name))}");
        text.Append(inv, $"  [source_{stream.Name}_0_]\n");
        var concurrency = rule.Options.Concurrency;
        var tasks = plan.Window is null ? concurrency : 1; // a window's state belongs to one task
        text.Append(inv, $"  stage: decode, {(plan.HasFilter ? "filter, " : string.Empty)}{(plan.Window is null ? string.Empty : "window, ")}project fused{(tasks > 1 ? $", {tasks} tasks" : string.Empty)}; buffer {rule.Options.BufferLength} ({(rule.Options.DropOldestWhenFull ? "drop oldest" : "block")} when full)\n");
        var prefixes = plan.OperatorPrefixes();
        if (statement.Where is { } where)
        {
            text.Append(inv, $"    filter: {SqlPrinter.Print(where)}  [{prefixes["filter"]}]\n");
        }

        if (statement.GroupBy is { } groupBy)
        {
            var window = prefixes.TryGetValue("window", out var w) ? $"  [{w}]" : string.Empty;
            text.Append(inv, $"    window and grouping: {SqlPrinter.Print(groupBy)}{(statement.Having is { } having ? $" HAVING {SqlPrinter.Print(having)}" : string.Empty)}{window}\n");
        }

        var fields = string.Join(", ", statement.Fields.Select(SqlPrinter.Print));
        text.Append(inv, $"    project: {fields}  [{prefixes["project"]}]\n");
        for (var i = 0; i < rule.Actions.Count; i++)
        {
            var action = rule.Actions[i];
            var properties = string.Join(", ", action.Properties.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={Redact(p.Key, p.Value)}"));
            var how = i < sinks.Count && sinks[i] is { } d ? $"; {d}" : string.Empty;
            text.Append(inv, $"  sink {i}: {action.SinkType}{(properties.Length > 0 ? $" ({properties})" : string.Empty)}{how}  [sink_{action.SinkType}_{i}_0_]\n");
        }

        return text.ToString();
    }

    /// <summary>A property value fit to show: secret-like keys masked, and the password of a URL or DSN hidden.</summary>
    internal static string Redact(string key, string value)
    {
        if (SecretKey().IsMatch(key))
        {
            return "***";
        }

        var masked = UrlPassword().Replace(value, "$1***@");
        return ConnectionStringPassword().Replace(masked, "$1***");
    }

    /// <summary>Whether a property's name says it holds a secret (its value is then never shown).</summary>
    internal static bool IsSecretName(string name) => SecretKey().IsMatch(name);

    [GeneratedRegex("password|passwd|pwd|secret|token|credential|apikey|api_key|privatekey|private_key", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SecretKey();

    // scheme://user:password@host and Go's user:password@tcp(host)
    [GeneratedRegex(@"((?:^|//|\s)[^:/@\s]+:)[^@\s]+@", RegexOptions.CultureInvariant)]
    private static partial Regex UrlPassword();

    [GeneratedRegex(@"((?:password|pwd)\s*=\s*)[^;]*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ConnectionStringPassword();
}
