using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeStream.Sql.Ast;
using EdgeStream.Sql.Parsing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeStream.AspNetCore;

/// <summary>
/// eKuiper's REST API over the engine. Handlers are plain <see cref="RequestDelegate"/>s writing JSON built with
/// <see cref="JsonNode"/> (no reflection, Native AOT safe). Success messages are eKuiper's texts; errors are
/// <c>{"error": 1000|1002, "message": "…"}</c> with 400 (invalid input) or 404 (no such stream or rule).
/// </summary>
internal static class ManagementApi
{
    private const int GeneralError = 1000;
    private const int NotFoundError = 1002;
    private const int MaxBody = 1 << 20;

    /// <summary>Writes text as it is (backquotes and quotes in messages are not escaped to <c>\u0060</c>): the bodies are JSON, never HTML.</summary>
    private static readonly JsonSerializerOptions Output = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Map(RouteGroupBuilder api)
    {
        foreach (var isTable in new[] { false, true })
        {
            var kind = isTable ? "tables" : "streams";
            api.MapPost($"/{kind}", Handle((c, e) => CreateStreamAsync(c, e, isTable)));
            api.MapGet($"/{kind}", Handle((c, e) => ListStreamsAsync(c, e, isTable)));
            api.MapGet($"/{kind}/{{name}}", Handle((c, e) => DescribeStreamAsync(c, e, isTable)));
            api.MapPut($"/{kind}/{{name}}", Handle((c, e) => UpdateStreamAsync(c, e, isTable)));
            api.MapDelete($"/{kind}/{{name}}", Handle((c, e) => DropStreamAsync(c, e, isTable)));
        }

        api.MapPost("/rules", Handle(CreateRuleAsync));
        api.MapGet("/rules", Handle(ListRulesAsync));
        api.MapPost("/rules/validate", Handle(ValidateRuleAsync));
        api.MapGet("/rules/{id}", Handle((c, e) => Text(c, 200, e.DescribeRule(Id(c)), "application/json")));
        api.MapPut("/rules/{id}", Handle(UpdateRuleAsync));
        api.MapDelete("/rules/{id}", Handle(async (c, e) =>
        {
            await e.DeleteRuleAsync(Id(c), c.RequestAborted).ConfigureAwait(false);
            await Text(c, 200, $"Rule {Id(c)} is dropped.").ConfigureAwait(false);
        }));
        api.MapPost("/rules/{id}/start", Handle(async (c, e) =>
        {
            await e.StartRuleAsync(Id(c), c.RequestAborted).ConfigureAwait(false);
            await Text(c, 200, $"Rule {Id(c)} was started").ConfigureAwait(false);
        }));
        api.MapPost("/rules/{id}/stop", Handle(async (c, e) =>
        {
            await e.StopRuleAsync(Id(c), c.RequestAborted).ConfigureAwait(false);
            await Text(c, 200, $"Rule {Id(c)} was stopped.").ConfigureAwait(false);
        }));
        api.MapPost("/rules/{id}/restart", Handle(async (c, e) =>
        {
            await e.StopRuleAsync(Id(c), c.RequestAborted).ConfigureAwait(false);
            await e.StartRuleAsync(Id(c), c.RequestAborted).ConfigureAwait(false);
            await Text(c, 200, $"Rule {Id(c)} was restarted").ConfigureAwait(false);
        }));
        api.MapGet("/rules/{id}/status", Handle((c, e) => Text(c, 200, Status(e.GetRuleStatus(Id(c))), "application/json")));
        api.MapGet("/rules/{id}/explain", Handle((c, e) => Text(c, 200, e.ExplainRule(Id(c)))));
    }

    /// <summary>Runs a handler with the app's engine, turning the engine's errors into eKuiper's error bodies.</summary>
    private static RequestDelegate Handle(Func<HttpContext, EdgeStreamEngine, Task> handler) => async context =>
    {
        var engine = context.RequestServices.GetRequiredService<EdgeStreamEngine>();
        try
        {
            await handler(context, engine).ConfigureAwait(false);
        }
        catch (KeyNotFoundException e)
        {
            await Error(context, StatusCodes.Status404NotFound, NotFoundError, e.Message).ConfigureAwait(false);
        }
        catch (NotFound e)
        {
            await Error(context, StatusCodes.Status404NotFound, NotFoundError, e.Message).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SqlException or FormatException or ArgumentException or JsonException or InvalidOperationException or SinkException or BadRequest)
        {
            await Error(context, StatusCodes.Status400BadRequest, GeneralError, e.Message).ConfigureAwait(false);
        }
    };

