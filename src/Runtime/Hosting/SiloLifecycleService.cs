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
        runtime.Start();
        if (services.GetService<IReminderTable>() is not null)
            await services.GetRequiredService<ReminderService>().StartAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (services.GetService<IReminderTable>() is not null)
            await services.GetRequiredService<ReminderService>().DisposeAsync().ConfigureAwait(false);
        await runtime.StopAsync(cancellationToken).ConfigureAwait(false);
    }
}
