using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Platform.Runtime.Hosting;
using Platform.Runtime.Storage;

namespace Platform.Runtime.Tests.Support;

/// <summary>An in-process silo for runtime tests: the real runtime with memory storage unless configured otherwise.</summary>
public sealed class TestSilo : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly IHostedService[] _hosted;

    private TestSilo(ServiceProvider services)
    {
        _services = services;
        _hosted = [.. services.GetServices<IHostedService>()];
    }

    public static async Task<TestSilo> StartAsync(Action<SiloOptions>? options = null, Action<IServiceCollection>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddGrainRuntime(options);
        services.AddGrains(typeof(TestSilo).Assembly);
        if (configure is null)
        {
            services.AddMemoryGrainStorage();
            services.AddMemoryReminderTable();
        }
        else
        {
            configure(services);
        }
        var silo = new TestSilo(services.BuildServiceProvider());
        foreach (var h in silo._hosted) await h.StartAsync(CancellationToken.None);
        return silo;
    }

    public IServiceProvider Services => _services;
    public GrainRuntime Runtime => _services.GetRequiredService<GrainRuntime>();
    public IGrainFactory Factory => Runtime;

    public async Task StopAsync()
    {
        foreach (var h in _hosted.Reverse()) await h.StopAsync(CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _services.DisposeAsync();
    }
}
