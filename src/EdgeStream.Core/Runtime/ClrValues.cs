using System.Collections;
using EdgeStream.Abstractions;

namespace EdgeStream.Runtime;

/// <summary>Converts between <see cref="Value"/> and the plain CLR values host code passes in and reads out.</summary>
internal static class ClrValues
{
    /// <summary>
    /// A CLR value as a <see cref="Value"/>: integral numbers become integers, other numbers floats, dictionaries with
    /// string keys objects, other enumerables arrays. <see cref="DateTime"/>/<see cref="DateTimeOffset"/> become datetimes.
    /// </summary>
    public static Value FromClr(object? value) => value switch
    {
        null => Value.Null,
        Value v => v,
        bool b => Value.From(b),
        long l => Value.From(l),
        int i => Value.From(i),
        short s => Value.From(s),
        sbyte sb => Value.From(sb),
        byte by => Value.From(by),
        ushort us => Value.From(us),
        uint ui => Value.From(ui),
        ulong ul => ul <= long.MaxValue ? Value.From((long)ul) : Value.From((double)ul),
        double d => Value.From(d),
        float f => Value.From(f),
        decimal m => Value.From((double)m),
        string str => Value.From(str),
        char c => Value.From(c.ToString()),
        byte[] bytes => Value.From(bytes),
        DateTimeOffset dto => Value.FromDatetime(dto.ToUnixTimeMilliseconds()),
        DateTime dt => Value.FromDatetime(new DateTimeOffset(dt.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(dt, DateTimeKind.Utc) : dt).ToUnixTimeMilliseconds()),
        IEnumerable<KeyValuePair<string, object?>> map => FromMap(map),
        IDictionary dictionary => FromMap(dictionary.Keys.Cast<object>().Select(k => new KeyValuePair<string, object?>(k.ToString()!, dictionary[k]))),
        IEnumerable items => Value.From(items.Cast<object?>().Select(FromClr).ToArray()),
        _ => throw new ArgumentException($"cannot use a value of type {value.GetType().Name} in a row", nameof(value)),
    };

    private static Value FromMap(IEnumerable<KeyValuePair<string, object?>> map)
    {
        var obj = new ValueObject();
        foreach (var (key, v) in map)
        {
            obj[key] = FromClr(v);
        }

        return Value.From(obj);
    }

    /// <summary>A <see cref="Value"/> as a CLR value: long, double, string, bool, byte[], DateTimeOffset, object?[] or a dictionary.</summary>
    public static object? ToClr(Value value) => value.Kind switch
    {
        ValueKind.Null => null,
        ValueKind.Boolean => value.AsBoolean,
        ValueKind.Integer => value.AsInteger,
        ValueKind.Float => value.AsFloat,
        ValueKind.String => value.AsString,
        ValueKind.Bytes => value.AsBytes,
        ValueKind.Datetime => value.AsDateTimeOffset,
        ValueKind.Array => value.AsArray.Select(ToClr).ToArray(),
        _ => ToDictionary(value.AsObject),
    };

    public static IReadOnlyDictionary<string, object?> ToDictionary(ValueObject obj)
    {
        var map = new Dictionary<string, object?>(obj.Count, StringComparer.Ordinal);
        for (var i = 0; i < obj.Count; i++)
        {
            map[obj.KeyAt(i)] = ToClr(obj.ValueAt(i));
        }

        return map;
    }
}
