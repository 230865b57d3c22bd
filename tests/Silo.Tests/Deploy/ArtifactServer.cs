using System.Net;

namespace Platform.Silo.Tests.Deploy;

/// <summary>A real HTTP server (HttpListener on loopback) serving the files of one directory, for manifests and archives.</summary>
public sealed class ArtifactServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly string _root;
    private readonly Task _serving;

    public ArtifactServer(string root)
    {
        _root = root;
        Port = Support.SiloProcess.FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _serving = Task.Run(ServeAsync);
    }

    public int Port { get; }

    public string Url(string file) => $"http://127.0.0.1:{Port}/{file}";

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
            _ = Task.Run(async () =>
            {
                using var response = context.Response;
                var path = Path.Combine(_root, context.Request.Url!.AbsolutePath.TrimStart('/'));
                if (!File.Exists(path))
                {
                    response.StatusCode = 404;
                    return;
                }
                var bytes = await File.ReadAllBytesAsync(path);
                response.ContentLength64 = bytes.Length;
                try
                {
                    await response.OutputStream.WriteAsync(bytes);
                }
                catch (HttpListenerException)
                {
                    // The client went away.
                }
            });
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _serving.Wait(TimeSpan.FromSeconds(5));
    }
}
