using Microsoft.Extensions.Logging;

namespace Platform.Grains.Builds;

/// <summary>Log lines, each with its event id.</summary>
internal sealed partial class RepositoryGrain
{
    [LoggerMessage(EventId = 2614, Level = LogLevel.Warning, Message = "repository {Repository}: a {Provider} delivery with a bad signature was refused")]
    private static partial void LogBadSignature(ILogger logger, string repository, string provider);
}
