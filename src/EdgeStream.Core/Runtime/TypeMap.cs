using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Reflection;
using System.Text.Json.Serialization;
using EdgeStream.Abstractions;

namespace EdgeStream.Runtime;

/// <summary>
/// Maps a host type to rows and back, with accessors built once per type: each public property becomes a column
/// (named by <see cref="JsonPropertyNameAttribute"/> if present), read and written through delegates made from its
/// getter and setter, so no reflection runs per event. The annotations keep the properties under trimming and
/// Native AOT; a struct's properties, whose getters cannot be bound as delegates, are read by reflection.
/// </summary>
internal static class TypeMap<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties | DynamicallyAccessedMemberTypes.PublicConstructors)] T>
{
    private static readonly PropertyInfo[] Properties = typeof(T)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.GetIndexParameters().Length == 0 && !p.IsDefined(typeof(JsonIgnoreAttribute)))
        .ToArray();

    private static readonly (string Name, Func<T, Value> Get)[] Getters =
        Properties.Where(p => p.GetMethod is { IsPublic: true }).Select(p => (ColumnName(p), Getter(p))).ToArray();

    private static readonly Lazy<Func<IReadOnlyDictionary<string, object?>, T>> Reader = new(BuildReader);

    private static string ColumnName(PropertyInfo property) =>
        property.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? property.Name;

    /// <summary>An object's properties as a row.</summary>
    /// <exception cref="ArgumentException">A property holds a value with no SQL equivalent.</exception>
    public static ValueObject ToRow(T item)
    {
        var row = new ValueObject(Getters.Length);
        foreach (var (name, get) in Getters)
        {
            row.Add(name, get(item)); // property names are distinct
        }

        return row;
    }

    /// <summary>A result row as a new <typeparamref name="T"/>; missing and null columns leave the property at its default.</summary>
    /// <exception cref="InvalidCastException">A column's value does not convert to its property's type; the message names the column.</exception>
    public static T FromRow(IReadOnlyDictionary<string, object?> row) => Reader.Value(row);

    private static Func<T, Value> Getter(PropertyInfo property)
    {
        var get = property.GetMethod!;
        var type = property.PropertyType;
        if (typeof(T).IsValueType)
        {
            return item => ClrValues.FromClr(Normalize(property.GetValue(item)));
        }

        if (type == typeof(long))
        {
            var f = get.CreateDelegate<Func<T, long>>();
            return item => Value.From(f(item));
        }

        if (type == typeof(int))
        {
            var f = get.CreateDelegate<Func<T, int>>();
            return item => Value.From(f(item));
        }

        if (type == typeof(double))
        {
            var f = get.CreateDelegate<Func<T, double>>();
            return item => Value.From(f(item));
        }

        if (type == typeof(float))
        {
            var f = get.CreateDelegate<Func<T, float>>();
            return item => Value.From(f(item));
        }

        if (type == typeof(bool))
        {
            var f = get.CreateDelegate<Func<T, bool>>();
            return item => Value.From(f(item));
        }

        if (type == typeof(decimal))
        {
            var f = get.CreateDelegate<Func<T, decimal>>();
            return item => Value.From((double)f(item));
        }

        if (type == typeof(DateTimeOffset))
        {
            var f = get.CreateDelegate<Func<T, DateTimeOffset>>();
            return item => Value.FromDatetime(f(item).ToUnixTimeMilliseconds());
        }

        if (type == typeof(DateTime))
        {
            var f = get.CreateDelegate<Func<T, DateTime>>();
            return item => ClrValues.FromClr(f(item));
        }

        if (type == typeof(long?))
        {
            var f = get.CreateDelegate<Func<T, long?>>();
            return item => f(item) is { } v ? Value.From(v) : Value.Null;
        }

        if (type == typeof(int?))
        {
            var f = get.CreateDelegate<Func<T, int?>>();
            return item => f(item) is { } v ? Value.From(v) : Value.Null;
        }

        if (type == typeof(double?))
        {
            var f = get.CreateDelegate<Func<T, double?>>();
            return item => f(item) is { } v ? Value.From(v) : Value.Null;
        }

        if (type == typeof(bool?))
        {
            var f = get.CreateDelegate<Func<T, bool?>>();
            return item => f(item) is { } v ? Value.From(v) : Value.Null;
        }

        if (type == typeof(string))
        {
            var f = get.CreateDelegate<Func<T, string?>>();
            return item => Value.From(f(item));
        }

        if (!type.IsValueType)
        {
            // Reference types bind through return-type covariance; the value is converted as host values are.
            var f = get.CreateDelegate<Func<T, object?>>();
            return item => ClrValues.FromClr(Normalize(f(item)));
        }

        // Enums, Guid and other structs: boxed by reflection, which is rare enough to accept.
        return item => ClrValues.FromClr(Normalize(property.GetValue(item)));
    }

    /// <summary>Values with no SQL type of their own become strings: enum names, GUIDs, URIs, time spans (as milliseconds).</summary>
    private static object? Normalize(object? value) => value switch
    {
        Enum e => e.ToString(),
        Guid g => g.ToString(),
        Uri u => u.ToString(),
        TimeSpan t => (long)t.TotalMilliseconds,
        _ => value,
    };

    private static Func<IReadOnlyDictionary<string, object?>, T> BuildReader()
    {
        var setters = Properties
            .Where(p => p.SetMethod is { IsPublic: true })
            .Select(p => (Name: ColumnName(p), Property: p))
            .ToArray();
        var parameterless = typeof(T).IsValueType || typeof(T).GetConstructor(Type.EmptyTypes) is not null;
        if (parameterless && !typeof(T).IsValueType)
        {
            var assign = setters.Select(s => (s.Name, Set: Setter(s.Name, s.Property))).ToArray();
            return row =>
            {
                var item = Activator.CreateInstance<T>();
                foreach (var (name, set) in assign)
                {
                    if (Column(row, name) is { } value)
                    {
                        set(item, value);
                    }
                }

                return item;
            };
        }

        if (parameterless)
        {
            return row =>
            {
                object item = Activator.CreateInstance<T>()!;
                foreach (var (name, property) in setters)
                {
                    if (Column(row, name) is { } value)
                    {
                        property.SetValue(item, Convert(name, value, property.PropertyType));
                    }
                }

                return (T)item;
            };
        }

        // A positional record: its widest public constructor, arguments matched to columns by name.
        var constructor = typeof(T).GetConstructors().OrderByDescending(c => c.GetParameters().Length).FirstOrDefault()
            ?? throw new InvalidOperationException($"{typeof(T).Name} has no public constructor to make results with");
        var parameters = constructor.GetParameters();
        var columns = parameters.Select(p => setters.FirstOrDefault(s => string.Equals(s.Property.Name, p.Name, StringComparison.OrdinalIgnoreCase)).Name ?? p.Name!).ToArray();
        return row =>
        {
            var args = new object?[parameters.Length];
            for (var i = 0; i < parameters.Length; i++)
            {
                args[i] = Column(row, columns[i]) is { } value
                    ? Convert(columns[i], value, parameters[i].ParameterType)
                    : parameters[i].HasDefaultValue ? parameters[i].DefaultValue : null;
            }

            return (T)constructor.Invoke(args);
        };
    }

    /// <summary>A column by its exact name, else by a case-insensitive match (SQL columns are often lower case); null when missing.</summary>
    private static object? Column(IReadOnlyDictionary<string, object?> row, string name)
    {
        if (row.TryGetValue(name, out var value))
        {
            return value;
        }

        foreach (var (key, v) in row)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                return v;
            }
        }

        return null;
    }

    /// <summary>Sets one property of a class from a result value, through a delegate bound to its setter for the common types.</summary>
    private static Action<T, object> Setter(string column, PropertyInfo property)
    {
        var set = property.SetMethod!;
        var type = property.PropertyType;
        if (type == typeof(long))
        {
            var f = set.CreateDelegate<Action<T, long>>();
            return (item, value) => f(item, value is long l ? l : (long)Convert(column, value, type)!);
        }

        if (type == typeof(int))
        {
            var f = set.CreateDelegate<Action<T, int>>();
            return (item, value) => f(item, (int)Convert(column, value, type)!);
        }

        if (type == typeof(double))
        {
            var f = set.CreateDelegate<Action<T, double>>();
            return (item, value) => f(item, value is double d ? d : (double)Convert(column, value, type)!);
        }

        if (type == typeof(bool))
        {
            var f = set.CreateDelegate<Action<T, bool>>();
            return (item, value) => f(item, (bool)Convert(column, value, type)!);
        }

        if (type == typeof(string))
        {
            var f = set.CreateDelegate<Action<T, string?>>();
            return (item, value) => f(item, value as string ?? (string?)Convert(column, value, type));
        }

        if (type == typeof(DateTimeOffset))
        {
            var f = set.CreateDelegate<Action<T, DateTimeOffset>>();
            return (item, value) => f(item, (DateTimeOffset)Convert(column, value, type)!);
        }

        return (item, value) => property.SetValue(item, Convert(column, value, type));
    }

    /// <summary>A result value (long, double, string, bool, byte[], DateTimeOffset, object?[], dictionary) as <paramref name="type"/>.</summary>
    private static object? Convert(string column, object value, Type type)
    {
        var target = Nullable.GetUnderlyingType(type) ?? type;
        try
        {
            return target switch
            {
                _ when target.IsInstanceOfType(value) => value,
                _ when target == typeof(int) => value is double d ? checked((int)Whole(d)) : System.Convert.ToInt32(value, CultureInfo.InvariantCulture),
                _ when target == typeof(long) => value is double d ? checked((long)Whole(d)) : System.Convert.ToInt64(value, CultureInfo.InvariantCulture),
                _ when target == typeof(short) => System.Convert.ToInt16(value, CultureInfo.InvariantCulture),
                _ when target == typeof(double) => System.Convert.ToDouble(value, CultureInfo.InvariantCulture),
                _ when target == typeof(float) => System.Convert.ToSingle(value, CultureInfo.InvariantCulture),
                _ when target == typeof(decimal) => System.Convert.ToDecimal(value, CultureInfo.InvariantCulture),
                _ when target == typeof(bool) => value is bool b ? b : throw new InvalidCastException(),
                _ when target == typeof(string) => value is string s ? s : System.Convert.ToString(value, CultureInfo.InvariantCulture),
                _ when target == typeof(DateTime) => value is DateTimeOffset dto ? dto.UtcDateTime : DateTimeOffset.FromUnixTimeMilliseconds(System.Convert.ToInt64(value, CultureInfo.InvariantCulture)).UtcDateTime,
                _ when target == typeof(DateTimeOffset) => DateTimeOffset.FromUnixTimeMilliseconds(System.Convert.ToInt64(value, CultureInfo.InvariantCulture)),
                _ when target == typeof(Guid) => Guid.Parse((string)value, CultureInfo.InvariantCulture),
                _ when target == typeof(TimeSpan) => TimeSpan.FromMilliseconds(System.Convert.ToDouble(value, CultureInfo.InvariantCulture)),
                _ when target == typeof(byte[]) => System.Convert.FromBase64String((string)value),
                _ when target.IsEnum => value is string name ? Enum.Parse(target, name, ignoreCase: true) : Enum.ToObject(target, System.Convert.ToInt64(value, CultureInfo.InvariantCulture)),
                _ when target == typeof(string[]) => ((object?[])value).Select(v => System.Convert.ToString(v, CultureInfo.InvariantCulture)).ToArray(),
                _ when target == typeof(long[]) => ((object?[])value).Select(v => System.Convert.ToInt64(v, CultureInfo.InvariantCulture)).ToArray(),
                _ when target == typeof(double[]) => ((object?[])value).Select(v => System.Convert.ToDouble(v, CultureInfo.InvariantCulture)).ToArray(),
                _ when target == typeof(List<string>) => ((object?[])value).Select(v => System.Convert.ToString(v, CultureInfo.InvariantCulture)!).ToList(),
                _ => throw new InvalidCastException(),
            };
        }
        catch (Exception e) when (e is InvalidCastException or FormatException or OverflowException or ArgumentException)
        {
            throw new InvalidCastException($"column `{column}`: cannot convert {value.GetType().Name} `{value}` to {type.Name} for {typeof(T).Name}", e);
        }
    }

    private static double Whole(double value) => Math.Floor(value) == value ? value : throw new InvalidCastException();
}
