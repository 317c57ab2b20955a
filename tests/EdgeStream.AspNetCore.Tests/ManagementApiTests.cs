using System.Net;
using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeStream.AspNetCore.Tests;

/// <summary>The management API over real HTTP, against Kestrel on loopback, with eKuiper's requests and answers.</summary>
public sealed class ManagementApiTests
{
    private const string Stream = """{"sql": "CREATE STREAM demo (color string, size bigint) WITH (TYPE=\"memory\", DATASOURCE=\"in/demo\", SHARED=\"true\")"}""";
    private const string Rule = """{"id": "r1", "sql": "SELECT color FROM demo WHERE size > 3", "actions": [{"memory": {"topic": "out/r1"}}]}""";

    [Test]
    public async Task Streams_can_be_created_listed_described_updated_and_dropped()
    {
        await using var app = await StartAsync(app => app.MapEdgeStream("/edgestream"));
        using var http = Client(app);

        await Expect(http.PostAsync("edgestream/streams", Json(Stream)), HttpStatusCode.Created, "Stream demo is created.");
        await Expect(http.GetAsync("edgestream/streams"), HttpStatusCode.OK, """["demo"]""");
        await Expect(http.GetAsync("edgestream/tables"), HttpStatusCode.OK, "[]");

        var described = JsonNode.Parse(await Body(http.GetAsync("edgestream/streams/demo"), HttpStatusCode.OK))!;
        Assert.Multiple(() =>
        {
            Assert.That(described["Name"]!.GetValue<string>(), Is.EqualTo("demo"));
            Assert.That(described["StreamFields"]!.AsArray().Select(f => f!["Name"]!.GetValue<string>()), Is.EqualTo(new[] { "color", "size" }));
            Assert.That(described["Options"]!["DATASOURCE"]!.GetValue<string>(), Is.EqualTo("in/demo"));
        });

        await Expect(http.PutAsync("edgestream/streams/demo", Json("""{"sql": "CREATE STREAM demo (color string) WITH (TYPE=\"memory\", DATASOURCE=\"in/demo2\")"}""")), HttpStatusCode.OK, "Stream demo is updated.");
        var updated = JsonNode.Parse(await Body(http.GetAsync("edgestream/streams/demo"), HttpStatusCode.OK))!;
        Assert.That(updated["Options"]!["DATASOURCE"]!.GetValue<string>(), Is.EqualTo("in/demo2"));

        await ExpectError(http.PutAsync("edgestream/streams/demo", Json("""{"sql": "CREATE STREAM other () WITH ()"}""")), HttpStatusCode.BadRequest, "declares `other`, not `demo`");
        await ExpectError(http.PostAsync("edgestream/streams", Json("""{"sql": "CREATE STREM x () WITH ()"}""")), HttpStatusCode.BadRequest, "line 1, column 8");
        await ExpectError(http.PostAsync("edgestream/streams", Json("""{"sql": "CREATE TABLE t () WITH (TYPE=\"memory\", DATASOURCE=\"t\")"}""")), HttpStatusCode.BadRequest, "must be CREATE STREAM");
        await ExpectError(http.GetAsync("edgestream/streams/nosuch"), HttpStatusCode.NotFound, "stream `nosuch` is not found");

        await Expect(http.DeleteAsync("edgestream/streams/demo"), HttpStatusCode.OK, "Stream demo is dropped.");
        await Expect(http.GetAsync("edgestream/streams"), HttpStatusCode.OK, "[]");
    }

