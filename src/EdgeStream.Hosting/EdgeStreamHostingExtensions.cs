using EdgeStream;
using EdgeStream.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Runs EdgeStream in the .NET generic host: streams and rules from configuration or code, started and stopped with the app.</summary>
public static class EdgeStreamHostingExtensions
{
    /// <summary>
    /// Adds the engine (see <see cref="EdgeStreamServiceCollectionExtensions.AddEdgeStream(IServiceCollection, Action{EdgeStreamEngineOptions}?)"/>)
    /// and a hosted service that declares the streams and rules of <paramref name="configuration"/>'s <c>EdgeStream</c>
    /// section when the app starts and stops them gracefully when it stops. The section holds <c>Streams</c> and
    /// <c>Tables</c> (<c>CREATE</c> statements), <c>Rules</c> (eKuiper's rule JSON shape) and <c>Sinks</c> (shared sink
    /// properties an action takes with <c>resourceId</c>). Everything is checked before any rule starts; the app fails
    /// to start with an <see cref="EdgeStreamConfigurationException"/> listing every problem.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The app's configuration (its <c>EdgeStream</c> section is read), or that section itself.</param>
    /// <returns>A builder to register sinks, sources and functions and to declare more streams and rules in code.</returns>
    public static EdgeStreamBuilder AddEdgeStream(this IServiceCollection services, IConfiguration configuration) =>
        services.AddEdgeStream(configuration, null);

    /// <summary>Adds the engine, with options, and the hosted service that declares <paramref name="configuration"/>'s streams and rules (see the overload without options).</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The app's configuration (its <c>EdgeStream</c> section is read), or that section itself.</param>
    /// <param name="configure">Sets engine options; null for the defaults.</param>
    /// <returns>A builder to register sinks, sources and functions and to declare more streams and rules in code.</returns>
    public static EdgeStreamBuilder AddEdgeStream(this IServiceCollection services, IConfiguration configuration, Action<EdgeStreamEngineOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var builder = services.AddEdgeStream(configure);
        var section = configuration is IConfigurationSection { Key: "EdgeStream" } ? configuration : configuration.GetSection("EdgeStream");
        Declarations(builder).Sections.Add(section);
        return builder;
    }

    /// <summary>Declares a stream or table when the app starts (before the rules), as <see cref="EdgeStreamEngine.Execute(string)"/> would.</summary>
    /// <param name="builder">The engine's builder.</param>
    /// <param name="statement">A <c>CREATE STREAM</c> or <c>CREATE TABLE</c> statement.</param>
    /// <returns>The builder.</returns>
    public static EdgeStreamBuilder AddStream(this EdgeStreamBuilder builder, string statement)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(statement);
        Declarations(builder).FromCode.Add(new Declaration("code", statement, null));
        return builder;
    }

    /// <summary>Declares a rule when the app starts (it starts unless <see cref="RuleDefinition.Triggered"/> is false).</summary>
    /// <param name="builder">The engine's builder.</param>
    /// <param name="rule">The rule.</param>
    /// <returns>The builder.</returns>
    public static EdgeStreamBuilder AddRule(this EdgeStreamBuilder builder, RuleDefinition rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        Declarations(builder).FromCode.Add(new Declaration($"code (rule {rule.Id})", null, () => rule));
        return builder;
    }

    /// <summary>Declares a rule, given as eKuiper's rule JSON, when the app starts.</summary>
    /// <param name="builder">The engine's builder.</param>
    /// <param name="ruleJson">The rule JSON (<c>id</c>, <c>sql</c>, <c>actions</c>, <c>options</c>, <c>triggered</c>).</param>
    /// <returns>The builder.</returns>
    public static EdgeStreamBuilder AddRule(this EdgeStreamBuilder builder, string ruleJson)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(ruleJson);
        Declarations(builder).FromCode.Add(new Declaration("code", null, () => RuleDefinition.FromJson(ruleJson)));
        return builder;
    }

    private static EdgeStreamDeclarations Declarations(EdgeStreamBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        if (services.FirstOrDefault(d => d.ServiceType == typeof(EdgeStreamDeclarations))?.ImplementationInstance is not EdgeStreamDeclarations declarations)
        {
            declarations = new EdgeStreamDeclarations();
            services.AddSingleton(declarations);
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, EdgeStreamHostedService>());
        }

        return declarations;
    }
}

/// <summary>The EdgeStream health check for ASP.NET Core's health checks.</summary>
public static class EdgeStreamHealthCheckExtensions
{
    /// <summary>
    /// Adds a health check named <paramref name="name"/> that reports the engine's rules: healthy while none has
    /// stopped on an error, otherwise <paramref name="failureStatus"/> naming the failed rules and their last errors
    /// (secrets masked). Its data holds each rule's state.
    /// </summary>
    /// <param name="builder">The health checks builder (<c>services.AddHealthChecks()</c>).</param>
    /// <param name="name">The check's name.</param>
    /// <param name="failureStatus">What a failed rule reports; <see cref="HealthStatus.Unhealthy"/> when null.</param>
    /// <param name="tags">Tags to filter checks by.</param>
    /// <returns>The health checks builder.</returns>
    public static IHealthChecksBuilder AddEdgeStream(this IHealthChecksBuilder builder, string name = "edgestream", HealthStatus? failureStatus = null, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new HealthCheckRegistration(
            name,
            provider => new EdgeStreamHealthCheck(provider.GetRequiredService<EdgeStreamEngine>()),
            failureStatus,
            tags));
    }
}
