using System.Buffers;
using System.Collections.Frozen;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EdgeStream.Abstractions;

namespace EdgeStream.Runtime.Templates;

internal sealed partial class GoTemplate
{
    /// <summary>What a missing map key evaluates to: prints as Go prints it, and is false and nil elsewhere.</summary>
    // A distinct instance, so a field whose value is the text "<no value>" is not taken for a missing one.
    private static readonly string NoValueText = new("<no value>".AsSpan());

    private static readonly Value NoValue = Value.From(NoValueText);

    private static bool IsMissing(Value value) => value.Kind == ValueKind.String && ReferenceEquals(value.AsString, NoValueText);

    private delegate Value TemplateFunction(Value[] args);

    private static readonly FrozenDictionary<string, TemplateFunction> Functions = new Dictionary<string, TemplateFunction>
    {
        ["and"] = args => Arity(args, 1, -1, "and").FirstOrDefault(a => !Truth(a), args[^1]),
        ["or"] = args => Arity(args, 1, -1, "or").FirstOrDefault(Truth, args[^1]),
        ["not"] = args => Value.From(!Truth(Arity(args, 1, 1, "not")[0])),
        ["len"] = args => Len(Arity(args, 1, 1, "len")[0]),
        ["index"] = args => Index(Arity(args, 1, -1, "index")),
        ["slice"] = args => Slice(Arity(args, 1, 3, "slice")),
        ["eq"] = args => Value.From(Arity(args, 2, -1, "eq").Skip(1).Any(b => Compare(args[0], b, "eq") == 0)),
        ["ne"] = args => Value.From(Compare(Arity(args, 2, 2, "ne")[0], args[1], "ne") != 0),
        ["lt"] = args => Value.From(Compare(Arity(args, 2, 2, "lt")[0], args[1], "lt", ordered: true) < 0),
        ["le"] = args => Value.From(Compare(Arity(args, 2, 2, "le")[0], args[1], "le", ordered: true) <= 0),
        ["gt"] = args => Value.From(Compare(Arity(args, 2, 2, "gt")[0], args[1], "gt", ordered: true) > 0),
        ["ge"] = args => Value.From(Compare(Arity(args, 2, 2, "ge")[0], args[1], "ge", ordered: true) >= 0),
        ["print"] = args => Value.From(Sprint(args, lines: false)),
        ["println"] = args => Value.From(Sprint(args, lines: true)),
        ["printf"] = args => Value.From(Printf(Arity(args, 1, -1, "printf"))),
        ["json"] = args => Value.From(Json(Arity(args, 1, 1, "json")[0], indented: false)),
        ["toJson"] = args => Value.From(Json(Arity(args, 1, 1, "toJson")[0], indented: false)),
        ["toPrettyJson"] = args => Value.From(Json(Arity(args, 1, 1, "toPrettyJson")[0], indented: true)),
        ["base64"] = args => Arity(args, 1, 1, "base64")[0] switch
        {
            { Kind: ValueKind.Bytes } b => Value.From(Convert.ToBase64String(b.AsBytes)),
            var v => Value.From(Convert.ToBase64String(Encoding.UTF8.GetBytes(Print(v)))),
        },
        ["upper"] = args => Value.From(Print(Arity(args, 1, 1, "upper")[0]).ToUpperInvariant()),
        ["lower"] = args => Value.From(Print(Arity(args, 1, 1, "lower")[0]).ToLowerInvariant()),
        ["trim"] = args => Value.From(Print(Arity(args, 1, 1, "trim")[0]).Trim()),
        ["default"] = args => Truth(Arity(args, 1, 2, "default")[^1]) && args.Length == 2 ? args[1] : args[0],
        ["add"] = args => Arithmetic(Arity(args, 2, -1, "add"), "add", (a, b) => a + b, (a, b) => a + b),
        ["sub"] = args => Arithmetic(Arity(args, 2, 2, "sub"), "sub", (a, b) => a - b, (a, b) => a - b),
        ["mul"] = args => Arithmetic(Arity(args, 2, -1, "mul"), "mul", (a, b) => a * b, (a, b) => a * b),
        ["div"] = args => Arithmetic(Arity(args, 2, 2, "div"), "div", (a, b) => b == 0 ? throw new TemplateException("div: division by zero") : a / b, (a, b) => a / b),
        ["mod"] = args => Arithmetic(Arity(args, 2, 2, "mod"), "mod", (a, b) => b == 0 ? throw new TemplateException("mod: division by zero") : a % b, (a, b) => a % b),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>Variables in scope: a stack, cut back when a block ends.</summary>
    private sealed class Scope
    {
        private readonly List<(string Name, Value Value)> variables = [];

        public Scope(Value root) => variables.Add(("$", root));

        public int Mark => variables.Count;

        public void Restore(int mark) => variables.RemoveRange(mark, variables.Count - mark);

        public void Declare(string name, Value value) => variables.Add((name, value));

        public void Assign(string name, Value value)
        {
            var i = variables.FindLastIndex(v => v.Name == name);
            variables[i >= 0 ? i : throw new TemplateException($"undefined variable: {name}")] = (name, value);
        }

        public Value Get(string name)
        {
            var i = variables.FindLastIndex(v => v.Name == name);
            return i >= 0 ? variables[i].Value : throw new TemplateException($"undefined variable: {name}");
        }
    }

    private sealed class LoopSignal(bool isBreak) : Exception
    {
        public bool IsBreak { get; } = isBreak;
    }

    private static void Execute(List<Node> nodes, Value dot, Scope scope, StringBuilder output)
    {
        foreach (var node in nodes)
        {
            switch (node)
            {
                case TextNode text:
                    output.Append(text.Text);
                    break;
                case ActionNode action:
                    {
                        var value = Eval(action.Pipeline, dot, scope);
                        if (action.Pipeline.Variable is null)
                        {
                            output.Append(Print(value));
                        }

                        break;
                    }

                case IfNode branch:
                    {
                        var mark = scope.Mark;
                        var condition = Eval(branch.Condition, dot, scope);
                        if (Truth(condition))
                        {
                            Execute(branch.Then, branch.IsWith ? condition : dot, scope, output);
                        }
                        else if (branch.Else is { } otherwise)
                        {
                            Execute(otherwise, dot, scope, output);
                        }

                        scope.Restore(mark);
                        break;
                    }

                case RangeNode range:
                    ExecuteRange(range, dot, scope, output);
                    break;
                case LoopControlNode control:
                    throw new LoopSignal(control.IsBreak);
            }
        }
    }

    private static void ExecuteRange(RangeNode range, Value dot, Scope scope, StringBuilder output)
    {
        var mark = scope.Mark;
        var source = Eval(range.Source, dot, scope);
        var items = source.Kind switch
        {
            ValueKind.Array => source.AsArray.Select((v, i) => (Key: Value.From((long)i), Value: v)),
            ValueKind.Object => source.AsObject.Fields.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => (Key: Value.From(f.Key), f.Value)),
            ValueKind.Integer => Enumerable.Range(0, (int)Math.Clamp(source.AsInteger, 0, int.MaxValue)).Select(i => (Key: Value.From((long)i), Value: Value.From((long)i))),
            _ when source.IsNull || IsMissing(source) => [],
            _ => throw new TemplateException($"range can't iterate over {Print(source)}"),
        };
        var any = false;
        foreach (var (key, value) in items)
        {
            any = true;
            var inner = scope.Mark;
            if (range.KeyVariable is { } k)
            {
                scope.Declare(k, key);
            }

            if (range.ValueVariable is { } v)
            {
                scope.Declare(v, value);
            }

            try
            {
                Execute(range.Body, value, scope, output);
            }
            catch (LoopSignal signal)
            {
                if (signal.IsBreak)
                {
                    scope.Restore(inner);
                    break;
                }
            }

            scope.Restore(inner);
        }

        if (!any && range.Else is { } otherwise)
        {
            Execute(otherwise, dot, scope, output);
        }

        scope.Restore(mark);
    }

