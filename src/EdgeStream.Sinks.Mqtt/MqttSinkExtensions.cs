namespace EdgeStream.Sinks.Mqtt;

/// <summary>Registers the MQTT sink under the action name <c>mqtt</c>.</summary>
public static class MqttSinkExtensions
{
    /// <summary>The action name the sink is registered under.</summary>
    public const string ActionName = "mqtt";

    /// <summary>Registers the sink with the engine the builder configures.</summary>
    /// <param name="builder">The engine's DI builder (<c>services.AddEdgeStream()</c>).</param>
    /// <returns>The builder.</returns>
    public static EdgeStreamBuilder AddMqttSink(this EdgeStreamBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddSink<MqttSink, MqttSinkOptions>(ActionName);
    }

    /// <summary>Registers the sink directly on an engine (without DI).</summary>
    /// <param name="engine">The engine.</param>
    public static void RegisterMqttSink(this EdgeStreamEngine engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        engine.RegisterSink<MqttSinkOptions>(ActionName, (context, options) => new MqttSink(context, options));
    }
}
