using System.Globalization;
using System.Text;
using EdgeStream.Abstractions;

namespace EdgeStream.Runtime.Templates;

/// <summary>A template that does not parse, or fails while rendering.</summary>
internal sealed class TemplateException(string message) : Exception(message);

/// <summary>
/// The sink property <c>dataTemplate</c>: the part of Go's <c>text/template</c> language that eKuiper rules use,
/// parsed once when the rule is created and rendered per message against the message's data (one row with
/// <c>sendSingle</c>, else the array of rows).
/// </summary>
/// <remarks>
/// <para>Actions: <c>{{.field}}</c>, <c>{{.a.b}}</c>, <c>{{.}}</c>, <c>{{$}}</c>, variables (<c>{{$x := …}}</c>,
/// <c>{{$x = …}}</c>), <c>{{if}}…{{else if}}…{{else}}…{{end}}</c>, <c>{{range …}}</c> (with <c>$i, $v :=</c>,
/// <c>{{else}}</c>, <c>{{break}}</c>, <c>{{continue}}</c>), <c>{{with}}</c>, pipes (<c>{{.x | printf "%.1f"}}</c>),
/// parentheses, comments <c>{{/* … */}}</c> and trim markers <c>{{- … -}}</c>.</para>
/// <para>Functions: Go's <c>and or not len index slice eq ne lt le gt ge print printf println</c>; eKuiper's
/// <c>json</c> and <c>base64</c>; and sprig's <c>toJson upper lower trim default add sub mul div mod</c>.</para>
/// <para>Values print as Go prints them: a missing field as <c>&lt;no value&gt;</c>, objects as <c>map[k:v]</c>.</para>
/// </remarks>
internal sealed partial class GoTemplate
{
    private readonly List<Node> root;

    private GoTemplate(List<Node> root) => this.root = root;

    /// <summary>Parses a template.</summary>
    /// <exception cref="TemplateException">A syntax error, with its line and column.</exception>
    public static GoTemplate Parse(string text) => new(new Parser(text).ParseAll());

    /// <summary>Renders the template against <paramref name="data"/>.</summary>
    /// <exception cref="TemplateException">A function failed (wrong argument types, index out of range).</exception>
    public string Render(Value data)
    {
        var output = new StringBuilder();
        var scope = new Scope(data);
        try
        {
            Execute(root, data, scope, output);
        }
        catch (LoopSignal)
        {
            throw new TemplateException("{{break}} or {{continue}} outside a {{range}}");
        }
        catch (Exception e) when (e is not TemplateException)
        {
            // Overflows, a code point out of range, an oversized width: all are this row's template failing.
            throw new TemplateException(e.Message);
        }

        return output.ToString();
    }

    // ---- Syntax tree -------------------------------------------------------------------------------------------

    private abstract record Node;

    private sealed record TextNode(string Text) : Node;

    private sealed record ActionNode(Pipeline Pipeline) : Node;

    private sealed record IfNode(Pipeline Condition, List<Node> Then, List<Node>? Else, bool IsWith) : Node;

    private sealed record RangeNode(Pipeline Source, string? KeyVariable, string? ValueVariable, List<Node> Body, List<Node>? Else) : Node;

    private sealed record LoopControlNode(bool IsBreak) : Node;

    /// <summary>Commands joined by <c>|</c>; a declaration (<c>$x :=</c>) or assignment (<c>$x =</c>) in front, if any.</summary>
    private sealed record Pipeline(List<Command> Commands, string? Variable, bool Declares);

    private sealed record Command(List<Operand> Operands);

    private abstract record Operand;

    private sealed record LiteralOperand(Value Value) : Operand;

    private sealed record FunctionOperand(string Name) : Operand;

    /// <summary><c>.a.b</c> (Root null, from dot), <c>$x.a</c> (Variable), or <c>(pipeline).a</c>.</summary>
    private sealed record FieldOperand(string? Variable, Pipeline? Inner, string[] Fields) : Operand;
}
