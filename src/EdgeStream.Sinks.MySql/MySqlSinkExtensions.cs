namespace EdgeStream.Sinks.MySql;

/// <summary>Registers the MySQL/MariaDB sink under the action names <c>mysql</c> and <c>sql</c> (eKuiper's name).</summary>
public static class MySqlSinkExtensions
{
    /// <summary>The action names the sink is registered under.</summary>
    public static IReadOnlyList<string> ActionNames { get; } = ["mysql", "sql"];

    /// <summary>Registers the sink with the engine the builder configures.</summary>
    /// <param name="builder">The engine's DI builder (<c>services.AddEdgeStream()</c>).</param>
    /// <returns>The builder.</returns>
    public static EdgeStreamBuilder AddMySqlSink(this EdgeStreamBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        foreach (var name in ActionNames)
        {
            builder.AddSink<MySqlSink, MySqlSinkOptions>(name);
        }

        return builder;
    }

    /// <summary>Registers the sink directly on an engine (without DI).</summary>
    /// <param name="engine">The engine.</param>
    public static void RegisterMySqlSink(this EdgeStreamEngine engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        foreach (var name in ActionNames)
        {
            engine.RegisterSink<MySqlSinkOptions>(name, (context, options) => new MySqlSink(context, options));
        }
    }
}
