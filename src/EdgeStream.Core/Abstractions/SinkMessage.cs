using EdgeStream.Abstractions;
using EdgeStream.Runtime;
using EdgeStream.Runtime.Templates;

namespace EdgeStream;

/// <summary>
/// One outgoing message of an <see cref="IPayloadSink"/>: its encoded payload and the rows it was encoded from, so
/// a sink can give each message its own destination (an MQTT topic per device) with a <see cref="SinkTemplate"/>.
/// </summary>
public readonly struct SinkMessage
{
    private readonly IReadOnlyList<ValueObject>? rows;

    internal SinkMessage(ReadOnlyMemory<byte> payload, IReadOnlyList<ValueObject> rows, bool single)
    {
        Payload = payload;
        this.rows = rows;
        IsSingleRow = single;
    }

    /// <summary>The encoded payload (the action's <c>format</c> or <c>dataTemplate</c>).</summary>
    public ReadOnlyMemory<byte> Payload { get; }

    /// <summary>Whether the message is one row (<c>sendSingle</c>) rather than a list of rows.</summary>
    public bool IsSingleRow { get; }

    /// <summary>The rows the payload holds, as plain values.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, object?>> Rows =>
        rows is null ? [] : rows.Select(ClrValues.ToDictionary).ToArray();

    /// <summary>What a template sees: the row with <c>sendSingle</c>, else the array of rows.</summary>
    internal Value Data => rows is null
        ? Value.Null
        : IsSingleRow && rows.Count == 1 ? Value.From(rows[0]) : Value.From(rows.Select(Value.From).ToArray());
}

/// <summary>
/// A sink property whose value may hold eKuiper's dynamic-property templates (Go <c>text/template</c> syntax, such as
/// <c>devices/{{.deviceId}}/alerts</c>), compiled once with <see cref="SinkContext.CompileTemplate"/> and rendered
/// per message: against the row with <c>sendSingle</c>, else against the array of rows (write
/// <c>{{(index . 0).deviceId}}</c> then). A value without <c>{{</c> renders as itself at no cost.
/// </summary>
public sealed class SinkTemplate
{
    private readonly GoTemplate? template;
    private readonly string text;

    internal SinkTemplate(string text)
    {
        this.text = text;
        template = text.Contains("{{", StringComparison.Ordinal) ? GoTemplate.Parse(text) : null;
    }

    /// <summary>Whether the value varies by message (it holds a template action).</summary>
    public bool IsDynamic => template is not null;

    /// <summary>The value for <paramref name="message"/>.</summary>
    /// <param name="message">The message.</param>
    /// <returns>The rendered text.</returns>
    /// <exception cref="FormatException">Rendering failed (a function got the wrong kind of value); the message is bad, not the sink.</exception>
    public string Render(SinkMessage message)
    {
        if (template is null)
        {
            return text;
        }

        try
        {
            return template.Render(message.Data);
        }
        catch (TemplateException e)
        {
            throw new FormatException(e.Message, e);
        }
    }
}
