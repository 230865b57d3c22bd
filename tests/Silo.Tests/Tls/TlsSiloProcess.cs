using System.Diagnostics;
using System.Text;
using Platform.Client.Tls;
using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests.Tls;

/// <summary>A real silo process serving HTTPS on a free loopback port, with its own data directory.</summary>
public sealed class TlsSiloProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TempDir _data;
    private readonly StringBuilder _output = new();

    private TlsSiloProcess(Process process, TempDir data, int port)
    {
        _process = process;
        _data = data;
        BaseAddress = new Uri($"https://127.0.0.1:{port}");
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Uri BaseAddress { get; }

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>Starts a silo with <c>--tls-cert</c>/<c>--tls-key</c> and <paramref name="extra"/>; waits until /health/ready answers a client that trusts <paramref name="caFile"/>.</summary>
    public static Task<TlsSiloProcess> StartAsync(TestCertificates.Pem server, string caFile, params string[] extra)
        => StartAsync(server, caFile, TimeProvider.System, extra);

    /// <summary>As above, the readiness check reading the time from <paramref name="clock"/> (a time the certificate was valid, to start a silo with an expired one).</summary>
    public static async Task<TlsSiloProcess> StartAsync(TestCertificates.Pem server, string caFile, TimeProvider clock, params string[] extra)
    {
        var port = SiloProcess.FreePort();
        var data = new TempDir();
        var process = Process.Start(SiloProcess.StartInfo(
        [
            "--urls", $"https://127.0.0.1:{port}", "--data-dir", data.Path,
            "--tls-cert", server.CertFile, "--tls-key", server.KeyFile, .. extra,
        ]))!;
        var silo = new TlsSiloProcess(process, data, port);
        using var http = silo.CreateHttpClient(new TlsClientSettings { CaFile = caFile }, clock);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (process.HasExited)
            {
                await silo.DisposeAsync();
                throw new InvalidOperationException($"silo exited with {process.ExitCode} before it was ready:\n{silo.Output}");
            }
            try
            {
                using var r = await http.GetAsync("/health/ready");
                if (r.IsSuccessStatusCode) return silo;
            }
            catch (HttpRequestException)
            {
            }
            if (DateTime.UtcNow > deadline)
            {
                await silo.DisposeAsync();
                throw new TimeoutException($"silo not ready within 60 s:\n{silo.Output}");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>An HTTP client for this silo configured by <paramref name="settings"/>, as the SDK configures its handler.</summary>
    public HttpClient CreateHttpClient(TlsClientSettings settings, TimeProvider? clock = null)
        => new(settings.Configure(new SocketsHttpHandler(), clock), disposeHandler: true) { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Waits for the output to hold <paramref name="text"/>.</summary>
    public Task WaitForOutputAsync(string text, TimeSpan timeout) => ProcessOutput.WaitForAsync(() => Output, text, timeout, "the silo");

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        _data.Dispose();
    }
}
