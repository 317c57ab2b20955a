using System.Globalization;
using System.Text;
using System.Text.Json;

namespace EdgeStream.Sinks.MySql;

/// <summary>How row values become MySQL parameter values: scalars as they are, times in UTC, nested values as JSON text.</summary>
internal static class MySqlValues
{
    /// <summary>The parameter value for a row value.</summary>
    public static object ToParameter(object? value) => value switch
    {
        null => DBNull.Value,
        string or long or int or double or float or bool or byte[] or decimal => value,
        DateTimeOffset time => time.UtcDateTime,
        DateTime time => time.Kind == DateTimeKind.Local ? time.ToUniversalTime() : time,
        IReadOnlyDictionary<string, object?> or IEnumerable<object?> => Json(value),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty,
    };

    /// <summary>A nested value as compact JSON text.</summary>
    public static string Json(object? value)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(writer, value);
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void Write(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case string s:
                writer.WriteStringValue(s);
                break;
            case bool b:
                writer.WriteBooleanValue(b);
                break;
            case long l:
                writer.WriteNumberValue(l);
                break;
            case int i:
                writer.WriteNumberValue(i);
                break;
            case double d when double.IsFinite(d):
                writer.WriteNumberValue(d);
                break;
            case double d:
                writer.WriteStringValue(d.ToString(CultureInfo.InvariantCulture));
                break;
            case byte[] bytes:
                writer.WriteBase64StringValue(bytes);
                break;
            case DateTimeOffset time:
                writer.WriteStringValue(time.ToString("O", CultureInfo.InvariantCulture));
                break;
            case IReadOnlyDictionary<string, object?> map:
                writer.WriteStartObject();
                foreach (var (key, item) in map)
                {
                    writer.WritePropertyName(key);
                    Write(writer, item);
                }

                writer.WriteEndObject();
                break;
            case IEnumerable<object?> items:
                writer.WriteStartArray();
                foreach (var item in items)
                {
                    Write(writer, item);
                }

                writer.WriteEndArray();
                break;
            default:
                writer.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }
}