    [Test]
    public async Task Rules_follow_their_whole_lifecycle_over_http()
    {
        await using var app = await StartAsync(app => app.MapEdgeStream("/edgestream"));
        using var http = Client(app);
        var engine = app.Services.GetRequiredService<EdgeStreamEngine>();
        await Expect(http.PostAsync("edgestream/streams", Json(Stream)), HttpStatusCode.Created, "Stream demo is created.");

        await Expect(http.PostAsync("edgestream/rules/validate", Json(Rule)), HttpStatusCode.OK, "The rule has been successfully validated and is confirmed to be correct.");
        await ExpectError(http.PostAsync("edgestream/rules/validate", Json(Rule.Replace("color FROM", "colr FROM", StringComparison.Ordinal))), HttpStatusCode.UnprocessableEntity, "unknown field `colr`");
        Assert.That(engine.RuleIds, Is.Empty, "validate creates nothing");

        await Expect(http.PostAsync("edgestream/rules", Json(Rule)), HttpStatusCode.Created, "Rule r1 was created successfully.");
        await ExpectError(http.PostAsync("edgestream/rules", Json(Rule)), HttpStatusCode.BadRequest, "already exists");
        await Expect(http.GetAsync("edgestream/rules"), HttpStatusCode.OK, """[{"id":"r1","status":"Running"}]""");

        // Events flow while it runs, and its status counts them.
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var output = engine.Memory.Subscribe("out/r1", stop.Token);
        await engine.Memory.PublishAsync("in/demo", new Dictionary<string, object?> { ["color"] = "red", ["size"] = 5L });
        Assert.That((await output.ReadAsync(stop.Token))[0]["color"], Is.EqualTo("red"));
        var status = JsonNode.Parse(await Body(http.GetAsync("edgestream/rules/r1/status"), HttpStatusCode.OK))!;
        Assert.Multiple(() =>
        {
            Assert.That(status["status"]!.GetValue<string>(), Is.EqualTo("running"));
            Assert.That(status["records_in_total"]!.GetValue<long>(), Is.EqualTo(1));
            Assert.That(status["records_out_total"]!.GetValue<long>(), Is.EqualTo(1));
        });

        var described = JsonNode.Parse(await Body(http.GetAsync("edgestream/rules/r1"), HttpStatusCode.OK))!;
        Assert.That(described["sql"]!.GetValue<string>(), Is.EqualTo("SELECT color FROM demo WHERE size > 3"));
        Assert.That(await Body(http.GetAsync("edgestream/rules/r1/explain"), HttpStatusCode.OK), Does.Contain("demo"));

        await Expect(http.PostAsync("edgestream/rules/r1/stop", null), HttpStatusCode.OK, "Rule r1 was stopped.");
        Assert.That(engine.GetRuleStatus("r1").State, Is.EqualTo(RuleState.Stopped));
        await Expect(http.GetAsync("edgestream/rules"), HttpStatusCode.OK, """[{"id":"r1","status":"Stopped: canceled manually."}]""");
        await Expect(http.PostAsync("edgestream/rules/r1/start", null), HttpStatusCode.OK, "Rule r1 was started");
        await Expect(http.PostAsync("edgestream/rules/r1/restart", null), HttpStatusCode.OK, "Rule r1 was restarted");
        Assert.That(engine.GetRuleStatus("r1").State, Is.EqualTo(RuleState.Running));

        await Expect(http.PutAsync("edgestream/rules/r1", Json(Rule.Replace("size > 3", "size > 10", StringComparison.Ordinal))), HttpStatusCode.OK, "Rule r1 was updated successfully.");
        Assert.That(JsonNode.Parse(engine.DescribeRule("r1"))!["sql"]!.GetValue<string>(), Does.EndWith("size > 10"));
        await ExpectError(http.PutAsync("edgestream/rules/r1", Json(Rule.Replace("\"r1\"", "\"r2\"", StringComparison.Ordinal))), HttpStatusCode.BadRequest, "not `r1`");
        await ExpectError(http.PutAsync("edgestream/rules/nosuch", Json(Rule)), HttpStatusCode.BadRequest, "not `nosuch`");

        await ExpectError(http.DeleteAsync("edgestream/streams/demo"), HttpStatusCode.BadRequest, "used by rule `r1`");
        await Expect(http.DeleteAsync("edgestream/rules/r1"), HttpStatusCode.OK, "Rule r1 is dropped.");
        await ExpectError(http.GetAsync("edgestream/rules/r1/status"), HttpStatusCode.NotFound, "r1");
        await ExpectError(http.PostAsync("edgestream/rules/r1/start", null), HttpStatusCode.NotFound, "r1");
        await ExpectError(http.PostAsync("edgestream/rules", Json("{not json")), HttpStatusCode.BadRequest, "");
    }

