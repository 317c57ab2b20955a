using Microsoft.Extensions.Logging;

namespace EdgeStream.Hosting;

/// <summary>The host's log messages, source-generated. Event ids 2000–2099.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 2000, Level = LogLevel.Information, Message = "EdgeStream started: {Streams} stream(s) declared, {Rules} rule(s), {Running} running")]
    public static partial void Started(ILogger logger, int streams, int rules, int running);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "EdgeStream stopping: draining {Rules} rule(s)")]
    public static partial void Stopping(ILogger logger, int rules);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Error, Message = "EdgeStream configuration is invalid at {Origin}: {Error}")]
    public static partial void Invalid(ILogger logger, string origin, string error);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "EdgeStream could not restore a kept definition: {Error}")]
    public static partial void RestoreFailed(ILogger logger, string error);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Information, Message = "EdgeStream rule {RuleId} {What} from {Origin}")]
    public static partial void Declared(ILogger logger, string ruleId, string what, string origin);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Error, Message = "EdgeStream rule {RuleId} from {Origin} could not start: {Error}")]
    public static partial void RuleFailedToStart(ILogger logger, string ruleId, string origin, string error);
}
