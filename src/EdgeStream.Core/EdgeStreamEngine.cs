using EdgeStream.Functions;
using EdgeStream.Planning;
using EdgeStream.Runtime;
using EdgeStream.Sql.Ast;
using EdgeStream.Sql.Parsing;

namespace EdgeStream;

/// <summary>
/// Runs streaming SQL rules inside the host process: declare streams with <c>CREATE STREAM</c>, add rules, push
/// events in (<see cref="PublishAsync"/>, <see cref="Memory"/>, or an <see cref="ISource"/>), and read results from
/// memory topics or your own <see cref="ISink"/>.
/// </summary>
/// <remarks>
/// <para>Rules run today: projection, WHERE, expressions and user functions (<see cref="IFunction"/>), and
/// processing-time tumbling, hopping, sliding and count windows with GROUP BY keys, the basic aggregates, HAVING,
/// ORDER BY and LIMIT. Other windows, joins and the built-in scalar function library are rejected at rule creation with a clear
/// error until they land.</para>
/// <para>All members are thread-safe. Rule management calls are serialized; events flow concurrently with them.
/// Extensions (sinks, sources, functions, formats) should be registered before the rules that use them.</para>
/// </remarks>
public sealed class EdgeStreamEngine : IAsyncDisposable
{
    private readonly StreamCatalog catalog = new();
    private readonly Dictionary<string, RuleEntry> rules = new(StringComparer.Ordinal);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (Func<SinkContext, ISink> Factory, IReadOnlyCollection<string>? Properties)> sinkTypes =
        new(StringComparer.OrdinalIgnoreCase);

    internal static readonly string[] BuiltinSinks = ["log", "memory", "nop"];

    /// <summary>The built-in <c>memory</c> sink's own properties, besides the common ones.</summary>
    internal static readonly string[] MemorySinkProperties = ["topic", "rowkindField", "keyField"];

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Action<SourceContext>> sourceValidators = new(StringComparer.OrdinalIgnoreCase);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Func<SourceContext, ISource>> sourceTypes =
        new(StringComparer.OrdinalIgnoreCase);

    internal static readonly string[] BuiltinSources = ["memory", "file"];

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, IFormat> formats =
        new(StringComparer.OrdinalIgnoreCase) { ["binary"] = new BinaryFormat() };

    /// <summary>eKuiper's other formats, which arrive with the connectors that need them.</summary>
    /// <summary>The built-in format configured per stream or sink (a registered format of that name wins).</summary>
    private const string DelimitedFormatName = "delimited";

    private static readonly string[] PendingFormats = ["protobuf", "custom"];

    private readonly Lock functionGate = new();
    private volatile FunctionRegistry functions = FunctionRegistry.Builtins;

    // The one source instance of each SHARED stream, by stream name; under the management lock.
    private readonly Dictionary<string, SharedInput> sharedInputs = new(StringComparer.OrdinalIgnoreCase);

    // Read by publishers without taking the management lock.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> streamTopics = new(StringComparer.OrdinalIgnoreCase);
    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly TimeProvider time;
    private readonly TimeZoneInfo timeZone;
    private readonly IKeyedStateStore? keyedState;
    private readonly bool generalWindowsOnly;
    private readonly TimeSpan drainTimeout;
    private readonly Microsoft.Extensions.Logging.ILoggerFactory loggers;
    private readonly Microsoft.Extensions.Logging.ILogger logger;
    private readonly State.IStateStore? stateStore;
    private readonly State.IStateStore? definitions; // the store, when definitions are kept in it
    private readonly InputLimits limits;
    private readonly Diagnostics.SecretScrubber scrubber = new();
    private bool disposed;

    /// <summary>Creates an engine.</summary>
    /// <param name="options">Engine options; defaults when null.</param>
    /// <exception cref="ArgumentOutOfRangeException">A limit in <see cref="EdgeStreamEngineOptions.Limits"/> is not positive.</exception>
    public EdgeStreamEngine(EdgeStreamEngineOptions? options = null)
    {
        limits = options?.Limits?.Snapshot() ?? InputLimits.Default;
        time = options?.TimeProvider ?? TimeProvider.System;
        timeZone = options?.TimeZone ?? TimeZoneInfo.Local;
        keyedState = options?.KeyedState;
        stateStore = options?.StateStore;
        definitions = options?.PersistDefinitions == true ? stateStore : null;
        generalWindowsOnly = options?.GeneralWindowsOnly ?? false;
        Memory = new MemoryBus(time);
        drainTimeout = options?.DrainTimeout ?? TimeSpan.FromSeconds(30);
        loggers = options?.LoggerFactory is { } factory
            ? new Diagnostics.ScrubbingLoggerFactory(factory, scrubber)
            : Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance;
        logger = loggers.CreateLogger("EdgeStream.Engine");
    }

    /// <summary>
    /// The memory topic where events that no rule could decode are published (with the rule, the stream, the error
    /// and the payload as text), besides being counted in the rule's status. Subscribe with
    /// <see cref="MemoryBus.Subscribe(string, CancellationToken, int)"/>; a subscriber that does not read slows the rules down (backpressure).
    /// </summary>
    public const string DeadLetterTopic = "$edgestream/dead-letters";

    /// <summary>In-process topics: publish events to memory streams, subscribe to memory sinks.</summary>
    public MemoryBus Memory { get; }

    /// <summary>
    /// Declares a stream or table (<c>CREATE STREAM</c>, <c>CREATE TABLE</c>) or removes one (<c>DROP STREAM</c>,
    /// <c>DROP TABLE</c>; refused while a rule uses it).
    /// </summary>
    /// <param name="statement">The statement.</param>
    /// <exception cref="SqlException">The statement is invalid, the name is taken, or (DROP) unknown or in use.</exception>
    public void Execute(string statement) => Execute(SqlParser.ParseStatement(statement), statement);

    /// <summary>Drops a stream or table by name, without building a statement from it (for the management API).</summary>
    /// <exception cref="SqlException">Unknown, of the other kind, or in use.</exception>
    internal void Drop(string name, bool isTable) => Execute(new DropStatement(isTable, name), string.Empty);

    /// <summary>Executes a parsed CREATE or DROP; <paramref name="statement"/> is its text, kept for a CREATE.</summary>
    internal void Execute(Statement parsed, string statement)
    {
        using (Lock())
        {
            ThrowIfDisposed();
            switch (parsed)
            {
                case CreateStreamStatement create:
                    scrubber.AddFrom(catalog.Add(create).Options);
                    streamTopics[create.Name] = RuleRunner.StreamTopic(create.Name);
                    // Execute is synchronous: it waits for the store (a local file for the embedded one).
                    definitions?.SetAsync(StreamKey(create.Name), System.Text.Encoding.UTF8.GetBytes(statement)).AsTask().GetAwaiter().GetResult();
                    break;
                case DropStatement drop:
                    Drop(drop);
                    definitions?.DeleteAsync(StreamKey(drop.Name)).AsTask().GetAwaiter().GetResult();
                    break;
                default:
                    throw BindError.At(parsed.Span, SqlErrorCode.InvalidUse, "only CREATE and DROP statements can be executed; add a SELECT as a rule");
            }
        }
    }

    private static string StreamKey(string name) => "stream/" + name.ToLowerInvariant();

    private static string RuleKey(string id) => "rule/" + id;

