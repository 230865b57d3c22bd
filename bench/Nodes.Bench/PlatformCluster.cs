namespace Platform.Nodes.Bench;

/// <summary>A silo and real <c>platform agent</c> processes (the Release build of src/Cli), each with the stamp handler.</summary>
public sealed class PlatformCluster(string dir, string siloDll, string platformDll) : IAgentCluster
{
    private const int StartBatch = 5;
    private readonly List<(ChildProcess? Process, int Bind)> _agents = [];
    private readonly List<string> _nodes = [];
    private SiloHost? _silo;

    public string Name => "platform";
    public IReadOnlyList<string> Nodes => _nodes;
    public StampHandler Stamps { get; } = new(Path.Combine(dir, "platform"));
    public SiloHost Silo => _silo ?? throw new InvalidOperationException("not started");

    public async Task StartAsync(int count)
    {
        if (!File.Exists(platformDll)) throw new BenchFailure($"--platform '{platformDll}' does not exist; build it first: dotnet build src/Cli -c Release");
        _silo = await SiloHost.StartAsync(siloDll, Path.Combine(dir, "silo-data"));
        var ports = FreePorts.Take(count);
        for (var i = 0; i < count; i++)
        {
            _nodes.Add($"platform-{i:000}");
            _agents.Add((null, ports[i]));
            Launch(i);
            // A few at a time: 50 .NET processes starting at once on 2 cores time each other out.
            if (i % StartBatch == StartBatch - 1) await Silo.WaitAliveCountAsync(i + 1, TimeSpan.FromSeconds(120));
        }
        await Silo.WaitAliveCountAsync(count, TimeSpan.FromSeconds(120));
    }

    private void Launch(int i)
    {
        var args = new List<string>
        {
            platformDll, "agent", "-server", Silo.Url, "-node", _nodes[i], "-bind", $"127.0.0.1:{_agents[i].Bind}",
            "-event-handler", Stamps.ScriptPath, "-data-dir", Path.Combine(dir, "agent-data", _nodes[i]), "-log-level", "warn",
        };
        _agents[i] = (ChildProcess.Start(_nodes[i], "dotnet", args, new Dictionary<string, string> { ["DOTNET_gcServer"] = "0" }), _agents[i].Bind);
    }

    public Task<long> FireEventAsync(string name) => Silo.FireEventAsync(name);

    public Task KillAsync(int index) => _agents[index].Process!.KillAsync();

    public void Signal(int index, int signal) => _agents[index].Process!.Signal(signal);

    public async Task RestartAsync(int index)
    {
        await _agents[index].Process!.DisposeAsync();
        Launch(index);
    }

    public Task WaitAliveAsync(int index, TimeSpan timeout) => Silo.WaitAliveCountAsync(1, timeout, _nodes[index]);

    public string Tail(string node) => _nodes.IndexOf(node) is var i and >= 0 && _agents[i].Process is { } p ? p.Tail : "";

    public async ValueTask DisposeAsync()
    {
        foreach (var (process, _) in _agents)
            if (process is not null) await process.DisposeAsync();
        if (_silo is not null) await _silo.DisposeAsync();
    }
}
