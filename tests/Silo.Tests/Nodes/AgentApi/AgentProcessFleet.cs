using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Platform.Silo.Tests.Nodes.Api;
using Platform.Silo.Tests.Nodes.Serf;
using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests.Nodes.AgentApi;

/// <summary>
/// A real silo process and real <c>platform agent</c> processes, each started from a JSON configuration file in a
/// folder of its own with a <c>/bin/sh</c> handler that appends one line per event to <c>events.log</c> there
/// (<c>user NAME PAYLOAD</c>, or <c>EVENT</c> and its member lines). Everything is killed and removed on dispose.
/// </summary>
public sealed class AgentProcessFleet : IAsyncDisposable
{
    private const string Handler = """
        #!/bin/sh
        # One line per event: user events with their name and payload, member events with their member lines.
        if [ "$SERF_EVENT" = user ]; then line="user $SERF_USER_EVENT $(cat)"; else line="$SERF_EVENT $(tr '\t\n' '  ')"; fi
        printf '%s\n' "$line" >> "$(dirname "$0")/events.log"

        """;

    private readonly TempDir _dir;
    private readonly Dictionary<string, NodeProcess> _agents = new(StringComparer.Ordinal);

    private AgentProcessFleet(TempDir dir, SiloProcess silo)
    {
        _dir = dir;
        Silo = silo;
    }

    public SiloProcess Silo { get; }

    public HttpClient Http => Silo.Http;

    public string SiloUrl => $"http://127.0.0.1:{Silo.Port}";

    /// <summary>Node names unique to this fleet: <c>prefix-xxxxxx</c>.</summary>
    public string Suffix { get; } = Guid.NewGuid().ToString("N")[..6];

    /// <summary>Starts the silo, with <paramref name="siloArgs"/> added to its command line (settings such as <c>--Platform:Builds:TimeoutGrace</c>).</summary>
    public static async Task<AgentProcessFleet> StartAsync(params string[] siloArgs)
    {
        var dir = new TempDir();
        try
        {
            return new AgentProcessFleet(dir, await SiloProcess.StartAsync(Path.Combine(dir.Path, "silo"), null, siloArgs));
        }
        catch
        {
            dir.Dispose();
            throw;
        }
    }

    public string NodeDir(string node) => Path.Combine(_dir.Path, node);

    public string ConfigFile(string node) => Path.Combine(NodeDir(node), "agent.json");

    /// <summary>The handler command line for a filter: <c>FILTER=sh …/record.sh</c> (or every event when null).</summary>
    public string HandlerFor(string node, string? filter) => (filter is null ? "" : filter + "=") + "sh " + Path.Combine(NodeDir(node), "record.sh");

    /// <summary>Writes <paramref name="config"/> (servers and data_dir added) as the node's configuration file.</summary>
    public void WriteConfig(string node, Dictionary<string, object> config)
    {
        var full = new Dictionary<string, object>(config)
        {
            ["node_name"] = node,
            ["servers"] = new[] { SiloUrl },
            ["data_dir"] = Path.Combine(NodeDir(node), "data"),
            ["bind"] = $"127.0.0.1:{SiloProcess.FreePort()}",
        };
        File.WriteAllText(ConfigFile(node), JsonSerializer.Serialize(full));
    }

    /// <summary>
    /// Starts <c>platform agent -config-file</c> for <paramref name="node"/> (with <paramref name="environment"/> added to its
    /// environment, which its handlers and deploys inherit) and waits until the silo has it alive.
    /// </summary>
    public async Task<NodeProcess> StartAgentAsync(string node, Dictionary<string, object> config, IReadOnlyDictionary<string, string>? environment = null)
    {
        Directory.CreateDirectory(NodeDir(node));
        File.WriteAllText(Path.Combine(NodeDir(node), "record.sh"), Handler);
        WriteConfig(node, config);
        var env = new Dictionary<string, string> { ["PLATFORM_URL"] = "", ["DOTNET_gcServer"] = "0" };
        if (environment is not null)
            foreach (var (name, value) in environment) env[name] = value;
        var agent = NodeProcess.Start($"platform agent {node}", "dotnet",
            [Path.Combine(AppContext.BaseDirectory, "platform.dll"), "agent", "-config-file", ConfigFile(node)], env);
        _agents.Add(node, agent);
        try
        {
            await NodesHttp.WaitForStatusAsync(Http, node, "alive", TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}\n{Diagnostics()}", e);
        }
        return agent;
    }

    /// <summary>
    /// Stops <paramref name="node"/>'s agent with SIGTERM (a graceful leave), waits until the silo has it left, then starts
    /// a new agent process from the same configuration file and waits until it is alive again.
    /// </summary>
    public async Task<NodeProcess> RestartAgentAsync(string node)
    {
        var old = _agents[node];
        old.Signal(NodeSignals.SIGTERM);
        await old.WaitForExitAsync(TimeSpan.FromSeconds(30));
        await NodesHttp.WaitForStatusAsync(Http, node, "left", TimeSpan.FromSeconds(30));
        await old.DisposeAsync();
        var env = new Dictionary<string, string> { ["PLATFORM_URL"] = "", ["DOTNET_gcServer"] = "0" };
        var agent = NodeProcess.Start($"platform agent {node} (restarted)", "dotnet",
            [Path.Combine(AppContext.BaseDirectory, "platform.dll"), "agent", "-config-file", ConfigFile(node)], env);
        _agents[node] = agent;
        await NodesHttp.WaitForStatusAsync(Http, node, "alive", TimeSpan.FromSeconds(30));
        return agent;
    }

    /// <summary>The lines the node's handler wrote so far.</summary>
    public IReadOnlyList<string> Events(string node)
    {
        var path = Path.Combine(NodeDir(node), "events.log");
        return File.Exists(path) ? File.ReadAllLines(path) : [];
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; fails after 30 s with <paramref name="what"/> and every process's output.</summary>
    public async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(30)) throw new TimeoutException($"{what} did not happen within 30 s\n{Diagnostics()}");
            await Task.Delay(25);
        }
    }

    public Task UntilAsync(Func<bool> condition, string what) => UntilAsync(() => Task.FromResult(condition()), what);

    public string Diagnostics()
    {
        var text = new StringBuilder();
        foreach (var (name, agent) in _agents)
            text.AppendLine($"--- {agent.Label}\n{SerfFleet.Tail(agent.Output, 40)}\n--- events of {name}\n{string.Join('\n', Events(name))}");
        text.AppendLine($"--- silo\n{SerfFleet.Tail(Silo.Output, 60)}");
        return text.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var agent in _agents.Values) await agent.DisposeAsync();
        await Silo.DisposeAsync();
        _dir.Dispose();
    }
}
