using System.Text;
using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests.Nodes.Serf;

/// <summary>
/// Real serf agents on loopback: free bind and RPC ports, a temporary folder per node, the recording handler as the
/// only <c>-event-handler</c> (all events, queries included), every other setting Serf's default (LAN profile,
/// coalescing on). Every agent is killed and the folder removed on dispose.
/// </summary>
public sealed class SerfFleet : IFleet
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);

    private readonly TempDir _dir = new();
    private readonly Dictionary<string, Agent> _agents = new(StringComparer.Ordinal);
    private readonly List<string> _commands = [];

    public string Name => "serf";

    public static void RequireSerf()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        if (!path.Split(':', StringSplitOptions.RemoveEmptyEntries).Any(d => File.Exists(Path.Combine(d, "serf"))))
            throw new InvalidOperationException("'serf' is not on PATH; ./test.sh installs it (Debian package serf)");
    }

    public string NodeDir(string node) => Path.Combine(_dir.Path, node);

    public async Task StartNodeAsync(NodeSpec node)
    {
        RequireSerf();
        var handler = RecordingHandler.Install(NodeDir(node.Name));
        var ports = SiloClusterProcesses.DistinctFreePorts(2);
        var args = new List<string>
        {
            "agent", "-node", node.Name, "-bind", $"127.0.0.1:{ports[0]}", "-rpc-addr", $"127.0.0.1:{ports[1]}",
            "-event-handler", handler, "-log-level", "debug",
        };
        foreach (var (key, value) in node.Tags) args.AddRange(["-tag", $"{key}={value}"]);
        var first = _agents.Values.FirstOrDefault(a => !a.Process.HasExited);
        if (first is not null) args.AddRange(["-join", $"127.0.0.1:{first.BindPort}"]);
        var agent = new Agent(NodeProcess.Start($"serf agent {node.Name}", "serf", args), ports[0], $"127.0.0.1:{ports[1]}");
        _agents.Add(node.Name, agent);
        await WaitForRpcAsync(agent);
    }

    public async Task SetTagsAsync(string node, IReadOnlyList<KeyValuePair<string, string>> set, IReadOnlyList<string> delete)
    {
        var args = new List<string> { "tags", "-rpc-addr", _agents[node].RpcAddr };
        foreach (var (key, value) in set) args.AddRange(["-set", $"{key}={value}"]);
        foreach (var key in delete) args.AddRange(["-delete", key]);
        await RunAsync(args);
    }

    public async Task LeaveAsync(string node)
    {
        var agent = _agents[node];
        await RunAsync(["leave", "-rpc-addr", agent.RpcAddr]);
        await agent.Process.WaitForExitAsync(CommandTimeout);
    }

    public Task KillAsync(string node) => _agents[node].Process.KillAsync();

    public Task FireEventAsync(string via, string name, string payload) => RunAsync(["event", "-rpc-addr", _agents[via].RpcAddr, name, payload]);

    public Task<string> QueryAsync(string via, string name) => RunAsync(["query", "-rpc-addr", _agents[via].RpcAddr, name]);

    /// <summary>Runs a serf command and returns its standard output; a non-zero exit fails with its output.</summary>
    private async Task<string> RunAsync(IReadOnlyList<string> args)
    {
        var line = "serf " + string.Join(' ', args);
        var (exit, output) = await NodeProcess.RunAsync(line, "serf", args, CommandTimeout);
        lock (_commands) _commands.Add($"$ {line}\n{output}");
        if (exit != 0) throw new InvalidOperationException($"`{line}` exited with {exit}:\n{output}");
        return output;
    }

    // The agent's RPC listener opens after it has started serf (and joined, with -join): once `serf members`
    // answers, the node is up.
    private async Task WaitForRpcAsync(Agent agent)
    {
        var deadline = DateTime.UtcNow + CommandTimeout;
        while (true)
        {
            if (agent.Process.HasExited) throw new InvalidOperationException($"{agent.Process.Label} exited before its RPC answered:\n{agent.Process.Output}");
            var (exit, _) = await NodeProcess.RunAsync("serf members", "serf", ["members", "-rpc-addr", agent.RpcAddr], CommandTimeout);
            if (exit == 0) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{agent.Process.Label}: RPC at {agent.RpcAddr} did not answer within {CommandTimeout.TotalSeconds} s:\n{agent.Process.Output}");
            await Task.Delay(100);
        }
    }

    public string Diagnostics()
    {
        var text = new StringBuilder();
        lock (_commands) foreach (var c in _commands) text.AppendLine(c);
        foreach (var agent in _agents.Values) text.AppendLine($"--- {agent.Process.Label}\n{Tail(agent.Process.Output, 60)}");
        return text.ToString();
    }

    internal static string Tail(string text, int lines)
    {
        var all = text.Split('\n');
        return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var agent in _agents.Values) await agent.Process.DisposeAsync();
        _dir.Dispose();
    }

    private sealed record Agent(NodeProcess Process, int BindPort, string RpcAddr);
}
