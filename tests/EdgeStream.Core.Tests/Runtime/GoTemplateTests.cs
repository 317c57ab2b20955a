using EdgeStream.Runtime.Json;
using EdgeStream.Runtime.Templates;

namespace EdgeStream.Tests.Runtime;

/// <summary>The <c>dataTemplate</c> language: expected outputs are what Go's text/template prints for the same data.</summary>
public sealed class GoTemplateTests
{
    [TestCase("{{.a}}", """{"a": 1}""", "1")]
    [TestCase("t={{.t}}", """{"t": 25.5}""", "t=25.5")]
    [TestCase("{{.t}}", """{"t": 25.0}""", "25")]
    [TestCase("{{.t}}", """{"t": 1e21}""", "1e+21")]
    [TestCase("{{.t}}", """{"t": 0.00001}""", "1e-05")]
    [TestCase("{{.t}}", """{"t": 123456789012345680}""", "123456789012345680")]
    [TestCase("{{.missing}}", """{"a": 1}""", "<no value>")]
    [TestCase("{{.n}}", """{"n": null}""", "<no value>")]
    [TestCase("{{.a.b}}", """{"a": {"b": "x"}}""", "x")]
    [TestCase("{{.}}", """{"b": 2, "a": [1, "x", true]}""", "map[a:[1 x true] b:2]")]
    [TestCase("{{$.a}}{{$}}", """{"a": 1}""", "1map[a:1]")]
    [TestCase("{{if gt .t 30}}hot{{else if gt .t 20}}warm{{else}}cold{{end}}", """{"t": 25}""", "warm")]
    [TestCase("{{if gt .t 30}}hot{{else if gt .t 20}}warm{{else}}cold{{end}}", """{"t": 31.5}""", "hot")]
    [TestCase("{{if .flag}}y{{else}}n{{end}}{{if .missing}}y{{else}}n{{end}}{{if .empty}}y{{else}}n{{end}}", """{"flag": true, "empty": ""}""", "ynn")]
    [TestCase("{{if and .a (not .b)}}ok{{end}}|{{or .b .c}}", """{"a": 1, "b": 0, "c": "z"}""", "ok|z")]
    [TestCase("{{if eq .s \"on\" \"yes\"}}1{{end}}{{if ne .n 2}}2{{end}}{{if le .n 1.5}}3{{end}}", """{"s": "yes", "n": 1}""", "123")]
    [TestCase("{{range .}}{{.a}},{{end}}", """[{"a": 1}, {"a": 2}]""", "1,2,")]
    [TestCase("{{range $i, $r := .}}{{$i}}={{$r.a}} {{end}}", """[{"a": 1}, {"a": 2}]""", "0=1 1=2 ")]
    [TestCase("{{range $k, $v := .}}{{$k}}:{{$v}};{{end}}", """{"b": 2, "a": 1}""", "a:1;b:2;")]
    [TestCase("{{range .items}}x{{else}}empty{{end}}", """{"items": []}""", "empty")]
    [TestCase("{{range .}}{{if eq .a 2}}{{break}}{{end}}{{.a}}{{end}}", """[{"a": 1}, {"a": 2}, {"a": 3}]""", "1")]
    [TestCase("{{range .}}{{if eq .a 2}}{{continue}}{{end}}{{.a}}{{end}}", """[{"a": 1}, {"a": 2}, {"a": 3}]""", "13")]
    [TestCase("{{with .a}}{{.b}}{{else}}none{{end}}|{{with .z}}{{.}}{{else}}none{{end}}", """{"a": {"b": 7}}""", "7|none")]
    [TestCase("{{$x := .a}}{{$x}}{{$x = 5}}{{$x}}", """{"a": 1}""", "15")]
    [TestCase("{{json .}}", """{"a": 1, "b": "x", "c": [1.5, null]}""", """{"a":1,"b":"x","c":[1.5,null]}""")]
    [TestCase("[{{range $i, $r := .}}{{if $i}},{{end}}{{toJson $r}}{{end}}]", """[{"a": 1}, {"a": 2}]""", """[{"a":1},{"a":2}]""")]
    [TestCase("{{printf \"%.2f\" .t}}", """{"t": 25.456}""", "25.46")]
    [TestCase("{{.a | printf \"%03d\"}}", """{"a": 1}""", "001")]
    [TestCase("{{printf \"%v|%s|%d|%q|%t|%5.1f|%-4d|%x|%%\" .a .s .a .s .b .f .a .a}}", """{"a": 26, "s": "hi", "b": true, "f": 3.14159}""", "26|hi|26|\"hi\"|true|  3.1|26  |1a|%")]
    [TestCase("{{printf \"%d\" .s}}", """{"s": "x"}""", "%!d(string=x)")]
    [TestCase("{{print 1 2 \"a\" 3}}", "{}", "1 2a3")]
    [TestCase("{{len .}} {{len .s}} {{index . \"s\"}} {{index .m \"k\"}} {{index .m \"z\"}}", """{"s": "héllo", "m": {"k": "v"}}""", "2 6 héllo v <no value>")]
    [TestCase("{{len .}}-{{index . 1}}-{{slice . 1}}", """[10, 20, 30]""", "3-20-[20 30]")]
    [TestCase("{{add 1 2 3}} {{sub 5 2.5}} {{mul 2 3}} {{div 7 2}} {{mod 7 2}}", "{}", "6 2.5 6 3 1")]
    [TestCase("{{upper .s}}{{lower \"AB\"}}{{trim \"  x \"}}{{default \"d\" .missing}}{{default \"d\" .s}}", """{"s": "q"}""", "Qabxdq")]
    [TestCase("{{base64 .s}}", """{"s": "hi"}""", "aGk=")]
    [TestCase("a {{- .x -}} b\n {{- /* gone */ -}} c", """{"x": 1}""", "a1bc")]
    [TestCase("{{/* just a comment */}}ok", "{}", "ok")]
    [TestCase("{{ (index . 0).a }}", """[{"a": "first"}]""", "first")]
    [TestCase("{{`raw \\n`}}", "{}", "raw \\n")]
    [TestCase("{{range 3}}{{.}}{{end}}", "{}", "012")]
    public void Renders_as_go_does(string template, string json, string expected)
    {
        Assert.That(GoTemplate.Parse(template).Render(JsonValueReader.Parse(json)), Is.EqualTo(expected));
    }

