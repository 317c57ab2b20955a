using Microsoft.Extensions.Logging;

namespace EdgeStream.Diagnostics;

/// <summary>
/// Every log message of the engine, as source-generated <see cref="LoggerMessage"/> methods. Event ids: 1000–1099
/// rule lifecycle, 1100–1199 per-event problems, 1200–1299 sinks, 1300–1399 sources.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Rule {RuleId} started")]
    public static partial void RuleStarted(ILogger logger, string ruleId);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Rule {RuleId} stopped")]
    public static partial void RuleStopped(ILogger logger, string ruleId);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Error, Message = "Rule {RuleId} failed and stopped")]
    public static partial void RuleFailed(ILogger logger, string ruleId, Exception exception);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Rule {RuleId}: {Warning}")]
    public static partial void RuleWarning(ILogger logger, string ruleId, string warning);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "Rule {RuleId} restarts in {DelayMs} ms (attempt {Attempt} of {Attempts})")]
    public static partial void RuleRestarting(ILogger logger, string ruleId, int attempt, int attempts, long delayMs);

    // Per event: Debug, so a stream of bad events cannot flood a production log; they are counted either way.
    [LoggerMessage(EventId = 1100, Level = LogLevel.Debug, Message = "Rule {RuleId} rejected an event: {Error}")]
    public static partial void EventRejected(ILogger logger, string ruleId, string error);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Warning, Message = "Rule {RuleId}: {Problem}")]
    public static partial void SinkProblem(ILogger logger, string ruleId, string problem);

    [LoggerMessage(EventId = 1200, Level = LogLevel.Information, Message = "Rule {RuleId} result: {Emission}")]
    public static partial void LogSinkEmission(ILogger logger, string ruleId, string emission);

    [LoggerMessage(EventId = 1300, Level = LogLevel.Warning, Message = "Stream {Stream}: {Problem}")]
    public static partial void SourceProblem(ILogger logger, string stream, string problem);
}
