using Platform.Silo.Hosting;

namespace Platform.Silo.Artifacts;

/// <summary>Registers the store the silo's storage calls for and prepares it (schema, clean-up) before requests are served.</summary>
public sealed class ArtifactStoreStart(IArtifactStore store) : IHostedService
{
    public static void Configure(IServiceCollection services, PlatformOptions platform, IConfiguration configuration)
    {
        var options = configuration.GetSection(ArtifactOptions.Section).Get<ArtifactOptions>() ?? new ArtifactOptions();
        if (options.MaxSize <= 0)
            throw new StartupException($"Platform:Artifacts:MaxSize is {options.MaxSize}; expected the largest artifact in bytes, such as 2147483648");
        if (options.ChunkSize is < 4096 or > 64 << 20)
            throw new StartupException($"Platform:Artifacts:ChunkSize is {options.ChunkSize}; expected bytes from 4096 to 67108864");
        services.AddSingleton(options);
        if (platform.Storage.StartsWith("postgres", StringComparison.OrdinalIgnoreCase))
        {
            services.AddSingleton<IArtifactStore>(_ => new PostgreSqlArtifactStore(platform.PostgreSql!, options));
        }
        else
        {
            var dataDir = Path.GetFullPath(platform.DataDir);
            var directory = Path.GetFullPath(options.Directory ?? Path.Combine(dataDir, "artifacts"));
            services.AddSingleton<IArtifactStore>(provider => new DiskArtifactStore(directory, Path.Combine(dataDir, "platform.db"), options, provider.GetRequiredService<ILogger<DiskArtifactStore>>()));
        }
        services.AddHostedService<ArtifactStoreStart>();
    }

    public Task StartAsync(CancellationToken cancellationToken) => store.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
