using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Platform.Agent.Tests.Support;

namespace Platform.Agent.Tests.Deploy.Support;

/// <summary>
/// A real S3-compatible server: the npm package s3rver (pinned in Deploy/node/package-lock.json), installed with
/// <c>npm ci</c> into a temporary directory and run by Node.js on a loopback port, with one bucket.
/// </summary>
public sealed class S3Server : IAsyncLifetime
{
    public const string Bucket = "artifacts";

    private readonly TempDir _dir = new();
    private Process? _node;
    private readonly HttpClient _http = new();

    public Uri Endpoint { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        foreach (var file in new[] { "package.json", "package-lock.json" })
            File.Copy(Path.Combine(AppContext.BaseDirectory, "Deploy", "node", file), Path.Combine(_dir.Path, file));
        var (exit, output) = await NodeJs.RunAsync("npm", _dir.Path, TimeSpan.FromMinutes(4), "ci", "--no-audit", "--no-fund", "--prefer-offline");
        if (exit != 0) throw new InvalidOperationException($"npm ci (s3rver) exited with {exit}:\n{output}");

        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var data = Path.Combine(_dir.Path, "data");
        Directory.CreateDirectory(data);
        var psi = new ProcessStartInfo("node") { WorkingDirectory = _dir.Path, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "node_modules/s3rver/bin/s3rver.js", "-d", data, "-a", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--silent", "--configure-bucket", Bucket })
            psi.ArgumentList.Add(arg);
        _node = NodeJs.Start(psi);
        _node.OutputDataReceived += (_, _) => { };
        _node.ErrorDataReceived += (_, _) => { };
        _node.BeginOutputReadLine();
        _node.BeginErrorReadLine();
        Endpoint = new Uri($"http://127.0.0.1:{port}/");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            if (_node.HasExited) throw new InvalidOperationException($"s3rver exited with {_node.ExitCode}");
            try
            {
                using var r = await _http.GetAsync(new Uri(Endpoint, Bucket));
                if (r.IsSuccessStatusCode) break;
            }
            catch (HttpRequestException)
            {
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException("s3rver did not answer within 60 s");
            await Task.Delay(50);
        }
    }

    /// <summary>Stores <paramref name="content"/> as <paramref name="key"/> in the bucket; returns its s3:// URL.</summary>
    public async Task<string> PutAsync(string key, byte[] content)
    {
        using var r = await _http.PutAsync(new Uri(Endpoint, $"{Bucket}/{key}"), new ByteArrayContent(content));
        r.EnsureSuccessStatusCode();
        return $"s3://{Bucket}/{key}";
    }

    public async Task DisposeAsync()
    {
        if (_node is { HasExited: false })
        {
            _node.Kill(entireProcessTree: true);
            await _node.WaitForExitAsync();
        }
        _node?.Dispose();
        _http.Dispose();
        _dir.Dispose();
    }
}