    private static async Task CreateStreamAsync(HttpContext context, EdgeStreamEngine engine, bool isTable)
    {
        var (create, sql) = await ReadCreateAsync(context, isTable).ConfigureAwait(false);
        engine.Execute(create, sql);
        await Text(context, StatusCodes.Status201Created, $"{Kind(isTable)} {create.Name} is created.").ConfigureAwait(false);
    }

    private static Task ListStreamsAsync(HttpContext context, EdgeStreamEngine engine, bool isTable)
    {
        var names = new JsonArray();
        foreach (var stream in engine.GetStreams().Where(s => s.IsTable == isTable))
        {
            names.Add((JsonNode)stream.Name);
        }

        return Text(context, 200, names.ToJsonString(Output), "application/json");
    }

    private static Task DescribeStreamAsync(HttpContext context, EdgeStreamEngine engine, bool isTable)
    {
        var stream = Find(engine, context, isTable);
        var fields = new JsonArray();
        foreach (var (name, type) in stream.Fields)
        {
            fields.Add((JsonNode)new JsonObject { ["Name"] = name, ["FieldType"] = type });
        }

        var options = new JsonObject();
        foreach (var (name, value) in stream.Options)
        {
            options[name] = value;
        }

        var body = new JsonObject { ["Name"] = stream.Name, ["StreamFields"] = fields, ["Options"] = options, ["Statement"] = stream.Statement };
        return Text(context, 200, body.ToJsonString(Output), "application/json");
    }

