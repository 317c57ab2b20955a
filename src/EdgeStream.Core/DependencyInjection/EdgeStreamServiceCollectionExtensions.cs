using System.Diagnostics.CodeAnalysis;
using EdgeStream;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers EdgeStream with a service collection.</summary>
public static class EdgeStreamServiceCollectionExtensions
{
    /// <summary>
    /// Adds one <see cref="EdgeStreamEngine"/> singleton. It takes <see cref="ILoggerFactory"/> and
    /// <see cref="TimeProvider"/> from the container when registered there, unless <paramref name="configure"/> sets them.
    /// Calling it again returns a builder for the same engine.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets engine options.</param>
    /// <returns>A builder to register sinks with.</returns>
    public static EdgeStreamBuilder AddEdgeStream(this IServiceCollection services, Action<EdgeStreamEngineOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = services.FirstOrDefault(d => d.ServiceType == typeof(EdgeStreamBuilder))?.ImplementationInstance as EdgeStreamBuilder;
        if (builder is null)
        {
            builder = new EdgeStreamBuilder(services);
            services.AddSingleton(builder);
            services.TryAddSingleton(provider =>
            {
                var options = new EdgeStreamEngineOptions
                {
                    LoggerFactory = provider.GetService<ILoggerFactory>(),
                    TimeProvider = provider.GetService<TimeProvider>() ?? TimeProvider.System,
                };
                foreach (var step in builder.Configure)
                {
                    step(options);
                }

                var engine = new EdgeStreamEngine(options);
                foreach (var registration in builder.Registrations)
                {
                    registration(provider, engine);
                }

                return engine;
            });
        }

        if (configure is not null)
        {
            builder.Configure.Add(configure);
        }

        return builder;
    }
}
