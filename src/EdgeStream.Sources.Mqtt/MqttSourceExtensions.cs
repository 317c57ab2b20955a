using EdgeStream.Mqtt;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EdgeStream.Sources.Mqtt;

/// <summary>Registers the MQTT source: streams declared <c>WITH (TYPE="mqtt", DATASOURCE="topic/filter", CONF_KEY="profile")</c>.</summary>
public static class MqttSourceExtensions
{
    /// <summary>The stream type the source is registered under.</summary>
    public const string SourceType = "mqtt";

    /// <summary>
    /// Registers the source with the engine the builder configures. Its connection profiles are the container's
    /// <see cref="MqttProfiles"/> (one is added if there is none), which <paramref name="configure"/> may fill in.
    /// </summary>
    /// <param name="builder">The engine's DI builder (<c>services.AddEdgeStream()</c>).</param>
    /// <param name="configure">Sets connection profiles, e.g. <c>p =&gt; p.Set("default", o =&gt; o.Server = "tcp://broker:1883")</c>.</param>
    /// <returns>The builder.</returns>
    public static EdgeStreamBuilder AddMqttSource(this EdgeStreamBuilder builder, Action<MqttProfiles>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<MqttProfiles>();
        if (configure is not null)
        {
            builder.Services.AddSingleton<IConfigureMqttProfiles>(new ConfigureMqttProfiles(configure));
        }

        return builder.AddSource(SourceType, (provider, context) => new MqttSource(context, Profiles(provider)),
            (provider, context) => MqttSource.Validate(context, Profiles(provider)));
    }

    private static MqttProfiles Profiles(IServiceProvider provider)
    {
        var profiles = provider.GetRequiredService<MqttProfiles>();
        foreach (var step in provider.GetServices<IConfigureMqttProfiles>())
        {
            step.Apply(profiles);
        }

        return profiles;
    }

    /// <summary>Registers the source directly on an engine (without DI).</summary>
    /// <param name="engine">The engine.</param>
    /// <param name="profiles">The connection profiles streams name with <c>CONF_KEY</c>; none: every stream connects to <c>tcp://127.0.0.1:1883</c>.</param>
    public static void RegisterMqttSource(this EdgeStreamEngine engine, MqttProfiles? profiles = null)
    {
        ArgumentNullException.ThrowIfNull(engine);
        var used = profiles ?? new MqttProfiles();
        engine.RegisterSource(SourceType, context => new MqttSource(context, used), context => MqttSource.Validate(context, used));
    }
}

/// <summary>A step that fills in the container's <see cref="MqttProfiles"/> (applied once).</summary>
internal interface IConfigureMqttProfiles
{
    void Apply(MqttProfiles profiles);
}

internal sealed class ConfigureMqttProfiles(Action<MqttProfiles> configure) : IConfigureMqttProfiles
{
    private int applied;

    public void Apply(MqttProfiles profiles)
    {
        if (Interlocked.Exchange(ref applied, 1) == 0)
        {
            configure(profiles);
        }
    }
}
