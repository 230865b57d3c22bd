using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace Platform.Cli.Tests.Support;

/// <summary>A tiny Kestrel app on a free loopback port standing in for a silo's HTTP API in the SDK's failover tests.</summary>
public sealed class TestSilo : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestSilo(WebApplication app)
    {
        _app = app;
        Url = new Uri(app.Urls.Single());
    }

    public Uri Url { get; }

    public static async Task<TestSilo> StartAsync(Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        return new TestSilo(app);
    }

    /// <summary>A URL where nothing listens: connecting to it is refused.</summary>
    public static Uri Refusing() => new($"http://127.0.0.1:{SerfCluster.FreePort()}");

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
