using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Platform.Agent.Tests.Deploy.Support;

/// <summary>
/// A real HTTP server (Kestrel on loopback) serving files put into it. It can answer the next requests with an error
/// status, and <c>/stall/…</c> sends headers and then nothing, for the retry and timeout tests.
/// </summary>
internal sealed class ArtifactServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Dictionary<string, byte[]> _files = [];
    private readonly TaskCompletionSource _stalled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _failuresLeft;
    private int _requests;

    private ArtifactServer(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = "";

    /// <summary>Requests received so far.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Completes when a request for a <c>/stall/</c> path has started (its headers are sent).</summary>
    public Task Stalled => _stalled.Task;

    public static async Task<ArtifactServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new ArtifactServer(app);
        app.Run(server.HandleAsync);
        await app.StartAsync();
        server.BaseUrl = app.Urls.First().TrimEnd('/');
        return server;
    }

    /// <summary>Serves <paramref name="content"/> at <paramref name="path"/>; returns its URL.</summary>
    public string Put(string path, byte[] content)
    {
        lock (_files) _files["/" + path.TrimStart('/')] = content;
        return BaseUrl + "/" + path.TrimStart('/');
    }

    public string Put(string path, string content) => Put(path, System.Text.Encoding.UTF8.GetBytes(content));

    /// <summary>The next <paramref name="count"/> requests get 503.</summary>
    public void FailNext(int count) => Volatile.Write(ref _failuresLeft, count);

    private async Task HandleAsync(HttpContext context)
    {
        Interlocked.Increment(ref _requests);
        var path = context.Request.Path.Value ?? "/";
        if (Interlocked.Decrement(ref _failuresLeft) >= 0)
        {
            context.Response.StatusCode = 503;
            return;
        }
        if (path.StartsWith("/stall/", StringComparison.Ordinal))
        {
            context.Response.StatusCode = 200;
            context.Response.ContentLength = 1 << 20;
            await context.Response.Body.WriteAsync(new byte[16]);
            await context.Response.Body.FlushAsync();
            _stalled.TrySetResult();
            try { await Task.Delay(Timeout.Infinite, context.RequestAborted); }
            catch (OperationCanceledException) { }
            return;
        }
        byte[]? body;
        lock (_files) _files.TryGetValue(path, out body);
        if (body is null)
        {
            context.Response.StatusCode = 404;
            return;
        }
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