    /// <summary>Replaces a stream's declaration: refused while a rule uses it; a new declaration that fails leaves the old one.</summary>
    private static async Task UpdateStreamAsync(HttpContext context, EdgeStreamEngine engine, bool isTable)
    {
        var name = Name(context);
        var (create, sql) = await ReadCreateAsync(context, isTable).ConfigureAwait(false);
        if (!create.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
        {
            throw new BadRequest($"the statement declares `{create.Name}`, not `{name}`");
        }

        Find(engine, context, isTable);
        var old = engine.FindStreamStatement(name)!;
        engine.Drop(name, isTable);
        try
        {
            engine.Execute(create, sql);
        }
        catch
        {
            engine.Execute(old);
            throw;
        }

        await Text(context, 200, $"{Kind(isTable)} {create.Name} is updated.").ConfigureAwait(false);
    }

    private static async Task DropStreamAsync(HttpContext context, EdgeStreamEngine engine, bool isTable)
    {
        var stream = Find(engine, context, isTable);
        engine.Drop(stream.Name, isTable);
        await Text(context, 200, $"{Kind(isTable)} {stream.Name} is dropped.").ConfigureAwait(false);
    }

    private static async Task CreateRuleAsync(HttpContext context, EdgeStreamEngine engine)
    {
        var rule = RuleDefinition.FromJson(await ReadBodyAsync(context).ConfigureAwait(false));
        if (engine.RuleIds.Contains(rule.Id, StringComparer.Ordinal))
        {
            throw new BadRequest($"rule `{rule.Id}` already exists");
        }

        await engine.CreateRuleAsync(rule, context.RequestAborted).ConfigureAwait(false);
        await Text(context, StatusCodes.Status201Created, $"Rule {rule.Id} was created successfully.").ConfigureAwait(false);
    }

    private static Task ListRulesAsync(HttpContext context, EdgeStreamEngine engine)
    {
        var list = new JsonArray();
        foreach (var status in engine.GetRuleStatuses())
        {
            var text = status.State switch
            {
                RuleState.Running => "Running",
                RuleState.StoppedByError => "Stopped: " + status.LastError,
                _ => "Stopped: canceled manually.",
            };
            list.Add((JsonNode)new JsonObject { ["id"] = status.Id, ["status"] = text });
        }

        return Text(context, 200, list.ToJsonString(Output), "application/json");
    }

    private static async Task UpdateRuleAsync(HttpContext context, EdgeStreamEngine engine)
    {
        var id = Id(context);
        if (JsonNode.Parse(await ReadBodyAsync(context).ConfigureAwait(false)) is not JsonObject json)
        {
            throw new BadRequest("the body must be a rule JSON object");
        }

        if (json["id"] is { } given && given.GetValueKind() == JsonValueKind.String && given.GetValue<string>() != id)
        {
            throw new BadRequest($"the body is rule `{given.GetValue<string>()}`, not `{id}`");
        }

        json["id"] = id;
        if (!engine.RuleIds.Contains(id, StringComparer.Ordinal))
        {
            throw new NotFound($"rule `{id}` is not found");
        }

        await engine.UpdateRuleAsync(RuleDefinition.FromJson(json.ToJsonString()), context.RequestAborted).ConfigureAwait(false);
        await Text(context, 200, $"Rule {id} was updated successfully.").ConfigureAwait(false);
    }

    /// <summary>Checks a rule without creating it: 200 when valid, 422 with the error otherwise (eKuiper's codes).</summary>
    private static async Task ValidateRuleAsync(HttpContext context, EdgeStreamEngine engine)
    {
        try
        {
            engine.ValidateRule(RuleDefinition.FromJson(await ReadBodyAsync(context).ConfigureAwait(false)));
        }
        catch (Exception e) when (e is SqlException or FormatException or ArgumentException or JsonException or SinkException)
        {
            await Error(context, StatusCodes.Status422UnprocessableEntity, GeneralError, e.Message).ConfigureAwait(false);
            return;
        }

        await Text(context, 200, "The rule has been successfully validated and is confirmed to be correct.").ConfigureAwait(false);
    }

    /// <summary>eKuiper's status object: <c>status</c>, the error <c>message</c> when stopped by one, then every metric.</summary>
    private static string Status(RuleStatus status)
    {
        var json = new JsonObject
        {
            ["status"] = status.State switch
            {
                RuleState.Running => "running",
                RuleState.StoppedByError => "stopped by error",
                _ => "stopped",
            },
        };
        if (status.State == RuleState.StoppedByError && status.LastError is { } error)
        {
            json["message"] = error;
        }

        json["records_in_total"] = status.RecordsIn;
        json["records_out_total"] = status.RecordsOut;
        json["errors_total"] = status.Errors;
        foreach (var (name, value) in status.Metrics)
        {
            json[name] = value;
        }

        foreach (var (name, value) in status.LastExceptions)
        {
            json[name] = value;
        }

        if (status.Warnings.Count > 0)
        {
            var warnings = new JsonArray();
            foreach (var warning in status.Warnings)
            {
                warnings.Add((JsonNode)warning);
            }

            json["warnings"] = warnings;
        }

        return json.ToJsonString(Output);
    }

    private static async Task<(CreateStreamStatement Create, string Sql)> ReadCreateAsync(HttpContext context, bool isTable)
    {
        var body = JsonNode.Parse(await ReadBodyAsync(context).ConfigureAwait(false)) as JsonObject;
        if (body?["sql"] is not { } node || node.GetValueKind() != JsonValueKind.String)
        {
            throw new BadRequest("the body must be {\"sql\": \"CREATE …\"}");
        }

        var sql = node.GetValue<string>();
        return SqlParser.ParseStatement(sql) is CreateStreamStatement create && create.IsTable == isTable
            ? (create, sql)
            : throw new BadRequest($"the statement must be CREATE {(isTable ? "TABLE" : "STREAM")}");
    }

    private static StreamDescription Find(EdgeStreamEngine engine, HttpContext context, bool isTable)
    {
        var name = Name(context);
        return engine.GetStreams().FirstOrDefault(s => s.IsTable == isTable && s.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
            ?? throw new NotFound($"{Kind(isTable).ToLowerInvariant()} `{name}` is not found");
    }

    private static async Task<string> ReadBodyAsync(HttpContext context)
    {
        if (context.Request.ContentLength > MaxBody)
        {
            throw new BadRequest($"the body is over {MaxBody} bytes");
        }

        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var buffer = new char[MaxBody + 1];
        var read = 0;
        int n;
        while (read <= MaxBody && (n = await reader.ReadAsync(buffer.AsMemory(read, MaxBody + 1 - read), context.RequestAborted).ConfigureAwait(false)) > 0)
        {
            read += n;
        }

        return read > MaxBody ? throw new BadRequest($"the body is over {MaxBody} characters") : new string(buffer, 0, read);
    }

    private static string Id(HttpContext context) => (string)context.Request.RouteValues["id"]!;

    private static string Name(HttpContext context) => (string)context.Request.RouteValues["name"]!;

    private static string Kind(bool isTable) => isTable ? "Table" : "Stream";

    private static Task Text(HttpContext context, int status, string text, string contentType = "text/plain; charset=utf-8")
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        return context.Response.WriteAsync(text, context.RequestAborted);
    }

    private static Task Error(HttpContext context, int status, int code, string message) =>
        Text(context, status, new JsonObject { ["error"] = code, ["message"] = message }.ToJsonString(Output), "application/json");

    private sealed class BadRequest(string message) : Exception(message);

    private sealed class NotFound(string message) : Exception(message);
}