    [Test]
    public async Task Secrets_in_a_sink_url_are_masked_in_what_the_api_returns()
    {
        await using var app = await StartAsync(app => app.MapEdgeStream("/edgestream"));
        using var http = Client(app);
        await Expect(http.PostAsync("edgestream/streams", Json(Stream)), HttpStatusCode.Created, "Stream demo is created.");
        await Expect(http.PostAsync("edgestream/rules", Json("""{"id": "s", "sql": "SELECT * FROM demo", "actions": [{"any": {"url": "mysql://edge:hunter2-secret@db:3306/plant", "password": "hunter2-secret"}}]}""")), HttpStatusCode.Created, "Rule s was created successfully.");

        foreach (var path in new[] { "edgestream/rules/s", "edgestream/rules/s/status", "edgestream/rules/s/explain", "edgestream/rules" })
        {
            Assert.That(await Body(http.GetAsync(path), HttpStatusCode.OK), Does.Not.Contain("hunter2-secret"), path);
        }
    }

    [Test]
    public async Task Nothing_is_served_unless_mapped_and_a_policy_on_the_group_guards_every_endpoint()
    {
        await using (var bare = await StartAsync(_ => { }))
        {
            using var http = Client(bare);
            Assert.That((await http.GetAsync("edgestream/rules")).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        }

        await using var app = await StartAsync(
            app => app.MapEdgeStream("/edgestream").RequireAuthorization("EdgeStreamAdmin"),
            services =>
            {
                services.AddAuthentication("Header").AddScheme<AuthenticationSchemeOptions, HeaderAuthentication>("Header", null);
                services.AddAuthorizationBuilder().AddPolicy("EdgeStreamAdmin", p => p.RequireClaim("role", "admin"));
            });
        using var client = Client(app);
        Assert.That((await client.GetAsync("edgestream/rules")).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That((await client.PostAsync("edgestream/streams", Json(Stream))).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(app.Services.GetRequiredService<EdgeStreamEngine>().GetStreams(), Is.Empty, "the refused request changed nothing");

        using var viewer = new HttpRequestMessage(HttpMethod.Get, "edgestream/rules") { Headers = { { "X-Role", "viewer" } } };
        Assert.That((await client.SendAsync(viewer)).StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        using var admin = new HttpRequestMessage(HttpMethod.Get, "edgestream/rules") { Headers = { { "X-Role", "admin" } } };
        await Expect(client.SendAsync(admin), HttpStatusCode.OK, "[]");
    }

    private static async Task<WebApplication> StartAsync(Action<WebApplication> map, Action<IServiceCollection>? services = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddEdgeStream().AddSink("any", (_, _) => new NopSink(), null);
        services?.Invoke(builder.Services);
        var app = builder.Build();
        if (services is not null)
        {
            app.UseAuthentication();
            app.UseAuthorization();
        }

        map(app);
        await app.StartAsync();
        return app;
    }

    private static HttpClient Client(WebApplication app)
    {
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new HttpClient { BaseAddress = new Uri(address.TrimEnd('/') + "/") };
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<string> Body(Task<HttpResponseMessage> call, HttpStatusCode status)
    {
        using var response = await call;
        var body = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(status), body);
        return body;
    }

    private static async Task Expect(Task<HttpResponseMessage> call, HttpStatusCode status, string body) =>
        Assert.That(await Body(call, status), Is.EqualTo(body));

    private static async Task ExpectError(Task<HttpResponseMessage> call, HttpStatusCode status, string fragment)
    {
        var error = JsonNode.Parse(await Body(call, status))!;
        Assert.Multiple(() =>
        {
            Assert.That(error["error"]!.GetValue<int>(), Is.EqualTo(status == HttpStatusCode.NotFound ? 1002 : 1000));
            Assert.That(error["message"]!.GetValue<string>(), Does.Contain(fragment));
        });
    }

    /// <summary>A sink that takes any property and writes nowhere.</summary>
    private sealed class NopSink : ISink
    {
        public ValueTask OpenAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask WriteAsync(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>Authenticates a request that has an <c>X-Role</c> header, with that role as a claim.</summary>
    private sealed class HeaderAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync() =>
            Task.FromResult(Request.Headers.TryGetValue("X-Role", out var role)
                ? AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity([new Claim("role", role.ToString())], "Header")), "Header"))
                : AuthenticateResult.NoResult());
    }
}
