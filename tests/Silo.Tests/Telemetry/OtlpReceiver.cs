using System.Net;
using Platform.Silo.Tests.Etcd;
using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests.Telemetry;

/// <summary>A tiny OTLP/HTTP collector (HttpListener on loopback): records every request and answers 200 with an empty body.</summary>
public sealed class OtlpReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly List<Request> _requests = [];
    private readonly ChangeSignal _signal = new();
    private readonly Task _serving;

    public OtlpReceiver()
    {
        Port = SiloProcess.FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _serving = Task.Run(ServeAsync);
    }

    /// <summary>One request as received.</summary>
    public sealed record Request(string Method, string Path, string? ContentType, byte[] Body);

    public int Port { get; }

    /// <summary>The collector's base URL, as an operator would give it.</summary>
    public string Url => $"http://127.0.0.1:{Port}";

    public IReadOnlyList<Request> Requests
    {
        get { lock (_requests) return [.. _requests]; }
    }

    /// <summary>True once <paramref name="condition"/> holds for what was received; false after <paramref name="timeout"/>.</summary>
    public Task<bool> WaitUntilAsync(Func<IReadOnlyList<Request>, bool> condition, TimeSpan timeout)
        => _signal.WaitUntilAsync(() => condition(Requests), timeout);

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            lock (_requests) _requests.Add(new Request(context.Request.HttpMethod, context.Request.Url!.AbsolutePath, context.Request.ContentType, body.ToArray()));
            _signal.Notify();
            using var response = context.Response;
            response.StatusCode = 200;
            response.ContentLength64 = 0;
        }
    }

    public void Dispose()
    {
        _listener.Close();
        _serving.Wait(TimeSpan.FromSeconds(5));
    }
}
