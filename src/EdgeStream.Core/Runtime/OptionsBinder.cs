using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace EdgeStream.Runtime;

/// <summary>
/// Binds a rule action's string properties to a sink's options class: each public settable property takes the
/// action property of the same name (case-insensitive, so <c>batchSize</c> fills <c>BatchSize</c>), converted to its
/// type. The property list is read once per type; the annotations keep it under trimming and Native AOT.
/// </summary>
/// <remarks>
/// Supported types: string, bool, int, long, double, decimal, TimeSpan (milliseconds, or <c>500ms</c>, <c>5s</c>,
/// <c>2m</c>, <c>1h</c>), enums (by name, case-insensitive), Uri, string arrays and lists (a JSON array or
/// comma-separated text), and their nullable forms. A property declared <c>required</c> must be given.
/// </remarks>
internal static class OptionsBinder<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties | DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] TOptions>
    where TOptions : class
{
    private static readonly PropertyInfo[] Settable = typeof(TOptions)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.CanWrite && p.SetMethod!.IsPublic && p.GetIndexParameters().Length == 0)
        .ToArray();

    /// <summary>The property names the options take, as rule JSON writes them (camelCase).</summary>
    public static IReadOnlyCollection<string> Names { get; } = Settable.Select(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name)).ToArray();

    /// <summary>Makes the options from the action's properties.</summary>
    /// <exception cref="ArgumentException">A required property is missing or a value does not convert; the message names the property.</exception>
    public static TOptions Bind(string sinkType, IReadOnlyDictionary<string, string> properties)
    {
        var options = Activator.CreateInstance<TOptions>();
        foreach (var property in Settable)
        {
            var given = properties.FirstOrDefault(p => string.Equals(p.Key, property.Name, StringComparison.OrdinalIgnoreCase));
            var name = JsonNamingPolicy.CamelCase.ConvertName(property.Name);
            if (given.Key is null)
            {
                if (property.IsDefined(typeof(RequiredMemberAttribute), inherit: false))
                {
                    throw new ArgumentException($"sink `{sinkType}` needs the property `{name}`");
                }

                continue;
            }

            property.SetValue(options, Convert(sinkType, name, given.Value, property.PropertyType));
        }

        return options;
    }

    private static object? Convert(string sinkType, string name, string text, Type type)
    {
        var target = Nullable.GetUnderlyingType(type) ?? type;
        if (text.Length == 0 && (target != type || !target.IsValueType))
        {
            return target == typeof(string) ? text : null;
        }

        try
        {
            if (target == typeof(string))
            {
                return text;
            }

            if (target == typeof(bool))
            {
                return bool.Parse(text);
            }

            if (target == typeof(int))
            {
                return int.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture);
            }

            if (target == typeof(long))
            {
                return long.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture);
            }

            if (target == typeof(double))
            {
                return double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
            }

            if (target == typeof(decimal))
            {
                return decimal.Parse(text, NumberStyles.Number, CultureInfo.InvariantCulture);
            }

            if (target == typeof(TimeSpan))
            {
                return Duration(text);
            }

            if (target == typeof(Uri))
            {
                return new Uri(text, UriKind.RelativeOrAbsolute);
            }

            if (target.IsEnum)
            {
                return Enum.TryParse(target, text, ignoreCase: true, out var value) && Enum.IsDefined(target, value!)
                    ? value
                    : throw new FormatException($"one of {string.Join(", ", Enum.GetNames(target))}");
            }

            if (target == typeof(string[]) || target.IsAssignableFrom(typeof(string[])))
            {
                return List(text);
            }

            if (target.IsAssignableFrom(typeof(List<string>)))
            {
                return List(text).ToList();
            }
        }
        catch (Exception e) when (e is FormatException or OverflowException or JsonException or UriFormatException or InvalidOperationException)
        {
            var shown = IsSecret(name) ? "(hidden)" : $"`{text}`";
            var expected = e is FormatException { Message: var m } && m.StartsWith("one of", StringComparison.Ordinal) ? m : Describe(target);
            throw new ArgumentException($"sink `{sinkType}`: property `{name}` must be {expected}, not {shown}");
        }

        throw new ArgumentException($"sink `{sinkType}`: property `{name}` has type {type.Name}, which options cannot bind");
    }

    private static string Describe(Type type) =>
        type == typeof(bool) ? "true or false"
        : type == typeof(int) || type == typeof(long) ? "an integer"
        : type == typeof(double) || type == typeof(decimal) ? "a number"
        : type == typeof(TimeSpan) ? "a duration (milliseconds, or 500ms, 5s, 2m, 1h)"
        : type == typeof(Uri) ? "a URI"
        : "a list of strings";

    /// <summary>Values of properties named like secrets are never shown in messages (the same names ExplainRule masks).</summary>
    private static bool IsSecret(string name) => RulePlanText.IsSecretName(name);

    private static string[] List(string text)
    {
        var trimmed = text.Trim();
        if (trimmed.StartsWith('['))
        {
            using var document = JsonDocument.Parse(trimmed);
            return document.RootElement.EnumerateArray().Select(e => e.GetString() ?? throw new FormatException()).ToArray();
        }

        return trimmed.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    /// <summary>A duration: bare milliseconds (eKuiper's usual unit), or a number with ms, s, m or h.</summary>
    internal static TimeSpan Duration(string text)
    {
        var t = text.Trim();
        var (number, unit) = t.EndsWith("ms", StringComparison.OrdinalIgnoreCase) ? (t[..^2], 1.0)
            : t.EndsWith('s') ? (t[..^1], 1000.0)
            : t.EndsWith('m') ? (t[..^1], 60_000.0)
            : t.EndsWith('h') ? (t[..^1], 3_600_000.0)
            : (t, 1.0);
        var value = double.Parse(number, NumberStyles.Float, CultureInfo.InvariantCulture);
        return value < 0 ? throw new FormatException() : TimeSpan.FromMilliseconds(value * unit);
    }
}
