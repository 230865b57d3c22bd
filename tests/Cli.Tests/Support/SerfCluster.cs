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
    private const int Attempts = 3;
    private readonly List<(string Node, Process Process, StringWriter Output)> _agents = [];
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

        // A port taken by someone else between choosing it and serf binding it makes an agent exit: start again on
        // other ports, and say what the agents printed if every attempt fails.
        var failures = new List<string>();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await StartAgentsAsync(handler);
                return;
            }
            catch (SerfStartException e) when (attempt < Attempts)
            {
                failures.Add(e.Message);
                await StopAgentsAsync();
            }
            catch (SerfStartException e)
            {
                failures.Add(e.Message);
                throw new TimeoutException($"a serf cluster of 3 did not start in {Attempts} attempts: {string.Join(" | ", failures)}");
            }
        }
    }

    private async Task StartAgentsAsync(string handler)
    {
        // Serf binds TCP and UDP on its bind port, and TCP on its RPC port: six distinct ports, free for both.
        var ports = FreePorts(6);
        var bindA = ports[0];
        RpcAddr = $"127.0.0.1:{ports[1]}";
        Start("a", $"127.0.0.1:{bindA}", RpcAddr, null, "-tag", "role=web", "-tag", "dc=east", "-event-handler", $"query:greet={handler}");
        await WaitForMembersAsync(1);
        Start("bb-longer-name", $"127.0.0.1:{ports[2]}", $"127.0.0.1:{ports[3]}", $"127.0.0.1:{bindA}", "-tag", "role=db", "-event-handler", $"query:greet={handler}");
        Start("c", $"127.0.0.1:{ports[4]}", $"127.0.0.1:{ports[5]}", $"127.0.0.1:{bindA}");
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
        var output = new StringWriter();
        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _agents.Add((node, process, output));
    }

    private static void Append(StringWriter output, string? line)
    {
        if (line is null) return;
        lock (output) output.WriteLine(line);
    }

    private async Task WaitForMembersAsync(int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var last = "";
        while (true)
        {
            foreach (var (node, process, output) in _agents)
                if (process.HasExited)
                    lock (output) throw new SerfStartException($"serf agent {node} exited with {process.ExitCode}: {output.ToString().Trim()}");
            try
            {
                var (code, stdout, stderr) = await RunAsync("members", "-status", "alive");
                if (code == 0 && stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length == count) return;
                last = code == 0 ? stdout.Trim() : stderr.Trim();
            }
            catch (InvalidOperationException e)
            {
                last = e.Message;
            }
            if (DateTime.UtcNow > deadline) throw new SerfStartException($"no {count} alive members within 30 s; serf members said: {last}");
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
        await StopAgentsAsync();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task StopAgentsAsync()
    {
        foreach (var (_, agent, _) in _agents)
        {
            if (!agent.HasExited)
            {
                agent.Kill();
                await agent.WaitForExitAsync();
            }
            agent.Dispose();
        }
        _agents.Clear();
    }

    /// <summary>
    /// <paramref name="count"/> distinct loopback ports free for TCP and UDP alike: all held open at once while they
    /// are chosen, so two calls in a row cannot hand out the same port.
    /// </summary>
    private static int[] FreePorts(int count)
    {
        var held = new List<IDisposable>();
        var ports = new List<int>();
        try
        {
            while (ports.Count < count)
            {
                var tcp = new TcpListener(IPAddress.Loopback, 0);
                tcp.Start();
                held.Add(tcp.Server);
                var port = ((IPEndPoint)tcp.LocalEndpoint).Port;
                try
                {
                    held.Add(new UdpClient(new IPEndPoint(IPAddress.Loopback, port)));
                    ports.Add(port);
                }
                catch (SocketException)
                {
                    // UDP on that port is taken: keep the TCP listener held so the next pick is another port.
                }
            }
            return [.. ports];
        }
        finally
        {
            foreach (var h in held) h.Dispose();
        }
    }

    private sealed class SerfStartException(string message) : Exception(message);

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
