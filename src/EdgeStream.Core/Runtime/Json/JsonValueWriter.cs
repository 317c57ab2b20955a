using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EdgeStream.Abstractions;

namespace EdgeStream.Runtime.Json;

/// <summary>Writes values as JSON: integers plain, floats with a decimal point, bytes as base64, datetimes as ISO 8601.</summary>
internal static class JsonValueWriter
{
    public static string Write(IReadOnlyList<ValueObject> emission)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var row in emission)
            {
                Write(writer, Value.From(row));
            }

            writer.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>One value as JSON text.</summary>
    public static string ToJson(Value value, bool indented = false)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = indented }))
        {
            Write(writer, value);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static void Write(Utf8JsonWriter writer, Value value)
    {
        switch (value.Kind)
        {
            case ValueKind.Null:
                writer.WriteNullValue();
                break;
            case ValueKind.Boolean:
                writer.WriteBooleanValue(value.AsBoolean);
                break;
            case ValueKind.Integer:
                writer.WriteNumberValue(value.AsInteger);
                break;
            case ValueKind.Float when double.IsFinite(value.AsFloat):
                writer.WriteRawValue(Sql.Ast.SqlPrinter.FloatText(value.AsFloat));
                break;
            case ValueKind.Float:
                writer.WriteStringValue(value.AsFloat.ToString(CultureInfo.InvariantCulture));
                break;
            case ValueKind.String:
                writer.WriteStringValue(value.AsString);
                break;
            case ValueKind.Bytes:
                writer.WriteBase64StringValue(value.AsBytes);
                break;
            case ValueKind.Datetime:
                writer.WriteStringValue(value.AsDateTimeOffset.ToString("O", CultureInfo.InvariantCulture));
                break;
            case ValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in value.AsArray)
                {
                    Write(writer, item);
                }

                writer.WriteEndArray();
                break;
            default:
                writer.WriteStartObject();
                var obj = value.AsObject;
                for (var i = 0; i < obj.Count; i++)
                {
                    var (key, v) = (obj.KeyAt(i), obj.ValueAt(i));
                    writer.WritePropertyName(key);
                    Write(writer, v);
                }

                writer.WriteEndObject();
                break;
        }
    }
}
