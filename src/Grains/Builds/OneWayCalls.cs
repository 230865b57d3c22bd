using Microsoft.Extensions.Logging;

namespace Platform.Grains.Builds;

/// <summary>One-way grain calls whose failure is only logged: the build's reminder repeats what matters.</summary>
internal static partial class OneWayCalls
{
    public static void Ignore(this Task call, ILogger logger)
        => _ = call.ContinueWith(static (t, s) => LogOneWayCallFailed((ILogger)s!, t.Exception),
            logger, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
}
