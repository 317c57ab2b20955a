using EdgeStream.Functions;
using EdgeStream.Planning;
using EdgeStream.Runtime;
using EdgeStream.Sql.Ast;
using EdgeStream.Sql.Parsing;

namespace EdgeStream;

/// <summary>
/// Runs streaming SQL rules inside the host process: declare streams with <c>CREATE STREAM</c>, add rules, push
/// events in through <see cref="Memory"/>, and read results from memory topics.
/// </summary>
/// <remarks>
/// <para>This is the first slice of the runtime: stateless rules (projection, WHERE, expressions) over
/// <c>TYPE="memory"</c> streams, with <c>memory</c> and <c>nop</c> sinks. Windows, joins, functions and other
/// connectors are rejected at rule creation with a clear error until they land.</para>
/// <para>All members are thread-safe. Rule management calls are serialized; events flow concurrently with them.</para>
/// </remarks>
public sealed class EdgeStreamEngine : IAsyncDisposable
{
    private readonly StreamCatalog catalog = new();
    private readonly Dictionary<string, RuleEntry> rules = new(StringComparer.Ordinal);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (Func<SinkContext, ISink> Factory, IReadOnlyCollection<string>? Properties)> sinkTypes =
        new(StringComparer.OrdinalIgnoreCase);

    private static readonly string[] BuiltinSinks = ["log", "memory", "nop"];

    // Read by publishers without taking the management lock.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> streamTopics = new(StringComparer.OrdinalIgnoreCase);
    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly TimeProvider time;
    private readonly TimeSpan drainTimeout;
    private readonly Microsoft.Extensions.Logging.ILoggerFactory loggers;
    private readonly Microsoft.Extensions.Logging.ILogger logger;
    private bool disposed;

    /// <summary>Creates an engine.</summary>
    /// <param name="options">Engine options; defaults when null.</param>
    public EdgeStreamEngine(EdgeStreamEngineOptions? options = null)
    {
        time = options?.TimeProvider ?? TimeProvider.System;
        drainTimeout = options?.DrainTimeout ?? TimeSpan.FromSeconds(30);
        loggers = options?.LoggerFactory ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance;
        logger = loggers.CreateLogger("EdgeStream.Engine");
    }

    /// <summary>
    /// The memory topic where events that no rule could decode are published (with the rule, the stream, the error
    /// and the payload as text), besides being counted in the rule's status. Subscribe with
    /// <see cref="MemoryBus.Subscribe"/>; a subscriber that does not read slows the rules down (backpressure).
    /// </summary>
    public const string DeadLetterTopic = "$edgestream/dead-letters";

    /// <summary>In-process topics: publish events to memory streams, subscribe to memory sinks.</summary>
    public MemoryBus Memory { get; } = new();

    /// <summary>
    /// Declares a stream or table (<c>CREATE STREAM</c>, <c>CREATE TABLE</c>) or removes one (<c>DROP STREAM</c>,
    /// <c>DROP TABLE</c>; refused while a rule uses it).
    /// </summary>
    /// <param name="statement">The statement.</param>
    /// <exception cref="SqlException">The statement is invalid, the name is taken, or (DROP) unknown or in use.</exception>
    public void Execute(string statement)
    {
        var parsed = SqlParser.ParseStatement(statement);
        using (Lock())
        {
            ThrowIfDisposed();
            switch (parsed)
            {
                case CreateStreamStatement create:
                    catalog.Add(create);
                    streamTopics[create.Name] = RuleRunner.StreamTopic(create.Name);
                    break;
                case DropStatement drop:
                    Drop(drop);
                    break;
                default:
                    throw BindError.At(parsed.Span, SqlErrorCode.InvalidUse, "only CREATE and DROP statements can be executed; add a SELECT as a rule");
            }
        }
    }

    private void Drop(DropStatement drop)
    {
        new Binder(catalog, FunctionRegistry.Builtins).Bind(drop);
        var user = rules.Values.FirstOrDefault(r => r.Plan.Source.Name.Equals(drop.Name, StringComparison.OrdinalIgnoreCase));
        if (user is not null)
        {
            throw BindError.At(drop.Span, SqlErrorCode.InvalidUse, $"`{drop.Name}` is used by rule `{user.Definition.Id}`; delete the rule first");
        }

        catalog.Remove(drop.Name);
        streamTopics.TryRemove(drop.Name, out _);
    }

