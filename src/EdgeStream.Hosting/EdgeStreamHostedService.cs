using EdgeStream.Sql.Ast;
using EdgeStream.Sql.Parsing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeStream.Hosting;

/// <summary>What the host declares at startup: streams and rules from code and from configuration sections.</summary>
internal sealed class EdgeStreamDeclarations
{
    public List<Declaration> FromCode { get; } = [];

    public List<Microsoft.Extensions.Configuration.IConfiguration> Sections { get; } = [];

    public IEnumerable<Declaration> All => FromCode.Concat(Sections.SelectMany(ConfigurationDeclarations.Read));
}

/// <summary>
/// Starts the engine's declared streams and rules with the app and stops them with it. At start it restores the
/// definitions the engine keeps (when it persists them), then checks every declared stream and rule — all of them,
/// collecting every problem — and only when all are valid declares them: a rule that is new is created (and starts
/// when <c>triggered</c>), one restored with the same definition is left as it is (its checkpoint intact), one restored
/// with another definition is updated. At stop every rule finishes the events it has taken
/// (<see cref="EdgeStreamEngineOptions.DrainTimeout"/>), and kept definitions keep their running state.
/// </summary>
internal sealed class EdgeStreamHostedService(EdgeStreamEngine engine, EdgeStreamDeclarations declarations, ILoggerFactory? loggers = null) : IHostedService
{
    private readonly ILogger logger = (loggers ?? NullLoggerFactory.Instance).CreateLogger("EdgeStream.Hosting");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await engine.RestoreDefinitionsAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            // The engine keeps no definitions: nothing to restore.
        }
        catch (AggregateException e)
        {
            foreach (var inner in e.InnerExceptions)
            {
                Log.RestoreFailed(logger, inner.Message);
            }
        }

        var errors = new List<string>();
        var all = declarations.All.ToList();
        var streams = 0;

        // Streams first (rules bind against them); each valid one is declared so that rules can be checked.
        foreach (var declaration in all.Where(d => d.Statement is not null))
        {
            try
            {
                if (DeclareStream(declaration.Statement!))
                {
                    streams++;
                }
            }
            catch (Exception e) when (e is SqlException or FormatException or ArgumentException)
            {
                errors.Add($"{declaration.Origin}: {e.Message}");
            }
        }

        var rules = new List<(Declaration Declaration, RuleDefinition Rule)>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var declaration in all.Where(d => d.Rule is not null))
        {
            try
            {
                var rule = declaration.Rule!();
                if (!ids.Add(rule.Id))
                {
                    throw new ArgumentException($"rule id `{rule.Id}` is declared twice");
                }

                engine.ValidateRule(rule);
                rules.Add((declaration, rule));
            }
            catch (Exception e) when (e is SqlException or FormatException or ArgumentException)
            {
                errors.Add($"{declaration.Origin}: {e.Message}");
            }
        }

        if (errors.Count > 0)
        {
            foreach (var error in errors)
            {
                var colon = error.IndexOf(": ", StringComparison.Ordinal);
                Log.Invalid(logger, error[..colon], error[(colon + 2)..]);
            }

            throw new EdgeStreamConfigurationException($"EdgeStream configuration is invalid ({errors.Count} problem(s))", errors);
        }

        foreach (var (declaration, rule) in rules)
        {
            try
            {
                if (engine.FindDefinition(rule.Id) is not { } existing)
                {
                    await engine.CreateRuleAsync(rule, cancellationToken).ConfigureAwait(false);
                    Log.Declared(logger, rule.Id, "created", declaration.Origin);
                }
                else if (RuleJson.Write(existing, triggered: true) != RuleJson.Write(rule, triggered: true))
                {
                    await engine.UpdateRuleAsync(rule, cancellationToken).ConfigureAwait(false);
                    Log.Declared(logger, rule.Id, "updated", declaration.Origin);
                }
            }
            catch (SinkException e)
            {
                // A destination that refuses (bad credentials, say) keeps the rule, stopped by the error, where status
                // and the health check show it; the app and the other rules go on.
                Log.RuleFailedToStart(logger, rule.Id, declaration.Origin, e.Message);
            }
        }

        var ruleIds = engine.RuleIds;
        var running = ruleIds.Count(id => engine.GetRuleStatus(id).State == RuleState.Running);
        Log.Started(logger, streams, ruleIds.Count, running);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Log.Stopping(logger, engine.RuleIds.Count);
        await engine.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Declares a stream; one of that name already declared (restored) with the same statement is left as it is.</summary>
    /// <returns>Whether the statement was executed.</returns>
    private bool DeclareStream(string statement)
    {
        if (SqlParser.ParseStatement(statement) is CreateStreamStatement create
            && engine.FindStreamStatement(create.Name) is { } existing)
        {
            return existing == SqlPrinter.Print(create)
                ? false
                : throw new ArgumentException($"{(create.IsTable ? "table" : "stream")} `{create.Name}` is already declared (kept in the state store) with another definition; drop it first or declare it once");
        }

        engine.Execute(statement);
        return true;
    }
}
