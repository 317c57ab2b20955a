using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace EdgeStream.Testing;

/// <summary>
/// Writes engine results as JSON encoded like the corpus: integers without a decimal point, floats with one,
/// byte arrays as <c>{"$base64": "…"}</c>, datetimes as ISO 8601 strings.
/// </summary>
public static class ResultJson
{
    /// <summary>Encodes emissions (as read from a memory topic) as a JSON array of arrays of row objects.</summary>
    /// <param name="emissions">The emissions.</param>
    /// <returns>Compact JSON.</returns>
    public static string Write(IEnumerable<IReadOnlyList<IReadOnlyDictionary<string, object?>>> emissions)
    {
        ArgumentNullException.ThrowIfNull(emissions);
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var emission in emissions)
            {
                writer.WriteStartArray();
                foreach (var row in emission)
                {
                    WriteValue(writer, row);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Encodes one emission as a JSON array of row objects (one line of <c>edgestream run</c> output).</summary>
    /// <param name="emission">The rows of one emission.</param>
    /// <returns>Compact JSON.</returns>
    public static string WriteEmission(IReadOnlyList<IReadOnlyDictionary<string, object?>> emission)
    {
        ArgumentNullException.ThrowIfNull(emission);
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteValue(writer, emission);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>A JSON value as compact text, whatever its formatting in the source.</summary>
    internal static string Compact(JsonElement element)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            element.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteValue(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case bool b:
                writer.WriteBooleanValue(b);
                break;
            case long l:
                writer.WriteNumberValue(l);
                break;
            case double d when double.IsFinite(d):
                var text = d.ToString("R", CultureInfo.InvariantCulture);
                writer.WriteRawValue(text.AsSpan().IndexOfAny('.', 'E', 'e') >= 0 ? text : text + ".0");
                break;
            case double d:
                writer.WriteStringValue(d.ToString(CultureInfo.InvariantCulture));
                break;
            case string s:
                writer.WriteStringValue(s);
                break;
            case byte[] bytes:
                writer.WriteStartObject();
                writer.WriteString("$base64", Convert.ToBase64String(bytes));
                writer.WriteEndObject();
                break;
            case DateTimeOffset dto:
                writer.WriteStringValue(dto.ToString("O", CultureInfo.InvariantCulture));
                break;
            case IReadOnlyDictionary<string, object?> map:
                writer.WriteStartObject();
                foreach (var (key, v) in map)
                {
                    writer.WritePropertyName(key);
                    WriteValue(writer, v);
                }

                writer.WriteEndObject();
                break;
            case System.Collections.IEnumerable items:
                writer.WriteStartArray();
                foreach (var item in items)
                {
                    WriteValue(writer, item);
                }

                writer.WriteEndArray();
                break;
            default:
                writer.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }
}