    [TestCase("{{if .a}}yes", "template: line 1, column 1: unexpected end of template: {{if}} has no {{end}}")]
    [TestCase("x\n  {{nofunc .a}}", "template: line 2, column 5: function \"nofunc\" not defined")]
    [TestCase("{{.a", "template: line 1, column 1: unclosed action")]
    [TestCase("{{end}}", "template: line 1, column 1: unexpected {{end}}")]
    [TestCase("{{range .}}{{else}}{{else}}{{end}}", "template: line 1, column 20: {{range}} … {{else}} needs {{end}}")]
    [TestCase("{{template \"x\"}}", "template: line 1, column 1: {{template}} is not supported")]
    [TestCase("{{\"abc}}", "template: line 1, column 3: unterminated quoted string")]
    [TestCase("{{(.a}}", "template: line 1, column 3: unclosed left paren")]
    public void Syntax_errors_say_where_and_what(string template, string message)
    {
        Assert.That(() => GoTemplate.Parse(template), Throws.TypeOf<TemplateException>().With.Message.EqualTo(message));
    }

    [TestCase("{{index . 5}}", "[1]", "index out of range: 5")]
    [TestCase("{{.a.b}}", """{"a": 1}""", "can't evaluate field b in type int64")]
    [TestCase("{{lt .a \"x\"}}", """{"a": 1}""", "lt: incompatible types for comparison: int64 and string")]
    [TestCase("{{.a 1}}", """{"a": 1}""", "can't give argument to non-function")]
    [TestCase("{{$y}}", "{}", "undefined variable: $y")]
    [TestCase("{{div 1 0}}", "{}", "div: division by zero")]
    public void Render_errors_say_what_failed(string template, string json, string message)
    {
        var parsed = GoTemplate.Parse(template);
        Assert.That(() => parsed.Render(JsonValueReader.Parse(json)), Throws.TypeOf<TemplateException>().With.Message.EqualTo(message));
    }
}
