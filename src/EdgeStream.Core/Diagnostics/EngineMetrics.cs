using System.Diagnostics.Metrics;

namespace EdgeStream.Diagnostics;

/// <summary>
/// The engine's instruments on the <c>EdgeStream</c> <see cref="Meter"/>, tagged with <c>rule</c>: events in, result
/// rows out, errors. The same counts are in <see cref="RuleStatus"/>.
/// </summary>
internal static class EngineMetrics
{
    public const string MeterName = "EdgeStream";

    private static readonly Meter Meter = new(MeterName, "1.0");

    public static readonly Counter<long> RecordsIn = Meter.CreateCounter<long>("edgestream.rule.records_in", "{event}", "Events a rule took from its source.");

    public static readonly Counter<long> RecordsOut = Meter.CreateCounter<long>("edgestream.rule.records_out", "{row}", "Result rows a rule sent to its sinks.");

    public static readonly Counter<long> Errors = Meter.CreateCounter<long>("edgestream.rule.errors", "{error}", "Events a rule could not decode and rows it could not evaluate.");
}
