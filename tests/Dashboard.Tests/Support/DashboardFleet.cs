using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Platform.Silo.Tests.Nodes.Serf;
using Platform.Silo.Tests.Support;

namespace Platform.Dashboard.Tests.Support;

/// <summary>
/// One real silo (open, on loopback) and real <c>platform agent</c> processes, each with a <c>/bin/sh</c> handler that
/// appends a line per event to <c>events.log</c> in its folder. Shared by the tests of a class; killed and removed on dispose.
/// </summary>
public sealed class DashboardFleet : IAsyncLifetime
{
    private const string Handler = """
        #!/bin/sh
        # One line per event: user events with their name and payload, member events by name.
        if [ "$SERF_EVENT" = user ]; then line="user $SERF_USER_EVENT $(cat)"; else line="$SERF_EVENT"; cat > /dev/null; fi
        printf '%s\n' "$line" >> "$(dirname "$0")/events.log"

        """;

    private readonly TempDir _dir = new();
    private readonly Dictionary<string, NodeProcess> _agents = new(StringComparer.Ordinal);

    public SiloProcess Silo { get; private set; } = null!;

    public HttpClient Http => Silo.Http;

    public string Url => $"http://127.0.0.1:{Silo.Port}";

    public async Task InitializeAsync() => Silo = await SiloProcess.StartAsync(Path.Combine(_dir.Path, "silo"));

    /// <summary>Stops the silo gracefully and starts it again on the same port and data: agents and open pages come back to it.</summary>
    public async Task RestartSiloAsync()
    {
        var port = Silo.Port;
        Assert.Equal(0, await Silo.TerminateAsync(TimeSpan.FromSeconds(60)));
        await Silo.DisposeAsync();
        Silo = await SiloProcess.StartAsync(Path.Combine(_dir.Path, "silo"), port);
    }

    public string NodeDir(string node) => Path.Combine(_dir.Path, node);

    /// <summary>
    /// Starts <c>platform agent</c> as <paramref name="node"/> with <paramref name="tags"/> (deploys enabled when
    /// <paramref name="deploys"/>, and more settings of its config file in <paramref name="settings"/>, such as
    /// <c>build_slots</c>) and waits until the silo has it alive.
    /// </summary>
    public async Task<NodeProcess> StartAgentAsync(string node, Dictionary<string, string>? tags = null, string? token = null, bool deploys = false, Dictionary<string, object>? settings = null)
    {
        var dir = NodeDir(node);
        Directory.CreateDirectory(dir);
        var handler = Path.Combine(dir, "record.sh");
        File.WriteAllText(handler, Handler);
        var config = Path.Combine(dir, "agent.json");
        var agentConfig = new Dictionary<string, object>
        {
            ["node_name"] = node,
            ["servers"] = new[] { Url },
            ["data_dir"] = Path.Combine(dir, "data"),
            ["bind"] = $"127.0.0.1:{SiloProcess.FreePort()}",
            ["tags"] = tags ?? new Dictionary<string, string>(),
            ["event_handlers"] = new[] { "sh " + handler },
        };
        if (token is not null) agentConfig["token"] = token;
        if (deploys) agentConfig["enable_deploys"] = true;
        if (settings is not null) foreach (var (name, value) in settings) agentConfig[name] = value;
        File.WriteAllText(config, JsonSerializer.Serialize(agentConfig));
        var agent = NodeProcess.Start($"platform agent {node}", "dotnet", [Path.Combine(AppContext.BaseDirectory, "platform.dll"), "agent", "-config-file", config],
            new Dictionary<string, string> { ["PLATFORM_URL"] = "", ["DOTNET_gcServer"] = "0" });
        _agents.Add(node, agent);
        await UntilAsync(async () => await StatusAsync(node, token) == "alive", $"node {node} alive");
        return agent;
    }

    /// <summary>The node's status as GET /v1/nodes/{name} says, or null when it is not known.</summary>
    public async Task<string?> StatusAsync(string node, string? token = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/nodes/{node}");
        if (!string.IsNullOrEmpty(token)) request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var response = await Http.SendAsync(request);
        if (!response.IsSuccessStatusCode) return null;
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetString();
    }

    /// <summary>The lines the node's handler wrote so far.</summary>
    public IReadOnlyList<string> Events(string node)
    {
        var path = Path.Combine(NodeDir(node), "events.log");
        return File.Exists(path) ? File.ReadAllLines(path) : [];
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; fails after 30 s naming <paramref name="what"/>, with every process's output.</summary>
    public async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(30)) throw new TimeoutException($"{what} did not happen within 30 s\n{Diagnostics()}");
            await Task.Delay(25);
        }
    }

    public string Diagnostics()
    {
        var text = new StringBuilder();
        foreach (var (name, agent) in _agents)
            text.AppendLine($"--- {agent.Label}\n{Tail(agent.Output)}\n--- events of {name}\n{string.Join('\n', Events(name))}");
        text.AppendLine($"--- silo\n{Tail(Silo.Output)}");
        return text.ToString();
    }

    private static string Tail(string output)
    {
        var lines = output.Split('\n');
        return string.Join('\n', lines.Skip(Math.Max(0, lines.Length - 40)));
    }

    public async Task DisposeAsync()
    {
        foreach (var agent in _agents.Values) await agent.DisposeAsync();
        if (Silo is not null) await Silo.DisposeAsync();
        _dir.Dispose();
    }
}