    private static Value Eval(Pipeline pipeline, Value dot, Scope scope)
    {
        Value? piped = null;
        foreach (var command in pipeline.Commands)
        {
            piped = EvalCommand(command, dot, scope, piped);
        }

        var result = piped!.Value;
        if (pipeline.Variable is { } name)
        {
            if (pipeline.Declares)
            {
                scope.Declare(name, result);
            }
            else
            {
                scope.Assign(name, result);
            }
        }

        return result;
    }

    private static Value EvalCommand(Command command, Value dot, Scope scope, Value? piped)
    {
        if (command.Operands[0] is FunctionOperand function)
        {
            var count = command.Operands.Count - 1 + (piped is null ? 0 : 1);
            var args = new Value[count];
            for (var i = 1; i < command.Operands.Count; i++)
            {
                args[i - 1] = Nil(EvalOperand(command.Operands[i], dot, scope));
            }

            if (piped is { } p)
            {
                args[^1] = Nil(p);
            }

            return Functions[function.Name](args);
        }

        if (command.Operands.Count > 1 || piped is not null)
        {
            throw new TemplateException("can't give argument to non-function");
        }

        return EvalOperand(command.Operands[0], dot, scope);
    }

    private static Value Nil(Value value) => IsMissing(value) ? Value.Null : value;

