namespace Platform.Nodes.Bench;

/// <summary>Real serf agents: free bind and RPC ports on 127.0.0.1, Serf's defaults (LAN profile), all joined to node 0.</summary>
public sealed class SerfCluster(string dir) : IAgentCluster
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);
    private readonly List<(ChildProcess? Process, int Bind, int Rpc)> _agents = [];
    private readonly List<string> _nodes = [];

    public string Name => "serf";
    public IReadOnlyList<string> Nodes => _nodes;
    public StampHandler Stamps { get; } = new(Path.Combine(dir, "serf"));

    public async Task StartAsync(int count)
    {
        var ports = FreePorts.Take(2 * count);
        for (var i = 0; i < count; i++)
        {
            _nodes.Add($"serf-{i:000}");
            _agents.Add((null, ports[2 * i], ports[2 * i + 1]));
            Launch(i);
            // The first must listen before the others join it.
            if (i == 0) await WaitMembersAsync(0, 1);
        }
        await WaitMembersAsync(0, count);
        await WaitMembersAsync(count - 1, count);
    }

    private void Launch(int i)
    {
        var (_, bind, rpc) = _agents[i];
        var args = new List<string>
        {
            "agent", "-node", _nodes[i], "-bind", $"127.0.0.1:{bind}", "-rpc-addr", $"127.0.0.1:{rpc}",
            "-event-handler", Stamps.ScriptPath, "-log-level", "warn",
        };
        if (i != 0) args.AddRange(["-join", $"127.0.0.1:{_agents[0].Bind}"]);
        _agents[i] = (ChildProcess.Start(_nodes[i], "serf", args), bind, rpc);
    }

    private string Rpc(int i) => $"127.0.0.1:{_agents[i].Rpc}";

    private async Task WaitMembersAsync(int via, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (true)
        {
            _agents[via].Process!.EnsureAlive();
            var (exit, output) = await ChildProcess.RunAsync("serf", ["members", "-rpc-addr", Rpc(via), "-status", "alive"], CommandTimeout);
            var alive = exit == 0 ? output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length : 0;
            if (alive >= count) return;
            if (DateTime.UtcNow > deadline) throw new BenchFailure($"serf: {_nodes[via]} sees {alive} of {count} members alive after 120 s");
            await Task.Delay(200);
        }
    }

    public async Task<long> FireEventAsync(string name)
    {
        var t0 = UnixClock.NowNanos();
        var (exit, output) = await ChildProcess.RunAsync("serf", ["event", "-rpc-addr", Rpc(0), "-coalesce=false", name, "bench"], CommandTimeout);
        if (exit != 0) throw new BenchFailure($"serf event {name} exited with {exit}: {output}");
        return t0;
    }

    public Task KillAsync(int index) => _agents[index].Process!.KillAsync();

    public void Signal(int index, int signal) => _agents[index].Process!.Signal(signal);

    public async Task RestartAsync(int index)
    {
        await _agents[index].Process!.DisposeAsync();
        Launch(index);
    }

    public async Task WaitAliveAsync(int index, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var (exit, output) = await ChildProcess.RunAsync("serf", ["members", "-rpc-addr", Rpc(0), "-status", "alive", "-name", $"^{_nodes[index]}$"], CommandTimeout);
            if (exit == 0 && output.Contains(_nodes[index], StringComparison.Ordinal)) return;
            if (DateTime.UtcNow > deadline) throw new BenchFailure($"serf: {_nodes[index]} not alive again after {timeout.TotalSeconds:0} s");
            await Task.Delay(100);
        }
    }

    public string Tail(string node) => _nodes.IndexOf(node) is var i and >= 0 && _agents[i].Process is { } p ? p.Tail : "";

    public async ValueTask DisposeAsync()
    {
        foreach (var (process, _, _) in _agents)
            if (process is not null) await process.DisposeAsync();
    }
}
