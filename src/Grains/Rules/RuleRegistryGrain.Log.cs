using Microsoft.Extensions.Logging;

namespace Platform.Grains.Rules;

/// <summary>Log lines, each with its event id.</summary>
internal sealed partial class RuleRegistryGrain
{
    [LoggerMessage(EventId = 2411, Level = LogLevel.Warning, Message = "rules: telling the engine about version {Version} failed; it reads the rules at its next wake")]
    private static partial void LogEngineNotTold(ILogger logger, Exception? exception, long version);
}
