using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Hosting.Tests;

/// <summary>EdgeStream in a real generic host, configured from appsettings JSON.</summary>
public sealed class HostingTests
{
    private const string Settings = """
        {
          "EdgeStream": {
            "Streams": {
              "readings": "CREATE STREAM readings (device string, temperature float) WITH (TYPE=\"memory\", DATASOURCE=\"in/readings\", SHARED=\"true\")"
            },
            "Sinks": {
              "collect": { "hot": { "label": "from-resource", "prefix": "r:" } }
            },
            "Rules": [
              {
                "id": "hot",
                "sql": "SELECT device, temperature FROM readings WHERE temperature > 30",
                "actions": [ { "collect": { "resourceId": "hot", "label": "own" } } ],
                "options": { "bufferLength": 512 }
              },
              {
                "id": "paused",
                "sql": "SELECT * FROM readings",
                "actions": [ { "memory": { "topic": "out/paused" } } ],
                "triggered": false
              }
            ]
          }
        }
        """;

    [Test]
    public async Task Rules_from_appsettings_run_with_the_host_and_stop_with_it()
    {
        var collected = new Collected();
        using var host = Build(Settings, collected);
        var engine = host.Services.GetRequiredService<EdgeStreamEngine>();

        await host.StartAsync();
        Assert.Multiple(() =>
        {
            Assert.That(engine.GetRuleStatus("hot").State, Is.EqualTo(RuleState.Running));
            Assert.That(engine.GetRuleStatus("paused").State, Is.EqualTo(RuleState.Stopped));
            Assert.That(engine.GetStreams().Select(s => s.Name), Is.EqualTo(new[] { "readings" }));
        });

        await engine.Memory.PublishAsync("in/readings", Row("a", 20.5));
        await engine.Memory.PublishAsync("in/readings", Row("b", 31.5));
        await engine.Memory.PublishAsync("in/readings", Row("c", 40.0));
        await collected.WaitForAsync(2);

        await host.StopAsync();
        Assert.Multiple(() =>
        {
            Assert.That(collected.Rows.Select(r => r["device"]), Is.EqualTo(new[] { "b", "c" }));
            // The action's own property wins over the shared resource's; the resource fills what the action lacks.
            Assert.That(collected.Properties!["label"], Is.EqualTo("own"));
            Assert.That(collected.Properties["prefix"], Is.EqualTo("r:"));
            Assert.That(collected.Properties.ContainsKey("resourceId"), Is.False);
            Assert.That(collected.Closed, Is.True, "stopping the host closes the rule's sink");
        });
    }

    [Test]
    public void Invalid_configuration_fails_startup_listing_every_problem_with_its_path()
    {
        const string bad = """
            {
              "EdgeStream": {
                "Streams": { "s": "CREATE STREAM s (a bigint) WITH (TYPE=\"memory\", DATASOURCE=\"x\")", "broken": "CREATE STREM t () WITH ()" },
                "Rules": [
                  { "id": "r1", "sql": "SELECT a FORM s", "actions": [ { "memory": { "topic": "o" } } ] },
                  { "id": "r2", "sql": "SELECT nosuch FROM s", "actions": [ { "memory": { "topic": "o" } } ] },
                  { "id": "r3", "sql": "SELECT a FROM s", "actions": [ { "nosuchsink": {} } ] },
                  { "id": "r4", "sql": "SELECT a FROM s", "actions": [ { "memory": { "topic": "o" } } ], "options": { "bogus": 1 } },
                  { "id": "r5", "sql": "SELECT a FROM s", "actions": [ { "memory": { "resourceId": "missing" } } ] },
                  { "id": "ok", "sql": "SELECT a FROM s", "actions": [ { "memory": { "topic": "o" } } ] }
                ],
                "Extra": { "x": 1 }
              }
            }
            """;
        using var host = Build(bad, new Collected());
        var engine = host.Services.GetRequiredService<EdgeStreamEngine>();

        var error = Assert.ThrowsAsync<EdgeStreamConfigurationException>(() => host.StartAsync())!;
        TestContext.Out.WriteLine(error.Message);
        Assert.Multiple(() =>
        {
            Assert.That(error.Errors, Has.Count.EqualTo(7));
            Assert.That(error.Errors, Has.Some.StartsWith("EdgeStream:Extra: unknown key `Extra`"));
            Assert.That(error.Errors, Has.Some.Matches<string>(e => e.StartsWith("EdgeStream:Streams:broken: ", StringComparison.Ordinal) && e.Contains("line 1, column 8", StringComparison.Ordinal)));
            Assert.That(error.Errors, Has.Some.Matches<string>(e => e.StartsWith("EdgeStream:Rules:0: ", StringComparison.Ordinal) && e.Contains("FORM", StringComparison.Ordinal)));
            Assert.That(error.Errors, Has.Some.Matches<string>(e => e.StartsWith("EdgeStream:Rules:1: ", StringComparison.Ordinal) && e.Contains("nosuch", StringComparison.Ordinal)));
            Assert.That(error.Errors, Has.Some.Matches<string>(e => e.StartsWith("EdgeStream:Rules:2: ", StringComparison.Ordinal) && e.Contains("nosuchsink", StringComparison.Ordinal)));
            Assert.That(error.Errors, Has.Some.Matches<string>(e => e.StartsWith("EdgeStream:Rules:3: ", StringComparison.Ordinal) && e.Contains("bogus", StringComparison.Ordinal)));
            Assert.That(error.Errors, Has.Some.Matches<string>(e => e.StartsWith("EdgeStream:Rules:4: ", StringComparison.Ordinal) && e.Contains("missing", StringComparison.Ordinal)));
            Assert.That(engine.RuleIds, Is.Empty, "no rule is created, not even the valid one, while any is invalid");
        });
    }