    /// <summary>
    /// Pushes one event into a declared stream, whatever its <c>TYPE</c>: every running rule that reads the stream
    /// receives it. (A <c>memory</c> stream also receives what is published to its topic on <see cref="Memory"/>;
    /// streams of other types receive only pushed events until their connector is available.)
    /// </summary>
    /// <param name="stream">The stream's name.</param>
    /// <param name="row">The event's fields as plain values.</param>
    /// <param name="cancellationToken">Stops waiting for a rule whose buffer is full.</param>
    /// <returns>Completes when every reading rule has taken the event.</returns>
    /// <exception cref="KeyNotFoundException">No stream has this name.</exception>
    public ValueTask PublishAsync(string stream, IReadOnlyDictionary<string, object?> row, CancellationToken cancellationToken = default) =>
        Memory.PublishAsync(StreamTopic(stream), row, cancellationToken);

    /// <summary>Pushes one JSON object payload into a declared stream, as <see cref="PublishAsync"/>.</summary>
    /// <param name="stream">The stream's name.</param>
    /// <param name="json">UTF-8 JSON; a malformed payload is counted and reported by the reading rules.</param>
    /// <param name="cancellationToken">Stops waiting for a rule whose buffer is full.</param>
    /// <returns>Completes when every reading rule has taken the event.</returns>
    /// <exception cref="KeyNotFoundException">No stream has this name.</exception>
    public ValueTask PublishJsonAsync(string stream, ReadOnlyMemory<byte> json, CancellationToken cancellationToken = default) =>
        Memory.PublishJsonAsync(StreamTopic(stream), json, cancellationToken);

    /// <summary>The internal topic a stream's rules read pushed events from; not reachable as a memory topic name.</summary>
    private string StreamTopic(string stream) =>
        streamTopics.TryGetValue(stream, out var topic) ? topic : throw new KeyNotFoundException($"no stream is named `{stream}`");

    /// <summary>
    /// Registers a sink type that rule actions can name. The factory must not do I/O: it is also called when a rule
    /// is created, to check the action's properties (throw <see cref="ArgumentException"/> for an invalid one), and
    /// that instance is disposed unopened. Connecting belongs in <see cref="ISink.OpenAsync"/>.
    /// </summary>
    /// <param name="type">The name actions use, e.g. <c>mysql</c> (case-insensitive; not a built-in name).</param>
    /// <param name="factory">Makes a sink for one rule action.</param>
    /// <param name="properties">The property names the sink takes, so a misspelt one fails rule creation; null to accept any.
    /// The common sink properties (<c>fields</c>, <c>sendSingle</c>, <c>batchSize</c>…) are always accepted and applied by the engine.</param>
    /// <exception cref="ArgumentException">The name is a built-in sink or already registered.</exception>
    public void RegisterSink(string type, Func<SinkContext, ISink> factory, IReadOnlyCollection<string>? properties = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(type);
        ArgumentNullException.ThrowIfNull(factory);
        if (BuiltinSinks.Contains(type, StringComparer.OrdinalIgnoreCase) || !sinkTypes.TryAdd(type, (factory, properties)))
        {
            throw new ArgumentException($"sink type `{type}` is already registered", nameof(type));
        }
    }

    /// <summary>Checks a rule as <see cref="CreateRuleAsync"/> would, without adding it.</summary>
    /// <param name="rule">The rule.</param>
    /// <exception cref="SqlException">The SQL does not parse or bind, or uses what this engine cannot run yet.</exception>
    /// <exception cref="ArgumentException">An action names an unknown sink type or lacks a required property.</exception>
    public void ValidateRule(RuleDefinition rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        using (Lock())
        {
            Compile(rule);
        }
    }