    private static Value EvalOperand(Operand operand, Value dot, Scope scope)
    {
        switch (operand)
        {
            case LiteralOperand literal:
                return literal.Value;
            case FieldOperand field:
                {
                    var value = field.Variable is { } v ? scope.Get(v) : field.Inner is { } inner ? Eval(inner, dot, scope) : dot;
                    foreach (var name in field.Fields)
                    {
                        value = value.Kind switch
                        {
                            ValueKind.Object => value.AsObject.TryGet(name, out var found) ? found : NoValue,
                            ValueKind.Null => NoValue,
                            _ when IsMissing(value) => NoValue,
                            _ => throw new TemplateException($"can't evaluate field {name} in type {value.TypeName}"),
                        };
                    }

                    return value;
                }

            default:
                throw new TemplateException("unexpected operand");
        }
    }

    // ---- Go semantics ------------------------------------------------------------------------------------------

    /// <summary>Go's truth: false, 0, nil, and empty strings, arrays and maps are false.</summary>
    private static bool Truth(Value value) => value.Kind switch
    {
        ValueKind.Null => false,
        ValueKind.Boolean => value.AsBoolean,
        ValueKind.Integer => value.AsInteger != 0,
        ValueKind.Float => value.AsFloat != 0,
        ValueKind.String => value.AsString.Length > 0 && !IsMissing(value),
        ValueKind.Bytes => value.AsBytes.Length > 0,
        ValueKind.Array => value.AsArray.Length > 0,
        ValueKind.Object => value.AsObject.Count > 0,
        _ => true,
    };

    private static Value[] Arity(Value[] args, int min, int max, string name) =>
        args.Length >= min && (max < 0 || args.Length <= max)
            ? args
            : throw new TemplateException($"wrong number of args for {name}: want {(max < 0 ? $"at least {min}" : min == max ? $"{min}" : $"{min} to {max}")} got {args.Length}");

    private static Value Len(Value value) => value.Kind switch
    {
        ValueKind.String => Value.From((long)Encoding.UTF8.GetByteCount(value.AsString)),
        ValueKind.Bytes => Value.From((long)value.AsBytes.Length),
        ValueKind.Array => Value.From((long)value.AsArray.Length),
        ValueKind.Object => Value.From((long)value.AsObject.Count),
        _ => throw new TemplateException($"len of {value.TypeName}"),
    };

