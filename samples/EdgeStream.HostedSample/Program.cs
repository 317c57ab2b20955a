// EdgeStream inside an ASP.NET Core app, Native AOT included:
// - the stream and the rule come from appsettings.json (section "EdgeStream"), checked and started with the app;
// - POST /readings takes a JSON reading and pushes it into the stream;
// - GET /alerts lists what the rule has sent to its memory topic so far;
// - /edgestream is the management API (eKuiper's REST shape), /health the health check.
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using EdgeStream;
using EdgeStream.AspNetCore;
using EdgeStream.Hosting;
using EdgeStream.HostedSample;

var builder = WebApplication.CreateSlimBuilder(args);
builder.Services.AddEdgeStream(builder.Configuration);
builder.Services.AddHealthChecks().AddEdgeStream();
var app = builder.Build();

var engine = app.Services.GetRequiredService<EdgeStreamEngine>();
var alerts = new ConcurrentQueue<string>();
using var subscription = engine.Memory.Subscribe("alerts", (rows, _) =>
{
    foreach (var row in rows)
    {
        alerts.Enqueue(Json.Write(row));
    }

    return ValueTask.CompletedTask;
});

app.MapEdgeStream("/edgestream");
app.MapHealthChecks("/health");
app.MapPost("/readings", async context =>
{
    using var body = new MemoryStream();
    await context.Request.Body.CopyToAsync(body, context.RequestAborted);
    try
    {
        await engine.PublishJsonAsync("readings", body.ToArray(), context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status202Accepted;
    }
    catch (ArgumentException e)
    {
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        await context.Response.WriteAsync(e.Message, context.RequestAborted);
    }
});
app.MapGet("/alerts", async context =>
{
    context.Response.ContentType = "application/json";
    await context.Response.WriteAsync("[" + string.Join(",", alerts) + "]", context.RequestAborted);
});

await app.RunAsync();

namespace EdgeStream.HostedSample
{
    /// <summary>A result row as JSON, without reflection (the app is published as Native AOT).</summary>
    internal static class Json
    {
        public static string Write(IReadOnlyDictionary<string, object?> row)
        {
            using var buffer = new MemoryStream();
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                foreach (var (name, value) in row)
                {
                    json.WritePropertyName(name);
                    switch (value)
                    {
                        case null: json.WriteNullValue(); break;
                        case string s: json.WriteStringValue(s); break;
                        case bool b: json.WriteBooleanValue(b); break;
                        case long l: json.WriteNumberValue(l); break;
                        case int i: json.WriteNumberValue(i); break;
                        case double d: json.WriteNumberValue(d); break;
                        default: json.WriteStringValue(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)); break;
                    }
                }

                json.WriteEndObject();
            }

            return Encoding.UTF8.GetString(buffer.ToArray());
        }
    }
}
