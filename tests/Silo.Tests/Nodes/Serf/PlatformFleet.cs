using System.Text;
using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests.Nodes.Serf;

/// <summary>
/// A real silo process and real <c>platform agent</c> processes (the <c>platform.dll</c> built beside the tests), each
/// node with the recording handler as its only <c>-event-handler</c>, every other setting the agent's default
/// (coalescing on, as Serf's agent). Commands are the <c>platform</c> CLI's, against the silo. Every process is killed
/// and the folder removed on dispose.
/// </summary>
public sealed class PlatformFleet : IFleet
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);

    private readonly TempDir _dir;
    private readonly SiloProcess _silo;
    private readonly Dictionary<string, NodeProcess> _agents = new(StringComparer.Ordinal);
    private readonly List<string> _commands = [];

    private PlatformFleet(TempDir dir, SiloProcess silo)
    {
        _dir = dir;
        _silo = silo;
    }

    public string Name => "platform";

    public string SiloUrl => $"http://127.0.0.1:{_silo.Port}";

    /// <summary>Starts the silo (SQLite storage in the fleet's folder) and waits until it is ready.</summary>
    public static async Task<PlatformFleet> StartAsync()
    {
        var dir = new TempDir();
        try
        {
            return new PlatformFleet(dir, await SiloProcess.StartAsync(Path.Combine(dir.Path, "silo")));
        }
        catch
        {
            dir.Dispose();
            throw;
        }
    }

    public string NodeDir(string node) => Path.Combine(_dir.Path, node);

    public Task StartNodeAsync(NodeSpec node)
    {
        var dir = NodeDir(node.Name);
        var handler = RecordingHandler.Install(dir);
        var args = new List<string>
        {
            Path.Combine(AppContext.BaseDirectory, "platform.dll"), "agent", "-server", SiloUrl, "-node", node.Name,
            "-bind", $"127.0.0.1:{SiloProcess.FreePort()}", "-event-handler", handler, "-data-dir", Path.Combine(dir, "data"),
        };
        foreach (var (key, value) in node.Tags) args.AddRange(["-tag", $"{key}={value}"]);
        _agents.Add(node.Name, NodeProcess.Start($"platform agent {node.Name}", "dotnet", args, Environment()));
        return Task.CompletedTask;
    }

    public async Task SetTagsAsync(string node, IReadOnlyList<KeyValuePair<string, string>> set, IReadOnlyList<string> delete)
    {
        var args = new List<string> { "tags", "-node", node };
        foreach (var (key, value) in set) args.AddRange(["-set", $"{key}={value}"]);
        foreach (var key in delete) args.AddRange(["-delete", key]);
        await RunAsync(args);
    }

    public async Task LeaveAsync(string node)
    {
        await RunAsync(["leave", "-node", node]);
        await _agents[node].WaitForExitAsync(CommandTimeout);
    }

    public Task KillAsync(string node) => _agents[node].KillAsync();

    // Any silo takes the event: `via` names the node Serf's command would talk to.
    public Task FireEventAsync(string via, string name, string payload) => RunAsync(["event", name, payload]);

    public Task<string> QueryAsync(string via, string name) => RunAsync(["query", name]);

    private async Task<string> RunAsync(IReadOnlyList<string> args)
    {
        var line = "platform " + string.Join(' ', args);
        var (exit, output) = await NodeProcess.RunAsync(line, "dotnet", [Path.Combine(AppContext.BaseDirectory, "platform.dll"), "--url", SiloUrl, .. args], CommandTimeout, Environment());
        lock (_commands) _commands.Add($"$ {line}\n{output}");
        if (exit != 0) throw new InvalidOperationException($"`{line}` exited with {exit}:\n{output}");
        return output;
    }

    // The agents' and commands' own settings only: no PLATFORM_URL of the machine.
    private static Dictionary<string, string> Environment() => new() { ["PLATFORM_URL"] = "", ["DOTNET_gcServer"] = "0" };

    public string Diagnostics()
    {
        var text = new StringBuilder();
        lock (_commands) foreach (var c in _commands) text.AppendLine(c);
        foreach (var agent in _agents.Values) text.AppendLine($"--- {agent.Label}\n{SerfFleet.Tail(agent.Output, 60)}");
        text.AppendLine($"--- silo\n{SerfFleet.Tail(_silo.Output, 80)}");
        return text.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var agent in _agents.Values) await agent.DisposeAsync();
        await _silo.DisposeAsync();
        _dir.Dispose();
    }
}
