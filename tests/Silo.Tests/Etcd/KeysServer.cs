using System.Globalization;
using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests.Etcd;

/// <summary>A running server that speaks etcd's v2 keys API: a private etcd, or a Platform silo.</summary>
public interface IKeysServer : IAsyncDisposable
{
    /// <summary>How reports name it ("etcd", "platform").</summary>
    string Name { get; }

    /// <summary>True for a Platform silo, whose documented differences from etcd some tests assert.</summary>
    bool IsPlatform { get; }

    /// <summary>Base address, e.g. http://127.0.0.1:PORT.</summary>
    Uri Url { get; }

    HttpClient Http { get; }

    /// <summary>What the server printed, for failure messages.</summary>
    string Log { get; }
}

public static class KeysServer
{
    public static HttpClient NewClient(Uri url) => new(new SocketsHttpHandler { AllowAutoRedirect = false })
    {
        BaseAddress = url,
        Timeout = TimeSpan.FromSeconds(30),
    };

    /// <summary>The end of what the server printed, for failure messages.</summary>
    public static string LogTail(this IKeysServer server)
    {
        var log = server.Log;
        return log.Length <= 4000 ? log : "..." + log[^4000..];
    }

    /// <summary>The store's global index now (X-Etcd-Index of GET /v2/keys/); etcd 3.4 starts above 0 with its own entries.</summary>
    public static async Task<long> CurrentIndexAsync(this IKeysServer server)
    {
        using var response = await server.Http.GetAsync("/v2/keys/");
        if (!response.Headers.TryGetValues("X-Etcd-Index", out var values))
            throw new InvalidOperationException($"{server.Name}: GET /v2/keys/ answered {(int)response.StatusCode} without X-Etcd-Index");
        return long.Parse(values.Single(), CultureInfo.InvariantCulture);
    }
}

/// <summary>A Platform silo process (its own data dir) serving the v2 keys API.</summary>
public sealed class PlatformKeysServer : IKeysServer
{
    private readonly SiloProcess _silo;
    private readonly TempDir _dir;

    private PlatformKeysServer(SiloProcess silo, TempDir dir)
    {
        _silo = silo;
        _dir = dir;
        Http = KeysServer.NewClient(Url);
    }

    public string Name => "platform";
    public bool IsPlatform => true;
    public Uri Url => new($"http://127.0.0.1:{_silo.Port}");
    public HttpClient Http { get; }
    public string Log => _silo.Output;

    public static async Task<PlatformKeysServer> StartAsync()
    {
        var dir = new TempDir();
        try
        {
            return new PlatformKeysServer(await SiloProcess.StartAsync(dir.Path), dir);
        }
        catch
        {
            dir.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _silo.DisposeAsync();
        _dir.Dispose();
    }
}

/// <summary>Fails early, naming the install step, when a command-line tool the tests run is not on PATH.</summary>
public static class ToolCheck
{
    public static void Require(string tool)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        if (path.Split(':', StringSplitOptions.RemoveEmptyEntries).Any(d => File.Exists(Path.Combine(d, tool)))) return;
        throw new InvalidOperationException($"'{tool}' is not on PATH; ./test.sh installs it (Debian packages etcd-server, etcd-client, curl)");
    }
}
