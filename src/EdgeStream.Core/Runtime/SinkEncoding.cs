using System.Buffers;
using System.Text;
using System.Text.Json;
using EdgeStream.Abstractions;
using EdgeStream.Runtime.Templates;

namespace EdgeStream.Runtime;

/// <summary>
/// The sink properties <c>dataTemplate</c> and <c>format</c>: how one outgoing message (one row with
/// <c>sendSingle</c>, else the rows of an emission or batch) becomes what the sink takes. A sink that takes rows
/// gets the template's output parsed back as JSON (an object or an array of objects), as eKuiper's SQL and memory
/// sinks do; a sink that takes payloads (<see cref="IPayloadSink"/>) gets the template's text, or the rows encoded
/// with the format (JSON by default).
/// </summary>
internal sealed class SinkEncoding
{
    private SinkEncoding(GoTemplate? template, IFormat? format, bool sendSingle)
    {
        Template = template;
        Format = format;
        SendSingle = sendSingle;
    }

    public GoTemplate? Template { get; }

    /// <summary>The payload format; null for JSON.</summary>
    public IFormat? Format { get; }

    public bool SendSingle { get; }

    /// <summary>Reads and checks the properties.</summary>
    /// <exception cref="ArgumentException">The template does not parse, or the format is unknown.</exception>
    public static SinkEncoding Create(RuleAction action, Func<string, IFormat?> formats)
    {
        GoTemplate? template = null;
        if (action.Properties.TryGetValue("dataTemplate", out var text) && text.Length > 0)
        {
            try
            {
                template = GoTemplate.Parse(text);
            }
            catch (TemplateException e)
            {
                throw new ArgumentException($"sink `{action.SinkType}`: `dataTemplate` is invalid: {e.Message}", nameof(action), e);
            }
        }

        IFormat? format = null;
        if (action.Properties.TryGetValue("format", out var name) && name.Length > 0 && !name.Equals("json", StringComparison.OrdinalIgnoreCase))
        {
            format = formats(name) ?? throw new ArgumentException($"sink `{action.SinkType}`: unknown `format` `{name}`", nameof(action));
        }

        var single = action.Properties.TryGetValue("sendSingle", out var s) && bool.TryParse(s, out var b) && b;
        return new SinkEncoding(template, format, single);
    }

    /// <summary>What a template sees: the row with <c>sendSingle</c>, else the array of rows.</summary>
    private Value Data(IReadOnlyList<ValueObject> message) =>
        SendSingle && message.Count == 1 ? Value.From(message[0]) : Value.From(message.Select(Value.From).ToArray());

    /// <summary>The template's text for a message.</summary>
    /// <exception cref="TemplateException">Rendering failed.</exception>
    public string Render(IReadOnlyList<ValueObject> message) => Template!.Render(Data(message));

    /// <summary>A message as rows: as it is, or the template's output read as JSON.</summary>
    /// <exception cref="TemplateException">Rendering failed, or the output is not a JSON object or array of objects.</exception>
    public IReadOnlyList<ValueObject> ToRows(IReadOnlyList<ValueObject> message)
    {
        if (Template is null)
        {
            return message;
        }

        var text = Render(message);
        Value parsed;
        try
        {
            parsed = Json.JsonValueReader.Parse(text);
        }
        catch (JsonException)
        {
            parsed = Value.Null;
        }

        return parsed.Kind switch
        {
            ValueKind.Object => [parsed.AsObject],
            ValueKind.Array when parsed.AsArray.All(v => v.Kind == ValueKind.Object) => parsed.AsArray.Select(v => v.AsObject).ToArray(),
            _ => throw new TemplateException($"the dataTemplate output is not a JSON object or array of objects: {Shorten(text)}"),
        };
    }

    /// <summary>A message as one payload: the template's text, or the rows in the format.</summary>
    /// <exception cref="TemplateException">Rendering failed.</exception>
    /// <exception cref="FormatException">The format cannot encode these rows.</exception>
    public ReadOnlyMemory<byte> Encode(IReadOnlyList<ValueObject> message)
    {
        if (Template is not null)
        {
            return Encoding.UTF8.GetBytes(Render(message));
        }

        var single = SendSingle && message.Count == 1;
        if (Format is { } format)
        {
            return format.Encode(message.Select(ClrValues.ToDictionary).ToArray(), single);
        }

        // One writer and buffer reused (taken, so concurrent encodes each get their own); the payload is an exact copy.
        var cached = Interlocked.Exchange(ref jsonWriter, null) ?? new CachedWriter();
        try
        {
            cached.Buffer.ResetWrittenCount();
            cached.Writer.Reset();
            Json.JsonValueWriter.Write(cached.Writer, Data(message));
            cached.Writer.Flush();
            return cached.Buffer.WrittenSpan.ToArray();
        }
        finally
        {
            if (cached.Buffer.Capacity <= MaxCachedBuffer)
            {
                Volatile.Write(ref jsonWriter, cached);
            }
        }
    }

    /// <summary>A buffer bigger than this (one huge message) is not kept.</summary>
    private const int MaxCachedBuffer = 64 * 1024;

    private CachedWriter? jsonWriter;

    private sealed class CachedWriter
    {
        public CachedWriter() => Writer = new Utf8JsonWriter(Buffer);

        public ArrayBufferWriter<byte> Buffer { get; } = new(256);

        public Utf8JsonWriter Writer { get; }
    }

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..77] + "...";
}
