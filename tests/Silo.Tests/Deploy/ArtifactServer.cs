using System.Collections.Concurrent;
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

    private readonly Dictionary<string, int> _failures = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _requests = new(StringComparer.Ordinal);

    public int Port { get; }

    /// <summary>The next <paramref name="times"/> requests for <paramref name="file"/> are answered 503.</summary>
    public void FailFirst(string file, int times)
    {
        lock (_failures) _failures[file] = times;
    }

    private bool TakeFailure(string file)
    {
        lock (_failures)
        {
            if (!_failures.TryGetValue(file, out var left) || left <= 0) return false;
            _failures[file] = left - 1;
            return true;
        }
    }

    /// <summary>How many requests for <paramref name="file"/> came, answered or failed.</summary>
    public int Requests(string file) => _requests.GetValueOrDefault(file);

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
                var file = context.Request.Url!.AbsolutePath.TrimStart('/');
                _requests.AddOrUpdate(file, 1, (_, n) => n + 1);
                if (TakeFailure(file))
                {
                    response.StatusCode = 503;
                    return;
                }
                var path = Path.Combine(_root, file);
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
