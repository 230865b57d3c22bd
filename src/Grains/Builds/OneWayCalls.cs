using Microsoft.Extensions.Logging;

namespace Platform.Grains.Builds;

/// <summary>One-way grain calls whose failure is only logged: the build's reminder repeats what matters.</summary>
internal static class OneWayCalls
{
    public static void Ignore(this Task call, ILogger logger)
        => _ = call.ContinueWith(static (t, s) => ((ILogger)s!).LogDebug(new EventId(2613), t.Exception, "builds: a one-way call failed; the build's check repeats it"),
            logger, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
}
