using Platform.Agent.Deploy;
using Platform.Agent.Tests.Support;

namespace Platform.Agent.Tests.Deploy.Support;

/// <summary>A scratch folder, a real HTTP server for manifests and archives, and a way to run Stretcher's procedure on them.</summary>
internal sealed class DeployHarness : IAsyncDisposable
{
    private readonly TempDir _dir = new();

    private DeployHarness(ArtifactServer server) => Server = server;

    public ArtifactServer Server { get; }

    public string Root => _dir.Path;

    public static async Task<DeployHarness> StartAsync() => new(await ArtifactServer.StartAsync());

    public string PathOf(string name) => Path.Combine(_dir.Path, name);

    /// <summary>Serves a tar.gz of <paramref name="files"/> made by the real tar; returns its URL and sha256.</summary>
    public (string Url, string Sha256, byte[] Bytes) Archive(string name, IReadOnlyDictionary<string, string> files, bool gzip = true)
    {
        var bytes = Tar.Create(_dir.Path, files, gzip);
        return (Server.Put(name, bytes), Tar.Sha256(bytes), bytes);
    }

    /// <summary>Serves <paramref name="yaml"/> as a manifest and runs the whole procedure on its URL.</summary>
    public async Task<DeployOutcome> RunAsync(string yaml, StretchOptions? options = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var url = Server.Put($"manifest-{Guid.NewGuid():N}.yml", yaml);
        return await RunUrlAsync(url, options, environment);
    }

    public async Task<DeployOutcome> RunUrlAsync(string url, StretchOptions? options = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        options ??= new StretchOptions { RetryWait = TimeSpan.Zero };
        Func<string, string?> env = name => environment?.GetValueOrDefault(name);
        var error = new StringWriter();
        var output = new StringWriter();
        using var http = new HttpClient();
        using var source = new ArtifactSource(http, options.S3, env);
        var runner = new StretchRunner(options, source, new DeployLog(TextWriter.Synchronized(error), TimeProvider.System), TextWriter.Synchronized(output), TextWriter.Synchronized(error), env, TimeProvider.System);
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var ok = await runner.RunAsync(url, deadline.Token);
        return new DeployOutcome(ok, error.ToString(), output.ToString());
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        _dir.Dispose();
    }
}

internal sealed record DeployOutcome(bool Succeeded, string Log, string Output);