    [Test]
    public async Task Rules_declared_in_code_join_those_from_configuration_and_a_duplicate_id_is_an_error()
    {
        var collected = new Collected();
        using var host = Build(Settings, collected, builder => builder
            .AddRule("""{"id": "all", "sql": "SELECT device FROM readings", "actions": [{"collect": {}}]}"""));
        await host.StartAsync();
        var engine = host.Services.GetRequiredService<EdgeStreamEngine>();
        Assert.That(engine.RuleIds.Order(), Is.EqualTo(new[] { "all", "hot", "paused" }));
        await host.StopAsync();

        using var twice = Build(Settings, new Collected(), builder => builder
            .AddRule(new RuleDefinition("hot", "SELECT device FROM readings") { Actions = { new RuleAction("collect") } }));
        var error = Assert.ThrowsAsync<EdgeStreamConfigurationException>(() => twice.StartAsync())!;
        Assert.That(error.Errors, Has.Some.Contains("rule id `hot` is declared twice"));
    }

    [Test]
    public async Task Metrics_reach_a_listener_by_meter_name()
    {
        var counts = new ConcurrentDictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == EdgeStreamEngine.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag is { Key: "rule", Value: "hot" })
                {
                    counts.AddOrUpdate(instrument.Name, value, (_, old) => old + value);
                }
            }
        });
        listener.Start();

        var collected = new Collected();
        using var host = Build(Settings, collected);
        await host.StartAsync();
        var engine = host.Services.GetRequiredService<EdgeStreamEngine>();
        await engine.Memory.PublishAsync("in/readings", Row("a", 35));
        await engine.Memory.PublishAsync("in/readings", Row("b", 10));
        await collected.WaitForAsync(1);
        await host.StopAsync();

        Assert.Multiple(() =>
        {
            Assert.That(counts.GetValueOrDefault("edgestream.rule.records_in"), Is.EqualTo(2));
            Assert.That(counts.GetValueOrDefault("edgestream.rule.records_out"), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task The_health_check_reports_rule_states_and_turns_unhealthy_when_a_rule_fails()
    {
        var collected = new Collected();
        using var host = Build(Settings, collected, configureServices: services => services.AddHealthChecks().AddEdgeStream());
        await host.StartAsync();
        var health = host.Services.GetRequiredService<HealthCheckService>();
        var engine = host.Services.GetRequiredService<EdgeStreamEngine>();

        var report = await health.CheckHealthAsync();
        Assert.Multiple(() =>
        {
            Assert.That(report.Status, Is.EqualTo(HealthStatus.Healthy));
            Assert.That(report.Entries["edgestream"].Data["hot"], Is.EqualTo("Running"));
            Assert.That(report.Entries["edgestream"].Data["paused"], Is.EqualTo("Stopped"));
        });

        // A rule whose sink refuses to open is kept, stopped by the error.
        collected.FailOpen = true;
        Assert.ThrowsAsync<SinkException>(() => engine.CreateRuleAsync(RuleDefinition.FromJson("""
            {"id": "broken", "sql": "SELECT * FROM readings", "actions": [{"collect": {}}]}
            """)));

        report = await health.CheckHealthAsync();
        Assert.Multiple(() =>
        {
            Assert.That(report.Status, Is.EqualTo(HealthStatus.Unhealthy));
            Assert.That(report.Entries["edgestream"].Description, Does.Contain("broken (").And.Contain("1 failed"));
            Assert.That(report.Entries["edgestream"].Data["broken"], Is.EqualTo("StoppedByError"));
        });
        await host.StopAsync();
    }

    [Test]
    public async Task Log_messages_are_structured_with_event_ids()
    {
        var logs = new LogCollector();
        using var host = Build(Settings, new Collected(), configureServices: services => services.AddLogging(l => l.AddProvider(logs)));
        await host.StartAsync();
        await host.StopAsync();

        var started = logs.Entries.Single(e => e.EventId == 2000);
        Assert.Multiple(() =>
        {
            Assert.That(started.Message, Is.EqualTo("EdgeStream started: 1 stream(s) declared, 2 rule(s), 1 running"));
            Assert.That(started.State["Rules"], Is.EqualTo(2));
            Assert.That(logs.Entries.Count(e => e.EventId == 2004), Is.EqualTo(2), "one 'declared' message per rule");
            Assert.That(logs.Entries, Has.Some.Matches<LogCollector.Entry>(e => e.EventId == 2001));
        });
    }

    [Test]
    public async Task A_restarted_app_keeps_identical_kept_rules_and_updates_changed_ones()
    {
        var store = new State.InMemoryStateStore();
        void Persist(EdgeStreamEngineOptions options)
        {
            options.StateStore = store;
            options.PersistDefinitions = true;
        }

        var first = new LogCollector();
        using (var host = Build(Settings, new Collected(), builder => builder.Services.AddEdgeStream(Persist), services => services.AddLogging(l => l.AddProvider(first))))
        {
            await host.StartAsync();
            await host.StopAsync();
        }

        Assert.That(first.Entries.Where(e => e.EventId == 2004).Select(e => e.Message), Has.Exactly(2).Contains("created"));

        var second = new LogCollector();
        using (var host = Build(Settings, new Collected(), builder => builder.Services.AddEdgeStream(Persist), services => services.AddLogging(l => l.AddProvider(second))))
        {
            await host.StartAsync();
            Assert.That(host.Services.GetRequiredService<EdgeStreamEngine>().GetRuleStatus("hot").State, Is.EqualTo(RuleState.Running));
            await host.StopAsync();
        }

        Assert.That(second.Entries.Where(e => e.EventId == 2004), Is.Empty, "same definitions: nothing created or updated");

        var third = new LogCollector();
        var changed = Settings.Replace("temperature > 30", "temperature > 35", StringComparison.Ordinal);
        using (var host = Build(changed, new Collected(), builder => builder.Services.AddEdgeStream(Persist), services => services.AddLogging(l => l.AddProvider(third))))
        {
            await host.StartAsync();
            await host.StopAsync();
        }

        Assert.That(third.Entries.Where(e => e.EventId == 2004).Select(e => e.Message), Is.EqualTo(new[] { "EdgeStream rule hot updated from EdgeStream:Rules:0" }));
    }

    private static Dictionary<string, object?> Row(string device, double temperature) =>
        new() { ["device"] = device, ["temperature"] = temperature };

    internal static IHost Build(string json, Collected collected, Action<EdgeStreamBuilder>? configure = null, Action<IServiceCollection>? configureServices = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json)));
        builder.Services.AddSingleton(collected);
        var edge = builder.Services.AddEdgeStream(builder.Configuration)
            .AddSink("collect", (provider, context) => new CollectingSink(provider.GetRequiredService<Collected>(), context), null);
        configure?.Invoke(edge);
        configureServices?.Invoke(builder.Services);
        return builder.Build();
    }
}
