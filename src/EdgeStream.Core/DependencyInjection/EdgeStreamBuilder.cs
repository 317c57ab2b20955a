using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeStream;

/// <summary>Registers extensions of the engine that <see cref="EdgeStreamServiceCollectionExtensions.AddEdgeStream"/> adds.</summary>
public sealed class EdgeStreamBuilder
{
    internal EdgeStreamBuilder(IServiceCollection services) => Services = services;

    /// <summary>The service collection the engine is registered in.</summary>
    public IServiceCollection Services { get; }

    internal List<Action<EdgeStreamEngineOptions>> Configure { get; } = [];

    internal List<Action<IServiceProvider, EdgeStreamEngine>> Sinks { get; } = [];

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

    /// <summary>Registers a sink type made by a factory that may use the container.</summary>
    /// <param name="type">The name rule actions use.</param>
    /// <param name="factory">Makes a sink for a rule action; no I/O (see <see cref="EdgeStreamEngine.RegisterSink"/>).</param>
    /// <param name="properties">The property names the sink takes; null to accept any.</param>
    /// <returns>This builder.</returns>
    public EdgeStreamBuilder AddSink(string type, Func<IServiceProvider, SinkContext, ISink> factory, IReadOnlyCollection<string>? properties)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(type);
        ArgumentNullException.ThrowIfNull(factory);
        Sinks.Add((provider, engine) => engine.RegisterSink(type, context => factory(provider, context), properties));
        return this;
    }
}