    /// <summary>Adds a rule and, when <see cref="RuleDefinition.Triggered"/>, starts it.</summary>
    /// <param name="rule">The rule; its id must be new.</param>
    /// <param name="cancellationToken">Cancels waiting for other rule management calls.</param>
    /// <returns>Completes when the rule is added (and running).</returns>
    /// <exception cref="SqlException">The SQL does not parse or bind, or uses what this engine cannot run yet.</exception>
    /// <exception cref="ArgumentException">The id is taken, or an action is invalid.</exception>
    public async Task CreateRuleAsync(RuleDefinition rule, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rule);
        using (await LockAsync(cancellationToken).ConfigureAwait(false))
        {
            ThrowIfDisposed();
            if (rules.ContainsKey(rule.Id))
            {
                throw new ArgumentException($"a rule with id `{rule.Id}` already exists", nameof(rule));
            }

            var (plan, sinks, warnings, errors) = Compile(rule);
            var entry = new RuleEntry(rule, plan, sinks, warnings, logger, errors);
            rules.Add(rule.Id, entry);
            foreach (var warning in warnings)
            {
                Diagnostics.Log.RuleWarning(logger, rule.Id, warning);
            }
            if (rule.Triggered)
            {
                entry.Start(Memory, time);
            }
        }
    }

    /// <summary>
    /// Replaces a rule's SQL, actions and options (eKuiper's <c>PUT /rules/{id}</c>). The new definition is checked
    /// first; if it is invalid nothing changes. Otherwise the running version stops (finishing the events it took) and
    /// the new one starts if the old one was running or the new one is <see cref="RuleDefinition.Triggered"/>.
    /// </summary>
    /// <param name="rule">The new definition; its id names the rule to replace.</param>
    /// <param name="cancellationToken">Abandons the events still in the old version if it fires before they are finished.</param>
    /// <returns>Completes when the new version is in place.</returns>
    /// <exception cref="KeyNotFoundException">No rule has this id.</exception>
    /// <exception cref="SqlException">The new SQL is invalid; the old version keeps running.</exception>
    /// <exception cref="ArgumentException">An action is invalid; the old version keeps running.</exception>
    public async Task UpdateRuleAsync(RuleDefinition rule, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rule);
        using (await LockAsync(cancellationToken).ConfigureAwait(false))
        {
            ThrowIfDisposed();
            var old = Find(rule.Id);
            var (plan, sinks, warnings, errors) = Compile(rule);
            var wasRunning = old.IsRunning;
            await old.StopAsync(cancellationToken).ConfigureAwait(false);
            var entry = new RuleEntry(rule, plan, sinks, warnings, logger, errors);
            rules[rule.Id] = entry;
            foreach (var warning in warnings)
            {
                Diagnostics.Log.RuleWarning(logger, rule.Id, warning);
            }
            if (wasRunning || rule.Triggered)
            {
                entry.Start(Memory, time);
            }
        }
    }

    /// <summary>Starts a stopped rule (a no-op for a running one).</summary>
    /// <param name="id">The rule id.</param>
    /// <param name="cancellationToken">Cancels waiting for other rule management calls.</param>
    /// <returns>Completes when the rule runs.</returns>
    /// <exception cref="KeyNotFoundException">No rule has this id.</exception>
    public async Task StartRuleAsync(string id, CancellationToken cancellationToken = default)
    {
        using (await LockAsync(cancellationToken).ConfigureAwait(false))
        {
            ThrowIfDisposed();
            Find(id).Start(Memory, time);
        }
    }

    /// <summary>Stops a rule: it takes no more events and finishes the ones it has taken.</summary>
    /// <param name="id">The rule id.</param>
    /// <param name="cancellationToken">Abandons the events still in the rule if it fires before they are finished.</param>
    /// <returns>Completes when the rule has stopped.</returns>
    /// <exception cref="KeyNotFoundException">No rule has this id.</exception>
    public async Task StopRuleAsync(string id, CancellationToken cancellationToken = default)
    {
        using (await LockAsync(cancellationToken).ConfigureAwait(false))
        {
            await Find(id).StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Stops (as <see cref="StopRuleAsync"/>) and removes a rule.</summary>
    /// <param name="id">The rule id.</param>
    /// <param name="cancellationToken">Abandons the events still in the rule if it fires before they are finished.</param>
    /// <returns>Completes when the rule is gone.</returns>
    /// <exception cref="KeyNotFoundException">No rule has this id.</exception>
    public async Task DeleteRuleAsync(string id, CancellationToken cancellationToken = default)
    {
        using (await LockAsync(cancellationToken).ConfigureAwait(false))
        {
            await Find(id).StopAsync(cancellationToken).ConfigureAwait(false);
            rules.Remove(id);
        }
    }

    /// <summary>The ids of all rules, in no particular order.</summary>
    public IReadOnlyList<string> RuleIds
    {
        get
        {
            using (Lock())
            {
                return [.. rules.Keys];
            }
        }
    }

    /// <summary>A rule's state and counters.</summary>
    /// <param name="id">The rule id.</param>
    /// <returns>A snapshot.</returns>
    /// <exception cref="KeyNotFoundException">No rule has this id.</exception>
    public RuleStatus GetRuleStatus(string id)
    {
        using (Lock())
        {
            return Find(id).Status();
        }
    }

    /// <summary>
    /// Stops every rule, letting each finish the events it has taken, for at most
    /// <see cref="EdgeStreamEngineOptions.DrainTimeout"/> in all.
    /// </summary>
    /// <returns>Completes when all rules have stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        using (await LockAsync(CancellationToken.None).ConfigureAwait(false))
        {
            if (disposed)
            {
                return;
            }

            disposed = true;
            using var deadline = new CancellationTokenSource(drainTimeout, time);
            foreach (var rule in rules.Values)
            {
                await rule.StopAsync(deadline.Token).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Takes the management lock: rule and stream changes happen one at a time.</summary>
    private async ValueTask<Releaser> LockAsync(CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Releaser(gate);
    }

    private Releaser Lock()
    {
        gate.Wait();
        return new Releaser(gate);
    }

    private readonly struct Releaser(SemaphoreSlim gate) : IDisposable
    {
        public void Dispose() => gate.Release();
    }

    private RuleEntry Find(string id) =>
        rules.TryGetValue(id, out var entry) ? entry : throw new KeyNotFoundException($"no rule has id `{id}`");

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(disposed, this);

    private (RulePlan Plan, IReadOnlyList<IRuleSink> Sinks, IReadOnlyList<string> Warnings, ErrorTarget Errors) Compile(RuleDefinition rule)
    {
        var select = SqlParser.ParseSelect(rule.Sql);
        var bound = new Binder(catalog, FunctionRegistry.Builtins).BindSelect(select);
        if (RuleRunner.FileSource(bound.Sources[0].Definition) is { } file && !file.Equals("stdin", StringComparison.OrdinalIgnoreCase) && !File.Exists(file))
        {
            throw BindError.At(select.From.Span, SqlErrorCode.InvalidValue, $"stream `{bound.Sources[0].Definition.Name}` reads file `{file}`, which does not exist");
        }

        var plan = RulePlan.Create(bound);
        var warnings = rule.UnsupportedOptions.Select(o => $"rule option `{o}` is accepted but not applied yet").ToList();
        var errors = new ErrorTarget();
        var sinks = rule.Actions.Select(a => CreateSink(rule.Id, a, warnings, errors)).ToList();
        return (plan, sinks, warnings, errors);
    }

    private ShapedSink CreateSink(string ruleId, RuleAction action, List<string> warnings, ErrorTarget errors)
    {
        if (sinkTypes.TryGetValue(action.SinkType, out var registered))
        {
            var properties = registered.Properties is null ? null : registered.Properties.Concat(SinkRunner.RunnerProperties).ToArray();
            var shaping = SinkShaping.Create(action, properties, warnings, SinkRunner.RunnerProperties);
            var context = new SinkContext(ruleId, action.SinkType, action.Properties, loggers.CreateLogger("EdgeStream.Sinks." + action.SinkType), time);
            try
            {
                // A probe instance checks the properties now, so a bad one fails rule creation rather than the first write.
                registered.Factory(context).DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is not ArgumentException)
            {
                throw new ArgumentException($"sink `{action.SinkType}`: {e.Message}", nameof(action), e);
            }

            return new ShapedSink(new SinkRunner(context, registered.Factory, Memory, () => errors.Target), shaping);
        }

        switch (action.SinkType.ToLowerInvariant())
        {
            case "log":
                return new ShapedSink(new LogSink(loggers.CreateLogger("EdgeStream.Sinks.Log"), ruleId), SinkShaping.Create(action, [], warnings));
            case "memory":
                var shaping = SinkShaping.Create(action, ["topic", "rowkindField", "keyField"], warnings);
                return action.Properties.TryGetValue("topic", out var topic) && topic.Length > 0
                    ? new ShapedSink(new MemorySink(Memory, topic), shaping)
                    : throw new ArgumentException("the memory sink needs a `topic` property", nameof(action));
            case "nop":
                return new ShapedSink(new NopSink(), SinkShaping.Create(action, [], warnings));
            default:
                var available = string.Join(", ", BuiltinSinks.Concat(sinkTypes.Keys).Order(StringComparer.Ordinal));
                throw new ArgumentException($"unknown sink type `{action.SinkType}`; available: {available}", nameof(action));
        }
    }

    /// <summary>A rule and its runner; the runner exists while the rule runs.</summary>
    /// <summary>Where a rule's sink runners report failures: the rule's current runner, once it runs.</summary>
    private sealed class ErrorTarget
    {
        public Action<string> Target { get; set; } = _ => { };
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The runner is disposed by StopAsync, which the engine calls for every rule on delete and on dispose.")]
    private sealed class RuleEntry(
        RuleDefinition definition, RulePlan plan, IReadOnlyList<IRuleSink> sinks, IReadOnlyList<string> warnings,
        Microsoft.Extensions.Logging.ILogger logger, ErrorTarget errors)
    {
        private RuleRunner? runner;
        private RuleRunner? last;

        public RuleDefinition Definition { get; } = definition;

        public RulePlan Plan { get; } = plan;

        public bool IsRunning => runner is not null && runner.Status(true).State == RuleState.Running;

        public void Start(MemoryBus bus, TimeProvider time)
        {
            if (IsRunning)
            {
                return;
            }

            runner?.Dispose(); // a runner that failed: its loop has ended

            runner = new RuleRunner(Definition.Id, Plan, sinks, Definition.Options, bus, time, warnings, logger);
            errors.Target = runner.RecordError;
            last = runner;
            runner.Start();
        }

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            if (runner is { } r)
            {
                runner = null;
                await r.StopAsync(cancellationToken).ConfigureAwait(false);
                r.Dispose();
            }
        }

        public RuleStatus Status() =>
            (runner ?? last)?.Status(runner is not null) ?? new RuleStatus(Definition.Id, RuleState.Stopped, 0, 0, 0, null, warnings);
    }
}
