using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Platform.Cli.Tests.Support;

/// <summary>
/// Real Serf agents (Debian's <c>serf</c>) on free loopback ports, joined into one cluster: a (role=web, dc=east, and a
/// query handler <c>greet</c>), bb-longer-name (role=db) and c (no tags). Output of the real <c>serf</c> commands is what
/// our formatting is compared with.
/// </summary>
public sealed class SerfCluster : IAsyncLifetime
{
    private readonly List<Process> _agents = [];
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "platform-serf-" + Guid.NewGuid().ToString("N")[..12]);

    /// <summary>The first agent's RPC address, for <c>serf ... -rpc-addr</c>.</summary>
    public string RpcAddr { get; private set; } = "";

    public static readonly string[] Names = ["a", "bb-longer-name", "c"];

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        var handler = Path.Combine(_dir, "greet.sh");
        // The second line ends with a newline, as a handler's echo does; serf drops exactly one.
        await File.WriteAllTextAsync(handler, "#!/bin/sh\necho \"hello from $SERF_SELF_NAME\"\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(handler, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var bindA = FreePort();
        RpcAddr = $"127.0.0.1:{FreePort()}";
        Start("a", $"127.0.0.1:{bindA}", RpcAddr, null, "-tag", "role=web", "-tag", "dc=east", "-event-handler", $"query:greet={handler}");
        await WaitForMembersAsync(1);
        Start("bb-longer-name", $"127.0.0.1:{FreePort()}", $"127.0.0.1:{FreePort()}", $"127.0.0.1:{bindA}", "-tag", "role=db", "-event-handler", $"query:greet={handler}");
        Start("c", $"127.0.0.1:{FreePort()}", $"127.0.0.1:{FreePort()}", $"127.0.0.1:{bindA}");
        await WaitForMembersAsync(3);
    }

    private void Start(string node, string bind, string rpc, string? join, params string[] extra)
    {
        var psi = new ProcessStartInfo("serf") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "agent", "-node", node, "-bind", bind, "-rpc-addr", rpc, "-log-level", "warn" }) psi.ArgumentList.Add(a);
        if (join is not null)
        {
            psi.ArgumentList.Add("-join");
            psi.ArgumentList.Add(join);
        }
        foreach (var a in extra) psi.ArgumentList.Add(a);
        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _agents.Add(process);
    }

    private async Task WaitForMembersAsync(int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                var (code, stdout, _) = await RunAsync("members", "-status", "alive");
                if (code == 0 && stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length == count) return;
            }
            catch (InvalidOperationException)
            {
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"serf cluster did not reach {count} alive members within 30 s");
            await Task.Delay(100);
        }
    }

    /// <summary>Runs <c>serf COMMAND -rpc-addr … ARGS</c> against the first agent.</summary>
    public async Task<(int ExitCode, string StdOut, string StdErr)> RunAsync(string command, params string[] args)
    {
        var psi = new ProcessStartInfo("serf") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(command);
        psi.ArgumentList.Add("-rpc-addr");
        psi.ArgumentList.Add(RpcAddr);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(cts.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    public async Task DisposeAsync()
    {
        foreach (var agent in _agents)
        {
            if (!agent.HasExited)
            {
                agent.Kill();
                await agent.WaitForExitAsync();
            }
            agent.Dispose();
        }
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
