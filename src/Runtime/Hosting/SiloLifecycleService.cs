using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Platform.Runtime.Timers;

namespace Platform.Runtime.Hosting;

/// <summary>
/// Starts the runtime (collector, reminders) and, on a graceful stop, stops reminders and deactivates
/// every grain so that state written in OnDeactivateAsync is on disk before the process exits.
/// Registered before the web host, so it starts first and stops last.
/// </summary>
internal sealed class SiloLifecycleService(GrainRuntime runtime, IServiceProvider services) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var cluster = services.GetService<SiloCluster>();
        if (cluster is not null)
        {
            // Listen and join (as Joining) before taking calls; become Active once reminders are armed.
            await cluster.StartAsync(cancellationToken).ConfigureAwait(false);
            runtime.Cluster = cluster;
        }
        runtime.Start();
        if (services.GetService<IReminderTable>() is not null)
            await services.GetRequiredService<ReminderService>().StartAsync(cancellationToken).ConfigureAwait(false);
        if (cluster is not null) await cluster.BecomeActiveAsync().ConfigureAwait(false);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var cluster = runtime.Cluster;
        // Announce the leave first, so that peers route new calls to the grains' next owners.
        if (cluster is not null) await cluster.ShutDownAsync(cancellationToken).ConfigureAwait(false);
        if (services.GetService<IReminderTable>() is not null)
            await services.GetRequiredService<ReminderService>().DisposeAsync().ConfigureAwait(false);
        await runtime.StopAsync(cancellationToken).ConfigureAwait(false);
        if (cluster is not null) await cluster.StopAsync(cancellationToken).ConfigureAwait(false);
    }
}