    /// <summary>Saves a rule's definition, with whether it should run when restored (see <see cref="EdgeStreamEngineOptions.PersistDefinitions"/>).</summary>
    private async Task SaveRuleAsync(RuleDefinition rule, bool running, CancellationToken cancellationToken)
    {
        if (definitions is not null)
        {
            await definitions.SetAsync(RuleKey(rule.Id), System.Text.Encoding.UTF8.GetBytes(RuleJson.Write(rule, running)), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Declares again the streams and tables, and creates again the rules, that an engine with
    /// <see cref="EdgeStreamEngineOptions.PersistDefinitions"/> kept in its state store: rules that ran are started
    /// (resuming from their checkpoints), rules that were stopped stay stopped. Streams and rules already declared in
    /// this engine are left as they are. Register the sinks, sources and functions the rules use first.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting for the store.</param>
    /// <returns>How many rules were created.</returns>
    /// <exception cref="InvalidOperationException">The engine has no state store, or does not persist definitions.</exception>
    /// <exception cref="AggregateException">Some definitions could not be restored (each inner exception names its
    /// stream or rule); every other one was restored.</exception>
    public async Task<int> RestoreDefinitionsAsync(CancellationToken cancellationToken = default)
    {
        var store = definitions ?? throw new InvalidOperationException("the engine keeps no definitions: set EdgeStreamEngineOptions.StateStore and PersistDefinitions");
        var failures = new List<Exception>();
        foreach (var key in await store.KeysAsync("stream/", cancellationToken).ConfigureAwait(false))
        {
            if (await store.GetAsync(key, cancellationToken).ConfigureAwait(false) is not { } ddl || catalog.TryGet(key["stream/".Length..], out _))
            {
                continue;
            }

            try
            {
                Execute(System.Text.Encoding.UTF8.GetString(ddl));
            }
            catch (SqlException e)
            {
                failures.Add(new InvalidOperationException($"stream `{key["stream/".Length..]}` cannot be restored: {e.Message}", e));
            }
        }

        var created = 0;
        foreach (var key in await store.KeysAsync("rule/", cancellationToken).ConfigureAwait(false))
        {
            var id = key["rule/".Length..];
            if (rules.ContainsKey(id) || await store.GetAsync(key, cancellationToken).ConfigureAwait(false) is not { } json)
            {
                continue;
            }

            try
            {
                await CreateRuleAsync(RuleJson.Parse(System.Text.Encoding.UTF8.GetString(json)), cancellationToken).ConfigureAwait(false);
                created++;
            }
            catch (Exception e) when (e is SqlException or FormatException or ArgumentException or SinkException)
            {
                failures.Add(new InvalidOperationException($"rule `{id}` cannot be restored: {e.Message}", e));
            }
        }

        return failures.Count == 0 ? created : throw new AggregateException($"{failures.Count} definition(s) could not be restored", failures);
    }

    private void Drop(DropStatement drop)
    {
        new Binder(catalog, functions).Bind(drop);
        var user = rules.Values.FirstOrDefault(r => r.Plan.JoinedStreams.Prepend(r.Plan.Source).Any(s => s.Name.Equals(drop.Name, StringComparison.OrdinalIgnoreCase)));
        if (user is not null)
        {
            throw BindError.At(drop.Span, SqlErrorCode.InvalidUse, $"`{drop.Name}` is used by rule `{user.Definition.Id}`; delete the rule first");
        }

        catalog.Remove(drop.Name);
        streamTopics.TryRemove(drop.Name, out _);
        sharedInputs.Remove(drop.Name);
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

    /// <summary>Pushes a batch of events into a declared stream in one step (see <see cref="MemoryBus.PublishBatchAsync"/>).</summary>
    /// <param name="stream">The stream's name.</param>
    /// <param name="rows">The events' fields as plain values.</param>
    /// <param name="cancellationToken">Stops waiting for a rule whose buffer is full.</param>
    /// <returns>Completes when every reading rule has taken the batch.</returns>
    /// <exception cref="KeyNotFoundException">No stream has this name.</exception>
    public ValueTask PublishBatchAsync(string stream, IEnumerable<IReadOnlyDictionary<string, object?>> rows, CancellationToken cancellationToken = default) =>
        Memory.PublishBatchAsync(StreamTopic(stream), rows, cancellationToken);

    /// <summary>Pushes one JSON object payload into a declared stream, as <see cref="PublishAsync"/>.</summary>
    /// <param name="stream">The stream's name.</param>
    /// <param name="json">UTF-8 JSON; a malformed payload is counted and reported by the reading rules.</param>
    /// <param name="cancellationToken">Stops waiting for a rule whose buffer is full.</param>
    /// <returns>Completes when every reading rule has taken the event.</returns>
    /// <exception cref="KeyNotFoundException">No stream has this name.</exception>
    public ValueTask PublishJsonAsync(string stream, ReadOnlyMemory<byte> json, CancellationToken cancellationToken = default) =>
        Memory.PublishJsonAsync(StreamTopic(stream), json, cancellationToken);

    /// <summary>Pushes a batch of JSON payloads into a declared stream in one step (see <see cref="MemoryBus.PublishJsonBatchAsync"/>).</summary>
    /// <param name="stream">The stream's name.</param>
    /// <param name="payloads">UTF-8 JSON payloads, one event each; a malformed one is counted and reported on its own.</param>
    /// <param name="cancellationToken">Stops waiting for a rule whose buffer is full.</param>
    /// <returns>Completes when every reading rule has taken the batch.</returns>
    /// <exception cref="KeyNotFoundException">No stream has this name.</exception>
    public ValueTask PublishJsonBatchAsync(string stream, IEnumerable<ReadOnlyMemory<byte>> payloads, CancellationToken cancellationToken = default) =>
        Memory.PublishJsonBatchAsync(StreamTopic(stream), payloads, cancellationToken);

    /// <summary>
    /// Pushes a batch of objects into a declared stream in one step (see <see cref="MemoryBus.PublishObjectBatchAsync{T}"/>).
    /// </summary>
    /// <typeparam name="T">The event type.</typeparam>
    /// <param name="stream">The stream's name.</param>
    /// <param name="items">The events, in order.</param>
    /// <param name="cancellationToken">Stops waiting for a rule whose buffer is full.</param>
    /// <returns>Completes when every reading rule has taken the batch.</returns>
    /// <exception cref="KeyNotFoundException">No stream has this name.</exception>
    public ValueTask PublishObjectBatchAsync<[System.Diagnostics.CodeAnalysis.DynamicallyAccessedMembers(System.Diagnostics.CodeAnalysis.DynamicallyAccessedMemberTypes.PublicProperties | System.Diagnostics.CodeAnalysis.DynamicallyAccessedMemberTypes.PublicConstructors)] T>(
        string stream, IEnumerable<T> items, CancellationToken cancellationToken = default) =>
        Memory.PublishObjectBatchAsync(StreamTopic(stream), items, cancellationToken);

    /// <summary>
    /// Pushes one JSON payload into a declared stream with the metadata of the message that carried it (a topic, a
    /// partition…), which rules read with <c>meta(key)</c> or <c>meta(*)</c> — as a source passes it.
    /// </summary>
    /// <param name="stream">The stream's name.</param>
    /// <param name="json">UTF-8 JSON; a malformed payload is counted and reported by the reading rules.</param>
    /// <param name="metadata">The message's metadata: names and plain values (numbers, strings, booleans, lists, maps).</param>
    /// <param name="cancellationToken">Stops waiting for a rule whose buffer is full.</param>
    /// <returns>Completes when every reading rule has taken the event.</returns>
    /// <exception cref="KeyNotFoundException">No stream has this name.</exception>
    /// <exception cref="ArgumentException">A metadata value is of a type rows cannot hold; nothing is published.</exception>
    public ValueTask PublishJsonWithMetadataAsync(string stream, ReadOnlyMemory<byte> json, IReadOnlyDictionary<string, object?> metadata, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        return Memory.PublishAsync(StreamTopic(stream), new Runtime.Memory.MemoryMessage(null, json, null) { Meta = Runtime.ClrValues.FromClr(metadata).AsObject }, cancellationToken);
    }

    /// <summary>
    /// Pushes one object into a declared stream, as <see cref="PublishAsync"/>: each public property is a column (see
    /// <see cref="MemoryBus.PublishObjectAsync{T}"/>); accessors are built once per type.
    /// </summary>
    /// <typeparam name="T">The event type.</typeparam>
    /// <param name="stream">The stream's name.</param>
    /// <param name="item">The event.</param>
    /// <param name="cancellationToken">Stops waiting for a rule whose buffer is full.</param>
    /// <returns>Completes when every reading rule has taken the event.</returns>
    /// <exception cref="KeyNotFoundException">No stream has this name.</exception>
    public ValueTask PublishObjectAsync<[System.Diagnostics.CodeAnalysis.DynamicallyAccessedMembers(System.Diagnostics.CodeAnalysis.DynamicallyAccessedMemberTypes.PublicProperties | System.Diagnostics.CodeAnalysis.DynamicallyAccessedMemberTypes.PublicConstructors)] T>(
        string stream, T item, CancellationToken cancellationToken = default) =>
        Memory.PublishObjectAsync(StreamTopic(stream), item, cancellationToken);

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

    /// <summary>
    /// Registers a sink type whose properties bind to an options class: each public settable property of
    /// <typeparamref name="TOptions"/> takes the action property of the same name (case-insensitive; rule JSON writes
    /// them camelCase), converted to its type; a <c>required</c> property must be given. Misspelt, missing and
    /// invalid properties fail rule creation with a message naming the property. Those names are the sink's
    /// accepted properties, besides the common ones.
    /// </summary>
    /// <typeparam name="TOptions">The options class: string, bool, int, long, double, decimal, TimeSpan, enum, Uri and string-list properties.</typeparam>
    /// <param name="type">The name actions use.</param>
    /// <param name="factory">Makes a sink from the action's context and bound options; no I/O.</param>
    /// <exception cref="ArgumentException">The name is a built-in sink or already registered.</exception>
    public void RegisterSink<[System.Diagnostics.CodeAnalysis.DynamicallyAccessedMembers(System.Diagnostics.CodeAnalysis.DynamicallyAccessedMemberTypes.PublicProperties | System.Diagnostics.CodeAnalysis.DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] TOptions>(
        string type, Func<SinkContext, TOptions, ISink> factory)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(factory);
        RegisterSink(type, context => factory(context, OptionsBinder<TOptions>.Bind(context.SinkType, context.Properties)), OptionsBinder<TOptions>.Names);
    }

    /// <summary>
    /// Registers a source type that streams can declare with <c>WITH (TYPE="type")</c>. Like a sink factory, the
    /// factory must not do I/O; reading belongs in <see cref="ISource.RunAsync"/>.
    /// </summary>
    /// <param name="type">The name streams use, e.g. <c>opcua</c> (case-insensitive; not <c>memory</c> or <c>file</c>).</param>
    /// <param name="factory">Makes a source for a stream (per rule, or once for a <c>SHARED</c> stream).</param>
    /// <exception cref="ArgumentException">The name is a built-in source or already registered.</exception>
    public void RegisterSource(string type, Func<SourceContext, ISource> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(type);
        ArgumentNullException.ThrowIfNull(factory);
        if (BuiltinSources.Contains(type, StringComparer.OrdinalIgnoreCase) || !sourceTypes.TryAdd(type, factory))
        {
            throw new ArgumentException($"source type `{type}` is already registered", nameof(type));
        }
    }

    /// <summary>
    /// Registers a source type with a check of each reading stream's options, run when a rule that reads the stream is
    /// created, started or updated (before anything connects): an <see cref="ArgumentException"/> from it fails that
    /// with a <see cref="SqlException"/> at the rule's <c>FROM</c>, so a misspelt option or an unknown connection
    /// profile is reported at once rather than by a source that keeps failing.
    /// </summary>
    /// <param name="type">The name streams use.</param>
    /// <param name="factory">Makes a source for a stream; no I/O.</param>
    /// <param name="validate">Checks a stream's options; no I/O. Throws <see cref="ArgumentException"/> naming what is wrong (never a secret).</param>
    /// <exception cref="ArgumentException">The name is a built-in source or already registered.</exception>
    public void RegisterSource(string type, Func<SourceContext, ISource> factory, Action<SourceContext> validate)
    {
        ArgumentNullException.ThrowIfNull(validate);
        RegisterSource(type, factory);
        sourceValidators[type] = validate;
    }

    /// <summary>Registers a payload format that streams (<c>FORMAT="name"</c>) and sinks (<c>format</c>) can name.</summary>
    /// <param name="name">The format's name (case-insensitive; not a built-in one: <c>json</c>, <c>binary</c>).</param>
    /// <param name="format">The format; one instance serves every stream and sink.</param>
    /// <exception cref="ArgumentException">The name is built in or already registered.</exception>
    public void RegisterFormat(string name, IFormat format)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(format);
        if (name.Equals("json", StringComparison.OrdinalIgnoreCase) || !formats.TryAdd(name, format))
        {
            throw new ArgumentException($"format `{name}` is already registered", nameof(name));
        }
    }

    /// <summary>Registers a scalar function that rules can call by <paramref name="name"/>.</summary>
    /// <param name="name">The name (case-insensitive): letters, digits and <c>_</c>; not a built-in function's.</param>
    /// <param name="function">The function; one instance serves every rule.</param>
    /// <exception cref="ArgumentException">The name is invalid or taken.</exception>
    public void RegisterFunction(string name, IFunction function) => RegisterFunction(name, function, overrideBuiltin: false);

    /// <summary>
    /// Registers a scalar function, optionally in place of the built-in function of the same name: with
    /// <paramref name="overrideBuiltin"/>, rules created from now on call <paramref name="function"/> for that name.
    /// </summary>
    /// <param name="name">The name (case-insensitive): letters, digits and <c>_</c>.</param>
    /// <param name="function">The function; one instance serves every rule.</param>
    /// <param name="overrideBuiltin">Whether it may take a built-in function's name. A user function's name is never taken twice.</param>
    /// <exception cref="ArgumentException">The name is invalid or taken (by a built-in, without <paramref name="overrideBuiltin"/>).</exception>
    public void RegisterFunction(string name, IFunction function, bool overrideBuiltin)
    {
        ArgumentNullException.ThrowIfNull(function);
        AddFunction(name, Functions.FunctionKind.Scalar, function.MinArguments, function.MaxArguments, function, overrideBuiltin);
    }

    /// <summary>Registers an aggregate function that rules can call by <paramref name="name"/> (in window queries).</summary>
    /// <param name="name">The name (case-insensitive): letters, digits and <c>_</c>; not a built-in function's.</param>
    /// <param name="function">The function; one instance serves every rule.</param>
    /// <exception cref="ArgumentException">The name is invalid or taken.</exception>
    public void RegisterAggregateFunction(string name, IAggregateFunction function) => RegisterAggregateFunction(name, function, overrideBuiltin: false);

    /// <summary>Registers an aggregate function, optionally in place of the built-in of the same name (see <see cref="RegisterFunction(string, IFunction, bool)"/>).</summary>
    /// <param name="name">The name (case-insensitive): letters, digits and <c>_</c>.</param>
    /// <param name="function">The function; one instance serves every rule.</param>
    /// <param name="overrideBuiltin">Whether it may take a built-in function's name.</param>
    /// <exception cref="ArgumentException">The name is invalid or taken.</exception>
    public void RegisterAggregateFunction(string name, IAggregateFunction function, bool overrideBuiltin)
    {
        ArgumentNullException.ThrowIfNull(function);
        AddFunction(name, Functions.FunctionKind.Aggregate, function.MinArguments, function.MaxArguments, function, overrideBuiltin);
    }

    private void AddFunction(string name, Functions.FunctionKind kind, int min, int max, object implementation, bool overrideBuiltin)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (min < 0 || (max >= 0 && max < min))
        {
            throw new ArgumentException($"function `{name}`: the argument counts {min} to {max} are invalid", nameof(name));
        }

        var arguments = string.Join(", ", Enumerable.Range(1, Math.Max(min, 1)).Select(i => $"x{i}")) + (max < 0 ? ", …" : max > Math.Max(min, 1) ? " [, …]" : string.Empty);
        var info = new FunctionInfo(name.ToLowerInvariant(), FunctionCategory.User, kind, min, max, $"{name.ToLowerInvariant()}({(max == 0 ? string.Empty : arguments)})") { Implementation = implementation };
        lock (functionGate)
        {
            functions = functions.With(info, overrideBuiltin);
        }
    }

    /// <summary>Checks a rule as <see cref="CreateRuleAsync"/> would, without adding it.</summary>
    /// <param name="rule">The rule.</param>
    /// <exception cref="SqlException">The SQL does not parse or bind, or uses what this engine cannot run yet.</exception>
    /// <exception cref="ArgumentException">An action names an unknown sink type or lacks a required property.</exception>
    public void ValidateRule(RuleDefinition rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        AddSecrets(rule);
        try
        {
            using (Lock())
            {
                Compile(rule);
            }
        }
        catch (Exception e) when (scrubber.Leaks(e.ToString()))
        {
            throw scrubber.Scrub(e);
        }
    }

    /// <summary>Learns the secrets of the rule's sinks, so that no text the engine shows holds them.</summary>
    private void AddSecrets(RuleDefinition rule)
    {
        foreach (var action in rule.Actions)
        {
            scrubber.AddFrom(action.Properties);
        }
    }

    /// <summary>Runs a rule management call, masking any secret in the exception it throws.</summary>
    private async Task Scrubbed(Func<Task> call)
    {
        try
        {
            await call().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException && scrubber.Leaks(e.ToString()))
        {
            throw scrubber.Scrub(e);
        }
    }

    /// <summary>Adds a rule and, when <see cref="RuleDefinition.Triggered"/>, starts it.</summary>
    /// <param name="rule">The rule; its id must be new.</param>
    /// <param name="cancellationToken">Cancels waiting for other rule management calls.</param>
    /// <returns>Completes when the rule is added (and running).</returns>
    /// <exception cref="SqlException">The SQL does not parse or bind, or uses what this engine cannot run yet.</exception>
    /// <exception cref="ArgumentException">The id is taken, or an action is invalid.</exception>
    /// <exception cref="SinkException">A sink refused to open for good (bad credentials, a missing table). The rule is kept, stopped by error with this message as its last error; fix the destination and start it again, or update it.</exception>
    public Task CreateRuleAsync(RuleDefinition rule, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rule);
        AddSecrets(rule);
        return Scrubbed(() => CreateAsync(rule, cancellationToken));
    }

    private async Task CreateAsync(RuleDefinition rule, CancellationToken cancellationToken)
    {
        using (await LockAsync(cancellationToken).ConfigureAwait(false))
        {
            ThrowIfDisposed();
            if (rules.ContainsKey(rule.Id))
            {
                throw new ArgumentException($"a rule with id `{rule.Id}` already exists", nameof(rule));
            }

            var compiled = Compile(rule);
            var entry = new RuleEntry(rule, compiled, logger, OnRuleFailed, stateStore, time);
            rules.Add(rule.Id, entry);
            await SaveRuleAsync(rule, rule.Triggered, cancellationToken).ConfigureAwait(false);
            foreach (var warning in compiled.Warnings)
            {
                Diagnostics.Log.RuleWarning(logger, rule.Id, warning);
            }
            if (rule.Triggered)
            {
                await entry.StartAsync(Memory, time, byCaller: true, cancellationToken).ConfigureAwait(false);
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
    /// <exception cref="SinkException">A sink refused to open for good (bad credentials, a missing table). The rule is kept, stopped by error with this message as its last error; fix the destination and start it again, or update it.</exception>
    public Task UpdateRuleAsync(RuleDefinition rule, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rule);
        AddSecrets(rule);
        return Scrubbed(() => UpdateAsync(rule, cancellationToken));
    }

    private async Task UpdateAsync(RuleDefinition rule, CancellationToken cancellationToken)
    {
        using (await LockAsync(cancellationToken).ConfigureAwait(false))
        {
            ThrowIfDisposed();
            var old = Find(rule.Id);
            var compiled = Compile(rule);
            var wasRunning = old.IsRunning;
            await old.StopAsync(cancellationToken).ConfigureAwait(false);
            await old.ForgetCheckpointAsync(cancellationToken).ConfigureAwait(false);
            var entry = new RuleEntry(rule, compiled, logger, OnRuleFailed, stateStore, time);
            rules[rule.Id] = entry;
            await SaveRuleAsync(rule, wasRunning || rule.Triggered, cancellationToken).ConfigureAwait(false);
            foreach (var warning in compiled.Warnings)
            {
                Diagnostics.Log.RuleWarning(logger, rule.Id, warning);
            }
            if (wasRunning || rule.Triggered)
            {
                await entry.StartAsync(Memory, time, byCaller: true, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Starts a stopped rule (a no-op for a running one).</summary>
    /// <param name="id">The rule id.</param>
    /// <param name="cancellationToken">Cancels waiting for other rule management calls.</param>
    /// <returns>Completes when the rule runs.</returns>
    /// <exception cref="KeyNotFoundException">No rule has this id.</exception>
    /// <exception cref="SinkException">A sink refused to open for good (bad credentials, a missing table). The rule is kept, stopped by error with this message as its last error; fix the destination and start it again, or update it.</exception>
    public Task StartRuleAsync(string id, CancellationToken cancellationToken = default) => Scrubbed(() => StartRuleCoreAsync(id, cancellationToken));

    private async Task StartRuleCoreAsync(string id, CancellationToken cancellationToken)
    {
        using (await LockAsync(cancellationToken).ConfigureAwait(false))
        {
            ThrowIfDisposed();
            var entry = Find(id);
            await SaveRuleAsync(entry.Definition, running: true, cancellationToken).ConfigureAwait(false);
            await entry.StartAsync(Memory, time, byCaller: true, cancellationToken).ConfigureAwait(false);
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
            var entry = Find(id);
            await SaveRuleAsync(entry.Definition, running: false, cancellationToken).ConfigureAwait(false);
            await entry.StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Tells a running rule that its input has ended (a file read to its end): once it has processed the events taken
    /// before this call, event time releases every row waiting for the watermark and each window fires what it holds,
    /// as if its end had come (a count window the rows it holds, when any arrived since its last window). State windows
    /// keep theirs. Without this,
    /// windows still open when a rule stops are never sent, as in eKuiper.
    /// </summary>
    /// <param name="id">The rule id.</param>
    /// <returns>Completes when the request is queued behind the rule's events; stop the rule to wait for it.</returns>
    /// <exception cref="KeyNotFoundException">No rule has this id.</exception>
    public Task FlushWindowsAsync(string id)
    {
        Find(id).Flush();
        return Task.CompletedTask;
    }

    /// <summary>Waits until a running rule has processed what was queued to it (for the testing package's fake clock).</summary>
    internal Task SettleRuleAsync(string id, CancellationToken cancellationToken)
    {
        Task settle;
        using (Lock())
        {
            settle = Find(id).SettleAsync(cancellationToken);
        }

        return settle;
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
            var entry = Find(id);
            await entry.StopAsync(cancellationToken).ConfigureAwait(false);
            await entry.ForgetCheckpointAsync(cancellationToken).ConfigureAwait(false);
            rules.Remove(id);
            if (stateStore is not null)
            {
                await SinkCache.ForgetAsync(stateStore, id, cancellationToken).ConfigureAwait(false); // its sinks' cached messages
            }

            if (definitions is not null)
            {
                await definitions.DeleteAsync(RuleKey(id), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Every function rules can call: the built-ins (aliases included) and the registered ones, by name.</summary>
    /// <returns>One description per name, in name order.</returns>
    public IReadOnlyList<FunctionDescription> GetFunctions() =>
        functions.All.Select(f => new FunctionDescription(
            f.Name,
            f.Category == FunctionCategory.DateTime ? "datetime" : f.Category.ToString().ToLowerInvariant(),
            f.Kind == FunctionKind.SetReturning ? "set-returning" : f.Kind.ToString().ToLowerInvariant(),
            f.MinArgs,
            f.MaxArgs,
            f.Signature,
            f.AliasOf,
            f.Implementation is not null,
            f.Implementation is null && FunctionSummaries.ByName.TryGetValue(f.Name, out var summary) ? summary : string.Empty)).ToList();

    /// <summary>The name of the <see cref="System.Diagnostics.Metrics.Meter"/> the engine's counters are on (for OpenTelemetry's <c>AddMeter</c>).</summary>
    public const string MeterName = Diagnostics.EngineMetrics.MeterName;

    /// <summary>Every declared stream and table, in name order.</summary>
    /// <returns>One description each.</returns>
    public IReadOnlyList<StreamDescription> GetStreams()
    {
        using (Lock())
        {
            return [.. catalog.All.OrderBy(s => s.Name, StringComparer.OrdinalIgnoreCase).Select(s => new StreamDescription(
                s.Name,
                s.IsTable,
                scrubber.Scrub(Sql.Ast.SqlPrinter.Print(s.Statement))!,
                [.. s.Columns.Select(c => new KeyValuePair<string, string>(c.Name, c.Type.ToString()))],
                s.Options.ToDictionary(o => o.Key, o => scrubber.Scrub(o.Value)!, StringComparer.OrdinalIgnoreCase)))];
        }
    }

    /// <summary>
    /// A rule's definition as eKuiper's rule JSON (<c>id</c>, <c>sql</c>, <c>actions</c>, <c>triggered</c> — whether it
    /// is running — and every option this version applies), as <c>GET /rules/{id}</c> returns it. Property values that
    /// look like secrets are masked, so the text is for showing, not for creating the rule again.
    /// </summary>
    /// <param name="id">The rule id.</param>
    /// <returns>The JSON text.</returns>
    /// <exception cref="KeyNotFoundException">No rule has this id.</exception>
    public string DescribeRule(string id)
    {
        using (Lock())
        {
            var entry = Find(id);
            return scrubber.Scrub(RuleJson.Write(entry.Definition, entry.IsRunning))!;
        }
    }

    /// <summary>A declared stream's statement printed back, unmasked (for the hosting packages), or null when none has this name.</summary>
    internal string? FindStreamStatement(string name)
    {
        using (Lock())
        {
            return catalog.TryGet(name, out var stream) ? Sql.Ast.SqlPrinter.Print(stream.Statement) : null;
        }
    }

    /// <summary>A rule's definition (unmasked, for the hosting packages), or null when no rule has this id.</summary>
    internal RuleDefinition? FindDefinition(string id)
    {
        using (Lock())
        {
            return rules.TryGetValue(id, out var entry) ? entry.Definition : null;
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
            return scrubber.Scrub(Find(id).Status());
        }
    }

    /// <summary>Every rule's state and counters, ordered by id (ordinal), taken in one go: no rule is listed that is
    /// already deleted, as one read of <see cref="RuleIds"/> followed by <see cref="GetRuleStatus"/> per id may find.</summary>
    /// <returns>A snapshot per rule.</returns>
    public IReadOnlyList<RuleStatus> GetRuleStatuses()
    {
        using (Lock())
        {
            return rules.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => scrubber.Scrub(r.Value.Status())).ToList();
        }
    }

    /// <summary>
    /// The rule's plan as text, as eKuiper's <c>GET /rules/{id}/explain</c>: its source (type, format, sharing), the
    /// fused stage with its logical operators (filter, project) and their metric names, and its sinks. Sink property
    /// values that look like secrets (passwords, tokens, credentials in URLs) are masked.
    /// </summary>
    /// <param name="id">The rule id.</param>
    /// <returns>The plan, one line per operator.</returns>
    /// <exception cref="KeyNotFoundException">No rule has this id.</exception>
    public string ExplainRule(string id)
    {
        using (Lock())
        {
            var entry = Find(id);
            return scrubber.Scrub(RulePlanText.Describe(entry.Definition, entry.Plan, entry.SinkDescriptions));
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

    /// <summary>
    /// A rule's loop failed (on the runner's task, outside the lock): schedule a restart per its strategy, unless its
    /// attempts are spent.
    /// </summary>
    private void OnRuleFailed(RuleEntry entry, RuleRunner failed)
    {
        var strategy = entry.Definition.Options.RestartStrategy;
        if (entry.RestartAttempts >= strategy.Attempts)
        {
            return;
        }

        var attempt = ++entry.RestartAttempts;
        var delay = strategy.DelayBefore(attempt, Random.Shared);
        Diagnostics.Log.RuleRestarting(logger, entry.Definition.Id, attempt, strategy.Attempts, (long)delay.TotalMilliseconds);
        entry.ScheduleRestart(time.CreateTimer(_ => _ = RestartAsync(entry, failed), null, delay, Timeout.InfiniteTimeSpan));
    }

    private async Task RestartAsync(RuleEntry entry, RuleRunner failed)
    {
        await gate.WaitAsync().ConfigureAwait(false);
        try
        {
            // Only if nothing changed meanwhile: not stopped, updated, deleted or disposed.
            if (!disposed && rules.TryGetValue(entry.Definition.Id, out var current) && ReferenceEquals(current, entry) && entry.IsCurrent(failed))
            {
                // The failed runner's sinks get the drain timeout to deliver what they hold, so a sink that stays
                // down cannot keep the management lock.
                using var cleanup = new CancellationTokenSource(drainTimeout, time);
                await entry.StartAsync(Memory, time, byCaller: false, cleanup.Token).ConfigureAwait(false);
            }
        }
#pragma warning disable CA1031 // A restart that fails leaves the rule stopped by error; it must not reach the timer thread.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Diagnostics.Log.RuleFailed(logger, entry.Definition.Id, e);
        }
        finally
        {
            gate.Release();
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

    /// <summary>
    /// The rule's state (window, watermark buffer, tables, running totals) once it has processed the events taken before
    /// this call. Internal until checkpoints (issue 9) give it a store.
    /// </summary>
    internal Task<byte[]> SnapshotRuleAsync(string id) => Find(id).Snapshot();

    /// <summary>Restarts a rule from a snapshot of the same statement's state (stopping it first if it runs).</summary>
    internal async Task RestoreRuleAsync(string id, byte[] state, CancellationToken cancellationToken = default)
    {
        using (await LockAsync(cancellationToken).ConfigureAwait(false))
        {
            ThrowIfDisposed();
            var entry = Find(id);
            await entry.StopAsync(cancellationToken).ConfigureAwait(false);
            entry.RestoreFrom = state;
            await entry.StartAsync(Memory, time, byCaller: true, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Tests only: whether a rule's window aggregates as rows arrive (see <see cref="RulePlan.Aggregating"/>).</summary>
    internal bool IsAggregatingWindow(string id) => Find(id).Plan.Aggregating;

    private RuleEntry Find(string id) =>
        rules.TryGetValue(id, out var entry) ? entry : throw new KeyNotFoundException($"no rule has id `{id}`");

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(disposed, this);

    private CompiledRule Compile(RuleDefinition rule)
    {
        var select = SqlParser.ParseSelect(rule.Sql);
        var bound = new Binder(catalog, functions).BindSelect(select);
        var stream = bound.Sources[0].Definition;
        if (RuleRunner.FileSource(stream) is { } file && !file.Equals("stdin", StringComparison.OrdinalIgnoreCase) && !File.Exists(file))
        {
            throw BindError.At(select.From.Span, SqlErrorCode.InvalidValue, $"{(stream.IsTable ? "table" : "stream")} `{stream.Name}` reads file `{file}`, which does not exist");
        }

        var format = ResolveFormat(stream, select.From.Span);
        var (input, shared) = ResolveInput(stream, format, rule.Id, select.From.Span);
        foreach (var joined in bound.Sources.Skip(1))
        {
            if (joined.Definition.IsTable && RuleRunner.FileSource(joined.Definition) is { } tableFile && !File.Exists(tableFile))
            {
                throw BindError.At(joined.Ref.Span, SqlErrorCode.InvalidValue, $"table `{joined.Definition.Name}` reads file `{tableFile}`, which does not exist");
            }

            // A joined stream is read from the bus (PublishAsync, memory topics); its own sources are not started yet.
            var joinedType = joined.Definition.Option("TYPE");
            var readsItself = joined.Definition.Shared
                || (string.Equals(joinedType, "file", StringComparison.OrdinalIgnoreCase) && !joined.Definition.IsTable)
                || (joinedType is not null && sourceTypes.ContainsKey(joinedType));
            var joinedFormat = joined.Definition.Option("FORMAT");
            if (readsItself || (joinedFormat is not null && !joinedFormat.Equals("json", StringComparison.OrdinalIgnoreCase)))
            {
                throw BindError.At(joined.Ref.Span, SqlErrorCode.InvalidUse,
                    $"joined `{joined.Definition.Name}` must be JSON fed through the engine (PublishAsync, a memory topic, or a TYPE=\"file\" table); joining one with its own source (TYPE `{joinedType}`, SHARED) or FORMAT `{joinedFormat}` is not supported yet");
            }
        }

        var plan = RulePlan.Create(bound, new Functions.Builtins.FunctionEnvironment(rule.Id, time, timeZone) { KeyedState = keyedState, Limits = limits }, format, shared?.Decoder, rule.Options.IsEventTime, timeZone, !generalWindowsOnly);
        if (plan.Window is not null && rule.Options.DropOldestWhenFull)
        {
            // Dropping could evict a window's timer tick, losing the window: not offered until ticks travel apart.
            throw new ArgumentException("option `bufferFullPolicy` \"dropOldest\" is not supported for window rules yet", nameof(rule));
        }
        var warnings = rule.UnsupportedOptions.Select(o => $"rule option `{o}` is accepted but not applied yet").ToList();
        if (rule.Options.Qos > 0 && stateStore is null)
        {
            warnings.Add($"rule option `qos` {rule.Options.Qos} takes no checkpoints: the engine has no state store (EdgeStreamEngineOptions.StateStore)");
        }

        var errors = new ErrorTarget();
        var sinks = rule.Actions.Select((a, i) => CreateSink(rule.Id, a, i, warnings, errors)).ToList();
        if (rule.Options.Qos == 2 && stateStore is not null)
        {
            // A restart replays what the last checkpoint does not cover, and its results reach the sinks again:
            // exactly once holds where writing them twice changes nothing.
            for (var i = 0; i < sinks.Count; i++)
            {
                if (sinks[i] is not ShapedSink { Idempotent: true })
                {
                    warnings.Add($"rule option `qos` 2: sink `{rule.Actions[i].SinkType}` (action {i}) does not write idempotently, so results replayed after a restart can reach it twice (at least once); exactly once needs idempotent writes, such as upserts by key");
                }
            }
        }

        return new CompiledRule(plan, sinks, warnings, errors, input);
    }

    /// <summary>The stream's payload format: null for JSON (the default), else a registered one.</summary>
    private IFormat? ResolveFormat(Planning.StreamDefinition stream, Diagnostics.SourceSpan at)
    {
        var name = stream.Option("FORMAT");
        if (name is null || name.Equals("json", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (formats.TryGetValue(name, out var format))
        {
            return format;
        }

        if (name.Equals(DelimitedFormatName, StringComparison.OrdinalIgnoreCase))
        {
            return new DelimitedFormat(stream.Option("DELIMITER"), stream.IsSchemaless ? null : stream.Columns);
        }

        var reason = PendingFormats.Contains(name, StringComparer.OrdinalIgnoreCase)
            ? $"stream `{stream.Name}` has FORMAT `{name}`, which is not implemented yet; register an IFormat of that name to use one"
            : $"stream `{stream.Name}` has unknown FORMAT `{name}`; available: {string.Join(", ", formats.Keys.Append("json").Append(DelimitedFormatName).Order(StringComparer.Ordinal))}";
        throw BindError.At(at, SqlErrorCode.InvalidValue, reason);
    }

    /// <summary>
    /// Where a rule's events come from besides pushes and its memory topic: its own source instance, or the one
    /// instance of a SHARED stream (whose decoder the rule must compile against). Null for a plain memory stream and
    /// for types with no registered source (those receive only pushed events).
    /// </summary>
    private (IRuleInput? Input, SharedInput? Shared) ResolveInput(Planning.StreamDefinition stream, IFormat? format, string ruleId, Diagnostics.SourceSpan at)
    {
        var type = stream.Option("TYPE") ?? string.Empty;
        Func<SourceContext, ISource>? factory = type.ToLowerInvariant() switch
        {
            "memory" when stream.Shared && stream.Option("DATASOURCE") is { Length: > 0 } topic => _ => new MemoryTopicSource(Memory, topic, 1024),
            "memory" => null,
            "file" => context => new FileLineSource(context),
            _ => sourceTypes.TryGetValue(type, out var registered) ? registered : null,
        };
        if (factory is null)
        {
            return (null, null);
        }

        var logger = loggers.CreateLogger("EdgeStream.Sources." + type);
        var context = new SourceContext(stream.Name, type, stream.Options, logger, time, stream.Shared ? null : ruleId);
        if (sourceValidators.TryGetValue(type, out var validate))
        {
            try
            {
                validate(context);
            }
            catch (ArgumentException e)
            {
                throw BindError.At(at, SqlErrorCode.InvalidValue, $"stream `{stream.Name}` ({type}): {e.Message}");
            }
        }

        if (!stream.Shared)
        {
            return (new PrivateInput(factory, context), null);
        }

        if (!sharedInputs.TryGetValue(stream.Name, out var shared))
        {
            shared = new SharedInput(factory, context, new RowDecoder(stream, null, format, limits), Memory, RuleRunner.StreamTopic(stream.Name));
            sharedInputs.Add(stream.Name, shared);
        }

        return (shared, shared);
    }

    private sealed record CompiledRule(RulePlan Plan, IReadOnlyList<IRuleSink> Sinks, IReadOnlyList<string> Warnings, ErrorTarget Errors, IRuleInput? Input);

    private ShapedSink CreateSink(string ruleId, RuleAction action, int index, List<string> warnings, ErrorTarget errors)
    {
        var encoding = SinkEncoding.Create(action, name => formats.TryGetValue(name, out var f) ? f
            : name.Equals(DelimitedFormatName, StringComparison.OrdinalIgnoreCase) ? DelimitedFormat.ForSink(action.Properties)
            : null);
        var metrics = new OperatorMetrics(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"sink_{action.SinkType}_{index}_0_"));
        if (sinkTypes.TryGetValue(action.SinkType, out var registered))
        {
            var properties = registered.Properties is null ? null : registered.Properties.Concat(SinkRunner.RunnerProperties).ToArray();
            var shaping = SinkShaping.Create(action, properties, warnings, SinkRunner.RunnerProperties);
            var context = new SinkContext(ruleId, action.SinkType, action.Properties, loggers.CreateLogger("EdgeStream.Sinks." + action.SinkType), time);
            string description;
            var idempotent = false;
            try
            {
                // A probe instance checks the properties now, so a bad one fails rule creation rather than the first write.
                var probe = registered.Factory(context);
                if (probe is not IPayloadSink && action.Properties.ContainsKey("format"))
                {
                    warnings.Add($"sink property `format` of `{action.SinkType}` has no effect: the sink takes rows, not payloads");
                }

                idempotent = probe.WriteSemantics == SinkWriteSemantics.Idempotent;
                description = $"{(probe is IPayloadSink ? "payloads" : "rows")}, {probe.WriteSemantics switch
                {
                    SinkWriteSemantics.Idempotent => "idempotent",
                    SinkWriteSemantics.Transactional => "transactional",
                    _ => "at-least-once",
                }} writes";

                probe.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is not ArgumentException)
            {
                throw new ArgumentException($"sink `{action.SinkType}`: {e.Message}", nameof(action), e);
            }

            return new ShapedSink(new SinkRunner(context, registered.Factory, Memory, () => errors.Target, encoding, metrics, stateStore, index, drainTimeout), shaping, metrics)
            {
                Description = description,
                Idempotent = idempotent,
            };
        }

        switch (action.SinkType.ToLowerInvariant())
        {
            case "log":
                return new ShapedSink(new LogSink(loggers.CreateLogger("EdgeStream.Sinks.Log"), ruleId, encoding, () => errors.Target, metrics), SinkShaping.Create(action, [], warnings), metrics);
            case "memory":
                var shaping = SinkShaping.Create(action, MemorySinkProperties, warnings);
                return action.Properties.TryGetValue("topic", out var topic) && topic.Length > 0
                    ? new ShapedSink(new MemorySink(Memory, topic, encoding, () => errors.Target, metrics), shaping, metrics)
                    : throw new ArgumentException("the memory sink needs a `topic` property", nameof(action));
            case "nop":
                return new ShapedSink(new NopSink(metrics), SinkShaping.Create(action, [], warnings), metrics) { Idempotent = true };
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
        RuleDefinition definition, CompiledRule compiled, Microsoft.Extensions.Logging.ILogger logger, Action<RuleEntry, RuleRunner> onFailed,
        State.IStateStore? store, TimeProvider clock)
    {
        private readonly IReadOnlyList<string> warnings = compiled.Warnings;
        private readonly State.IStateStore? checkpoints = definition.Options.Qos > 0 ? store : null;
        private RuleRunner? runner;
        private RuleRunner? last;
        private ITimer? restart;
        private ITimer? checkpointTimer;
        private CancellationTokenSource? checkpointStop;
        private Task checkpointing = Task.CompletedTask;
        private int checkpointBusy;
        private long checkpointsDone;
        private long checkpointsFailed;
        private long lastCheckpointAt;
        private long restoredFromCheckpoint;

        private string CheckpointKey => "checkpoint/" + Definition.Id;

        /// <summary>Drops the rule's saved checkpoint (the rule is deleted, or replaced by another definition).</summary>
        public async Task ForgetCheckpointAsync(CancellationToken cancellationToken)
        {
            if (checkpoints is not null)
            {
                await checkpoints.DeleteAsync(CheckpointKey, cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>
        /// Saves one checkpoint: the state once the events taken so far are processed, after every sink has the results
        /// of those events, so a restart from it repeats nothing a sink lacks (at least once) and loses nothing. One at a
        /// time; a tick that finds one still running is skipped.
        /// </summary>
        private async Task CheckpointAsync(RuleRunner current, CancellationToken cancellationToken)
        {
            try
            {
                var state = await current.SnapshotAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
                foreach (var sink in compiled.Sinks)
                {
                    await sink.DrainedAsync(cancellationToken).ConfigureAwait(false);
                }

                await checkpoints!.SetAsync(CheckpointKey, state, cancellationToken).ConfigureAwait(false);
                Interlocked.Increment(ref checkpointsDone);
                if (current.SnapshotPosition is { } position)
                {
                    // Durable now: the source may let go of what the checkpoint covers (acknowledge it).
                    try
                    {
                        await current.CommitSourceAsync(position, cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        Diagnostics.Log.RuleWarning(logger, Definition.Id, $"the source could not commit the checkpoint (the next one commits again): {e.Message}");
                    }
                }
                Interlocked.Exchange(ref lastCheckpointAt, clock.GetUtcNow().ToUnixTimeMilliseconds());
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // The rule stops: the last completed checkpoint stands.
            }
#pragma warning disable CA1031 // A checkpoint that fails is counted and logged; the rule goes on, the last one stands.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Interlocked.Increment(ref checkpointsFailed);
                Diagnostics.Log.RuleWarning(logger, Definition.Id, $"checkpoint failed: {e.Message}");
            }
            finally
            {
                Volatile.Write(ref checkpointBusy, 0);
            }
        }

        private void StartCheckpoints(RuleRunner current)
        {
            if (checkpoints is null)
            {
                return;
            }

            var stop = new CancellationTokenSource();
            checkpointStop = stop;
            var interval = Definition.Options.CheckpointInterval;
            checkpointTimer = clock.CreateTimer(_ => TryCheckpoint(current, stop), null, interval, interval);
        }

        /// <summary>Starts a checkpoint unless one is running, the runner is not the current one, or it failed.</summary>
        private void TryCheckpoint(RuleRunner current, CancellationTokenSource stop)
        {
            // A runner that failed takes no checkpoint: its last one stands for the restart.
            if (!ReferenceEquals(Volatile.Read(ref runner), current) || current.Failed)
            {
                return;
            }

            if (Interlocked.CompareExchange(ref checkpointBusy, 1, 0) == 0)
            {
                try
                {
                    if (!stop.IsCancellationRequested)
                    {
                        checkpointing = CheckpointAsync(current, stop.Token);
                        return;
                    }
                }
                catch (ObjectDisposedException)
                {
                    // The checkpoints stopped meanwhile.
                }

                Volatile.Write(ref checkpointBusy, 0);
            }
        }

        /// <summary>A source holding acknowledgements asks for a checkpoint before the interval is up.</summary>
        private void CheckpointRequested(RuleRunner current)
        {
            if (Volatile.Read(ref checkpointStop) is { } stop)
            {
                TryCheckpoint(current, stop);
            }
        }

        private async Task StopCheckpointsAsync()
        {
            if (checkpointTimer is { } timer)
            {
                await timer.DisposeAsync().ConfigureAwait(false);
                checkpointTimer = null;
            }

            if (checkpointStop is { } stop)
            {
                await stop.CancelAsync().ConfigureAwait(false);
                await checkpointing.ConfigureAwait(false);
                stop.Dispose();
                checkpointStop = null;
            }
        }

        /// <summary>The status metrics of checkpoints, for a rule that takes them.</summary>
        private RuleStatus WithCheckpointMetrics(RuleStatus status)
        {
            if (checkpoints is null)
            {
                return status;
            }

            var metrics = new SortedDictionary<string, long>(status.Metrics.ToDictionary(), StringComparer.Ordinal)
            {
                ["checkpoints_completed_total"] = Interlocked.Read(ref checkpointsDone),
                ["checkpoint_in_progress"] = Volatile.Read(ref checkpointBusy),
                ["checkpoints_failed_total"] = Interlocked.Read(ref checkpointsFailed),
                ["checkpoint_last_time"] = Interlocked.Read(ref lastCheckpointAt),
                ["checkpoint_restored_total"] = Interlocked.Read(ref restoredFromCheckpoint),
            };
            return status.WithMetrics(metrics);
        }

        public RuleDefinition Definition { get; } = definition;

        public RulePlan Plan { get; } = compiled.Plan;

        public IReadOnlyList<string?> SinkDescriptions => compiled.Sinks.Select(s => (s as ShapedSink)?.Description).ToArray();

        /// <summary>Restarts tried since the rule was last started by a caller.</summary>
        public int RestartAttempts { get; set; }

        public bool IsRunning => runner is { Failed: false };

        /// <summary>A snapshot the next start restores (then forgotten).</summary>
        public byte[]? RestoreFrom { get; set; }

        /// <summary>The running rule's state (see <see cref="RuleRunner.SnapshotAsync"/>).</summary>
        public Task<byte[]> Snapshot() => runner?.SnapshotAsync() ?? Task.FromException<byte[]>(new InvalidOperationException($"rule `{Definition.Id}` is not running"));

        /// <summary>Queues an end-of-input flush in the running rule (nothing when it is not running).</summary>
        public void Flush() => runner?.RequestFlush();

        /// <summary>See <see cref="RuleRunner.SettleAsync"/>; completed when the rule is not running.</summary>
        public Task SettleAsync(CancellationToken cancellationToken) => runner?.SettleAsync(cancellationToken) ?? Task.CompletedTask;

        /// <summary>Whether <paramref name="failed"/> is still this rule's runner (no one stopped or restarted it since).</summary>
        public bool IsCurrent(RuleRunner failed) => ReferenceEquals(runner, failed);

        /// <summary>Starts the rule; a runner that failed is cleaned up first (its sinks and source stopped).</summary>
        /// <param name="bus">The engine's bus.</param>
        /// <param name="time">The engine's clock.</param>
        /// <param name="byCaller">Whether a caller (not the restart strategy) starts it: that resets the attempts.</param>
        /// <param name="cleanup">Bounds cleaning up a failed runner (its sinks may still be retrying).</param>
        public async Task StartAsync(MemoryBus bus, TimeProvider time, bool byCaller, CancellationToken cleanup = default)
        {
            if (IsRunning)
            {
                return;
            }

            CancelRestart();
            await StopCheckpointsAsync().ConfigureAwait(false); // a failed runner's
            if (byCaller)
            {
                RestartAttempts = 0;
            }

            if (runner is { } failed)
            {
                // A caller's start bounds this cleanup with its own token.
                runner = null;
                await failed.StopAsync(cleanup).ConfigureAwait(false);
                failed.Dispose();
            }

            var restore = RestoreFrom;
            var fromStore = false;
            if (restore is null && checkpoints is not null)
            {
                restore = await checkpoints.GetAsync(CheckpointKey, cleanup).ConfigureAwait(false);
                fromStore = restore is not null;
            }

            RestoreFrom = null;
            runner = NewRunner(bus, time, restore);
            compiled.Errors.Target = runner.RecordError;
            last = runner;
            try
            {
                try
                {
                    await runner.StartAsync(cleanup).ConfigureAwait(false);
                }
                catch (FormatException e) when (fromStore)
                {
                    // A checkpoint of another statement (the rule was defined anew under this id): start afresh.
                    Diagnostics.Log.RuleWarning(logger, Definition.Id, $"the saved checkpoint does not fit the rule and is dropped: {e.Message}");
                    runner.Dispose();
                    await checkpoints!.DeleteAsync(CheckpointKey, cleanup).ConfigureAwait(false);
                    fromStore = false;
                    runner = NewRunner(bus, time, null);
                    compiled.Errors.Target = runner.RecordError;
                    last = runner;
                    await runner.StartAsync(cleanup).ConfigureAwait(false);
                }

                if (fromStore)
                {
                    Interlocked.Increment(ref restoredFromCheckpoint);
                }

                StartCheckpoints(runner);
            }
            catch
            {
                // A snapshot that does not fit, or a sink that refused to open: the rule stays stopped (by error, with
                // the sink's message, in the second case), with nothing subscribed.
                runner.Dispose();
                runner = null;
                throw;
            }
        }

        private RuleRunner NewRunner(MemoryBus bus, TimeProvider time, byte[]? restore) =>
            new(Definition.Id, Plan, compiled.Sinks, Definition.Options, bus, time, warnings, logger, compiled.Input, r => onFailed(this, r), restore)
            {
                Checkpointed = checkpoints is not null,
                CheckpointRequested = CheckpointRequested,
            };

        public void ScheduleRestart(ITimer timer)
        {
            Interlocked.Exchange(ref restart, timer)?.Dispose();
        }

        private void CancelRestart() => Interlocked.Exchange(ref restart, null)?.Dispose();

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            CancelRestart();
            await StopCheckpointsAsync().ConfigureAwait(false);
            if (runner is { } r)
            {
                runner = null;
                await r.StopAsync(cancellationToken).ConfigureAwait(false);
                r.Dispose();
            }
        }

        public RuleStatus Status() =>
            WithCheckpointMetrics((runner ?? last)?.Status(runner is not null) ?? new RuleStatus(Definition.Id, RuleState.Stopped, 0, 0, 0, null, warnings));
    }
}