    private static Value Index(Value[] args)
    {
        var value = args[0];
        foreach (var key in args.Skip(1))
        {
            value = value.Kind switch
            {
                ValueKind.Array when key.Kind == ValueKind.Integer =>
                    key.AsInteger >= 0 && key.AsInteger < value.AsArray.Length
                        ? value.AsArray[key.AsInteger]
                        : throw new TemplateException($"index out of range: {key.AsInteger}"),
                ValueKind.Object when key.Kind == ValueKind.String => value.AsObject.TryGet(key.AsString, out var found) ? found : NoValue,
                ValueKind.Null => throw new TemplateException("index of untyped nil"),
                _ => throw new TemplateException($"can't index item of type {value.TypeName} with {key.TypeName}"),
            };
        }

        return value;
    }

    private static Value Slice(Value[] args)
    {
        var value = args[0];
        var length = value.Kind switch
        {
            ValueKind.Array => value.AsArray.Length,
            ValueKind.String => value.AsString.Length,
            _ => throw new TemplateException($"can't slice item of type {value.TypeName}"),
        };
        var start = args.Length > 1 ? Int(args[1], "slice") : 0;
        var end = args.Length > 2 ? Int(args[2], "slice") : length;
        if (start < 0 || end < start || end > length)
        {
            throw new TemplateException($"slice: index out of range [{start}:{end}] with length {length}");
        }

        return value.Kind == ValueKind.Array ? Value.From(value.AsArray[start..end]) : Value.From(value.AsString[start..end]);
    }

    private static int Int(Value value, string function) =>
        value.Kind == ValueKind.Integer && value.AsInteger is >= int.MinValue and <= int.MaxValue
            ? (int)value.AsInteger
            : throw new TemplateException($"{function}: expected an integer, not {value.TypeName}");

    /// <summary>Compares two values: numbers by value, strings and booleans by content, nil only with nil.</summary>
    private static int Compare(Value a, Value b, string function, bool ordered = false)
    {
        if (a.IsNumber && b.IsNumber)
        {
            return a.Kind == ValueKind.Integer && b.Kind == ValueKind.Integer ? a.AsInteger.CompareTo(b.AsInteger) : a.AsDouble.CompareTo(b.AsDouble);
        }

        if (a.Kind == ValueKind.String && b.Kind == ValueKind.String)
        {
            return string.CompareOrdinal(a.AsString, b.AsString);
        }

        if (!ordered && a.Kind == b.Kind && a.Kind is ValueKind.Boolean or ValueKind.Null)
        {
            return a.Equals(b) ? 0 : 1;
        }

        if (!ordered && (a.IsNull || b.IsNull))
        {
            return 1;
        }

        throw new TemplateException($"{function}: incompatible types for comparison: {a.TypeName} and {b.TypeName}");
    }

    private static Value Arithmetic(Value[] args, string function, Func<long, long, long> integers, Func<double, double, double> floats)
    {
        var result = args[0];
        foreach (var next in args.Skip(1))
        {
            if (!result.IsNumber || !next.IsNumber)
            {
                throw new TemplateException($"{function}: expected numbers, not {result.TypeName} and {next.TypeName}");
            }

            result = result.Kind == ValueKind.Integer && next.Kind == ValueKind.Integer
                ? Value.From(integers(result.AsInteger, next.AsInteger))
                : Value.From(floats(result.AsDouble, next.AsDouble));
        }

        return result;
    }

    private static string Json(Value value, bool indented) => EdgeStream.Runtime.Json.JsonValueWriter.ToJson(value, indented);

    /// <summary>A value as <c>{{.}}</c> prints it (Go's <c>%v</c>, with <c>&lt;no value&gt;</c> for nil).</summary>
    private static string Print(Value value) => value.IsNull ? NoValueText : Format(value);

