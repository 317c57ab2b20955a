namespace EdgeStream;

/// <summary>
/// Implemented by an <see cref="ISource"/> or <see cref="ISink"/> that keeps counters of its own (a connection's
/// state, reconnects, messages dropped). The engine asks for them whenever a rule's status is read and adds them to
/// <see cref="RuleStatus.Metrics"/> under the operator's prefix: a sink's <c>connected</c> becomes
/// <c>sink_mqtt_0_0_connected</c>, a source's <c>source_demo_0_connected</c>.
/// </summary>
/// <remarks>Called from any thread while the connector runs: read counters with <see cref="Interlocked"/> or <see cref="Volatile"/>.</remarks>
public interface IConnectorMetrics
{
    /// <summary>Adds the connector's counters, by short name (<c>connected</c>, <c>reconnects_total</c>).</summary>
    /// <param name="metrics">Where to add them.</param>
    void AddMetrics(IDictionary<string, long> metrics);
}
