using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeStream;

/// <summary>
/// Registers extensions (sinks, sources, functions, formats) of the engine that
/// <see cref="EdgeStreamServiceCollectionExtensions.AddEdgeStream"/> adds. They are registered on the engine when the
/// container first makes it, in the order given here.
/// </summary>
public sealed class EdgeStreamBuilder
{
    internal EdgeStreamBuilder(IServiceCollection services) => Services = services;

    /// <summary>The service collection the engine is registered in.</summary>
    public IServiceCollection Services { get; }

    internal List<Action<EdgeStreamEngineOptions>> Configure { get; } = [];

    internal List<Action<IServiceProvider, EdgeStreamEngine>> Registrations { get; } = [];

    /// <summary>
    /// Registers a sink type whose instances the container makes: <typeparamref name="TSink"/>'s constructor may take
    /// services and the <see cref="SinkContext"/> of the rule action.
    /// </summary>
    /// <typeparam name="TSink">The sink.</typeparam>
    /// <param name="type">The name rule actions use.</param>
    /// <param name="properties">The property names the sink takes; null to accept any.</param>
    /// <returns>This builder.</returns>
    public EdgeStreamBuilder AddSink<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TSink>(
        string type, IReadOnlyCollection<string>? properties)
        where TSink : class, ISink =>
        AddSink(type, (provider, context) => ActivatorUtilities.CreateInstance<TSink>(provider, context), properties);

    /// <summary>Registers a sink type whose instances the container makes, accepting any property (see the overload with properties).</summary>
    /// <typeparam name="TSink">The sink.</typeparam>
    /// <param name="type">The name rule actions use.</param>
    /// <returns>This builder.</returns>
    public EdgeStreamBuilder AddSink<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TSink>(string type)
        where TSink : class, ISink => AddSink<TSink>(type, null);

    /// <summary>
    /// Registers a sink type whose properties bind to <typeparamref name="TOptions"/> (see
    /// <see cref="EdgeStreamEngine.RegisterSink{TOptions}"/>) and whose instances the container makes:
    /// <typeparamref name="TSink"/>'s constructor takes the options and may take services and the <see cref="SinkContext"/>.
    /// </summary>
    /// <typeparam name="TSink">The sink.</typeparam>
    /// <typeparam name="TOptions">Its options class.</typeparam>
    /// <param name="type">The name rule actions use.</param>
    /// <returns>This builder.</returns>
    public EdgeStreamBuilder AddSink<
        [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TSink,
        [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties | DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] TOptions>(string type)
        where TSink : class, ISink
        where TOptions : class
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(type);

        // The container takes only arguments the constructor uses, so the context is passed only when it is asked for.
        var takesContext = typeof(TSink).GetConstructors().Any(c => c.GetParameters().Any(p => p.ParameterType == typeof(SinkContext)));
        Registrations.Add((provider, engine) => engine.RegisterSink<TOptions>(type, (context, options) => takesContext
            ? ActivatorUtilities.CreateInstance<TSink>(provider, context, options)
            : ActivatorUtilities.CreateInstance<TSink>(provider, options)));
        return this;
    }

