using Microsoft.Extensions.Logging;

namespace Platform.Grains.Rules;

/// <summary>Log lines, each with its event id.</summary>
public sealed partial class RuleEngineKeeper
{
    [LoggerMessage(EventId = 2409, Level = LogLevel.Information, Message = "rules: the rule engine answers again after {Failures} failed wakes")]
    private static partial void LogEngineAnswers(ILogger logger, int failures);

    [LoggerMessage(EventId = 2410, Level = LogLevel.Warning, Message = "rules: waking the rule engine failed ({Error}, {Failures} in a row); retrying")]
    private static partial void LogEngineWakeFailed(ILogger logger, string error, int failures);
}
