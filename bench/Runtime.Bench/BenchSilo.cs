using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Platform.Runtime.Hosting;

namespace Platform.Runtime.Bench;

/// <summary>An in-process silo: the real runtime started through its hosted services, as the Silo host does.</summary>
public sealed class BenchSilo : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly IHostedService[] _hosted;

    private BenchSilo(ServiceProvider services)
    {
        _services = services;
        _hosted = [.. services.GetServices<IHostedService>()];
    }

    public static async Task<BenchSilo> StartAsync(Action<IServiceCollection> configureStorage)
    {
        var services = new ServiceCollection();
        services.AddGrainRuntime();
        services.AddGrains(typeof(BenchSilo).Assembly);
        configureStorage(services);
        var silo = new BenchSilo(services.BuildServiceProvider());
        foreach (var h in silo._hosted) await h.StartAsync(CancellationToken.None);
        return silo;
    }

    public GrainRuntime Runtime => _services.GetRequiredService<GrainRuntime>();
    public IGrainFactory Factory => Runtime;

    public async ValueTask DisposeAsync()
    {
        foreach (var h in _hosted.Reverse()) await h.StopAsync(CancellationToken.None);
        await _services.DisposeAsync();
    }
}