    /// <summary>Registers a sink type made by a factory that may use the container.</summary>
    /// <param name="type">The name rule actions use.</param>
    /// <param name="factory">Makes a sink for a rule action; no I/O (see <see cref="EdgeStreamEngine.RegisterSink"/>).</param>
    /// <param name="properties">The property names the sink takes; null to accept any.</param>
    /// <returns>This builder.</returns>
    public EdgeStreamBuilder AddSink(string type, Func<IServiceProvider, SinkContext, ISink> factory, IReadOnlyCollection<string>? properties)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(type);
        ArgumentNullException.ThrowIfNull(factory);
        Registrations.Add((provider, engine) => engine.RegisterSink(type, context => factory(provider, context), properties));
        return this;
    }

    /// <summary>
    /// Registers a source type whose instances the container makes: <typeparamref name="TSource"/>'s constructor may
    /// take services and the <see cref="SourceContext"/> of the stream. Streams name it with <c>TYPE="type"</c>.
    /// </summary>
    /// <typeparam name="TSource">The source.</typeparam>
    /// <param name="type">The name streams use.</param>
    /// <returns>This builder.</returns>
    public EdgeStreamBuilder AddSource<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TSource>(string type)
        where TSource : class, ISource =>
        AddSource(type, (provider, context) => ActivatorUtilities.CreateInstance<TSource>(provider, context));

    /// <summary>Registers a source type made by a factory that may use the container.</summary>
    /// <param name="type">The name streams use.</param>
    /// <param name="factory">Makes a source for a stream; no I/O (see <see cref="EdgeStreamEngine.RegisterSource(string, Func{SourceContext, ISource})"/>).</param>
    /// <returns>This builder.</returns>
    public EdgeStreamBuilder AddSource(string type, Func<IServiceProvider, SourceContext, ISource> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(type);
        ArgumentNullException.ThrowIfNull(factory);
        Registrations.Add((provider, engine) => engine.RegisterSource(type, context => factory(provider, context)));
        return this;
    }

    /// <summary>Registers a source type made by a factory that may use the container, with a check of each stream's options (see <see cref="EdgeStreamEngine.RegisterSource(string, Func{SourceContext, ISource}, Action{SourceContext})"/>).</summary>
    /// <param name="type">The name streams use.</param>
    /// <param name="factory">Makes a source for a stream; no I/O.</param>
    /// <param name="validate">Checks a stream's options when a rule reading it is created; throws <see cref="ArgumentException"/>. No I/O.</param>
    /// <returns>This builder.</returns>
    public EdgeStreamBuilder AddSource(string type, Func<IServiceProvider, SourceContext, ISource> factory, Action<IServiceProvider, SourceContext> validate)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(type);
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(validate);
        Registrations.Add((provider, engine) => engine.RegisterSource(type, context => factory(provider, context), context => validate(provider, context)));
        return this;
    }

    /// <summary>
    /// Registers a scalar function: the container makes one <typeparamref name="TFunction"/> (its constructor may take
    /// services) for the engine, and rules call it by <paramref name="name"/>.
    /// </summary>
    /// <typeparam name="TFunction">The function.</typeparam>
    /// <param name="name">The name rules call it by.</param>
    /// <returns>This builder.</returns>
    public EdgeStreamBuilder AddFunction<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TFunction>(string name)
        where TFunction : class, IFunction => AddFunction<TFunction>(name, overrideBuiltin: false);

    /// <summary>Registers a scalar function the container makes, optionally in place of the built-in of that name.</summary>
    /// <typeparam name="TFunction">The function.</typeparam>
    /// <param name="name">The name rules call it by.</param>
    /// <param name="overrideBuiltin">Whether it replaces a built-in function of the same name (otherwise that is an error).</param>
    /// <returns>This builder.</returns>
    public EdgeStreamBuilder AddFunction<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TFunction>(string name, bool overrideBuiltin)
        where TFunction : class, IFunction
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Registrations.Add((provider, engine) => engine.RegisterFunction(name, ActivatorUtilities.CreateInstance<TFunction>(provider), overrideBuiltin));
        return this;
    }

    /// <summary>Registers an aggregate function the container makes (see <see cref="AddFunction{TFunction}(string)"/>).</summary>
    /// <typeparam name="TFunction">The aggregate function.</typeparam>
    /// <param name="name">The name rules call it by.</param>
    /// <returns>This builder.</returns>
    public EdgeStreamBuilder AddAggregateFunction<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TFunction>(string name)
        where TFunction : class, IAggregateFunction => AddAggregateFunction<TFunction>(name, overrideBuiltin: false);

    /// <summary>Registers an aggregate function the container makes, optionally in place of the built-in of that name.</summary>
    /// <typeparam name="TFunction">The aggregate function.</typeparam>
    /// <param name="name">The name rules call it by.</param>
    /// <param name="overrideBuiltin">Whether it replaces a built-in aggregate of the same name (otherwise that is an error).</param>
    /// <returns>This builder.</returns>
    public EdgeStreamBuilder AddAggregateFunction<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TFunction>(string name, bool overrideBuiltin)
        where TFunction : class, IAggregateFunction
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Registrations.Add((provider, engine) => engine.RegisterAggregateFunction(name, ActivatorUtilities.CreateInstance<TFunction>(provider), overrideBuiltin));
        return this;
    }

    /// <summary>
    /// Registers a payload format the container makes once for the engine; streams name it with <c>FORMAT="name"</c>
    /// and sinks with the property <c>format</c>.
    /// </summary>
    /// <typeparam name="TFormat">The format.</typeparam>
    /// <param name="name">The format's name.</param>
    /// <returns>This builder.</returns>
    public EdgeStreamBuilder AddFormat<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TFormat>(string name)
        where TFormat : class, IFormat
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Registrations.Add((provider, engine) => engine.RegisterFormat(name, ActivatorUtilities.CreateInstance<TFormat>(provider)));
        return this;
    }
}