    /// <summary>Go's <c>%v</c>.</summary>
    /// <summary>Go's <c>%v</c> of a value (eKuiper's <c>cast.ToStringAlways</c> for everything but null).</summary>
    internal static string Format(Value value) => value.Kind switch
    {
        ValueKind.Null => "<nil>",
        ValueKind.Boolean => value.AsBoolean ? "true" : "false",
        ValueKind.Integer => value.AsInteger.ToString(CultureInfo.InvariantCulture),
        ValueKind.Float => GoFloat(value.AsFloat),
        ValueKind.String => value.AsString,
        ValueKind.Bytes => "[" + string.Join(" ", value.AsBytes) + "]",
        ValueKind.Datetime => GoTimeString(value.AsDateTimeOffset, value.DatetimeZone),
        ValueKind.Array => "[" + string.Join(" ", value.AsArray.Select(Format)) + "]",
        _ => "map[" + string.Join(" ", value.AsObject.Fields.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => f.Key + ":" + Format(f.Value))) + "]",
    };

    /// <summary>
    /// Go's <c>Time.String</c>: <c>2006-01-02 15:04:05.999 -0700 MST</c>. .NET has no zone abbreviations, so a zoned
    /// time ends in its offset as Go writes a zone without one (<c>+08</c>); a plain one is UTC.
    /// </summary>
    private static string GoTimeString(DateTimeOffset time, TimeZoneInfo? zone)
    {
        var text = time.ToString("yyyy-MM-dd HH:mm:ss.FFF", CultureInfo.InvariantCulture).TrimEnd('.');
        if (zone is null || time.Offset == TimeSpan.Zero && zone.Id is "UTC" or "Etc/UTC")
        {
            return text + " +0000 UTC";
        }

        var offset = time.Offset;
        var sign = offset < TimeSpan.Zero ? "-" : "+";
        var abs = offset.Duration();
        var name = abs.Minutes == 0 ? $"{sign}{abs.Hours:00}" : $"{sign}{abs.Hours:00}{abs.Minutes:00}";
        return $"{text} {sign}{abs.Hours:00}{abs.Minutes:00} {name}";
    }

    /// <summary>Go's <c>%v</c> of a float64: shortest digits, exponent form below 1e-4 and from 1e21.</summary>
    private static string GoFloat(double value)
    {
        if (double.IsNaN(value))
        {
            return "NaN";
        }

        if (double.IsInfinity(value))
        {
            return value > 0 ? "+Inf" : "-Inf";
        }

        var shortest = value.ToString("R", CultureInfo.InvariantCulture);
        var magnitude = Math.Abs(value);
        if (magnitude != 0 && (magnitude < 1e-4 || magnitude >= 1e21))
        {
            var e = value.ToString("0.################E+00", CultureInfo.InvariantCulture);
            return e.Replace("E", "e", StringComparison.Ordinal);
        }

        if (!shortest.Contains('E', StringComparison.Ordinal))
        {
            return shortest;
        }

        // "R" chose an exponent where Go writes the digits out: expand the same shortest digits.
        return decimal.Parse(shortest, NumberStyles.Float, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Go's <c>fmt.Sprint</c> (spaces between operands when neither is a string) or <c>Sprintln</c>.</summary>
    private static string Sprint(Value[] args, bool lines)
    {
        var output = new StringBuilder();
        for (var i = 0; i < args.Length; i++)
        {
            if (i > 0 && (lines || (args[i].Kind != ValueKind.String && args[i - 1].Kind != ValueKind.String)))
            {
                output.Append(' ');
            }

            output.Append(Format(args[i]));
        }

        return lines ? output.Append('\n').ToString() : output.ToString();
    }

    /// <summary>Go's <c>fmt.Sprintf</c> for the verbs templates use: <c>%v %s %d %f %e %g %t %q %x %X %c %%</c> with flags, width and precision.</summary>
    private static string Printf(Value[] args)
    {
        var format = args[0].Kind == ValueKind.String ? args[0].AsString : throw new TemplateException("printf: the format must be a string");
        var output = new StringBuilder();
        var next = 1;
        for (var i = 0; i < format.Length; i++)
        {
            var c = format[i];
            if (c != '%')
            {
                output.Append(c);
                continue;
            }

            i++;
            var minus = false;
            var plus = false;
            var zero = false;
            while (i < format.Length && format[i] is '-' or '+' or '0' or ' ' or '#')
            {
                (minus, plus, zero) = (minus || format[i] == '-', plus || format[i] == '+', zero || format[i] == '0');
                i++;
            }

            var width = ReadInt(format, ref i);
            int? precision = null;
            if (i < format.Length && format[i] == '.')
            {
                i++;
                precision = ReadInt(format, ref i) ?? 0;
            }

            if (i >= format.Length)
            {
                output.Append("%!(NOVERB)");
                break;
            }

            var verb = format[i];
            if (verb == '%')
            {
                output.Append('%');
                continue;
            }

            if (next >= args.Length)
            {
                output.Append("%!").Append(verb).Append("(MISSING)");
                continue;
            }

            var arg = args[next++];
            var text = FormatVerb(verb, arg, precision, plus) ?? $"%!{verb}({arg.TypeName}={Format(arg)})";
            if (width is { } w && text.Length < w)
            {
                text = minus ? text.PadRight(w)
                    : zero && verb is not ('s' or 'q' or 'v' or 't') ? Pad0(text, w)
                    : text.PadLeft(w);
            }

            output.Append(text);
        }

        if (next < args.Length)
        {
            output.Append("%!(EXTRA ").Append(string.Join(", ", args.Skip(next).Select(a => $"{a.TypeName}={Format(a)}"))).Append(')');
        }

        return output.ToString();
    }

    private static string Pad0(string text, int width) =>
        text.StartsWith('-') || text.StartsWith('+') ? text[0] + text[1..].PadLeft(width - 1, '0') : text.PadLeft(width, '0');

    private static int? ReadInt(string format, ref int i)
    {
        var start = i;
        while (i < format.Length && char.IsDigit(format[i]))
        {
            i++;
        }

        return i > start ? int.Parse(format.AsSpan(start, i - start), CultureInfo.InvariantCulture) : null;
    }

    private static string? FormatVerb(char verb, Value arg, int? precision, bool plus)
    {
        var inv = CultureInfo.InvariantCulture;
        string? text = verb switch
        {
            'v' => Format(arg),
            's' => arg.Kind == ValueKind.Bytes ? Encoding.UTF8.GetString(arg.AsBytes) : Format(arg),
            'q' when arg.Kind == ValueKind.String => GoQuote(arg.AsString),
            'd' when arg.Kind == ValueKind.Integer => arg.AsInteger.ToString(inv),
            'f' or 'F' when arg.IsNumber => arg.AsDouble.ToString("F" + (precision ?? 6).ToString(inv), inv),
            'e' when arg.IsNumber => GoExponent(arg.AsDouble, precision ?? 6),
            'g' when arg.IsNumber => precision is { } p ? arg.AsDouble.ToString("G" + p.ToString(inv), inv) : GoFloat(arg.AsDouble),
            't' when arg.Kind == ValueKind.Boolean => arg.AsBoolean ? "true" : "false",
            'x' when arg.Kind == ValueKind.Integer => arg.AsInteger.ToString("x", inv),
            'X' when arg.Kind == ValueKind.Integer => arg.AsInteger.ToString("X", inv),
            'x' when arg.Kind == ValueKind.String => Convert.ToHexStringLower(Encoding.UTF8.GetBytes(arg.AsString)),
            'x' when arg.Kind == ValueKind.Bytes => Convert.ToHexStringLower(arg.AsBytes),
            'c' when arg.Kind == ValueKind.Integer => char.ConvertFromUtf32((int)arg.AsInteger),
            _ => null,
        };
        if (text is not null && precision is { } max && verb is 's' or 'v' && arg.Kind == ValueKind.String && text.Length > max)
        {
            text = text[..max];
        }

        return plus && text is not null && arg.IsNumber && !text.StartsWith('-') ? "+" + text : text;
    }

    private static string GoQuote(string text)
    {
        var quoted = new StringBuilder("\"");
        foreach (var c in text)
        {
            quoted.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\t' => "\\t",
                '\r' => "\\r",
                < ' ' => string.Create(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}"),
                _ => c.ToString(),
            });
        }

        return quoted.Append('"').ToString();
    }

    private static string GoExponent(double value, int precision)
    {
        var text = value.ToString((precision == 0 ? "0" : "0." + new string('0', precision)) + "e+00", CultureInfo.InvariantCulture);
        return text;
    }
}
