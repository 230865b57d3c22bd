using System.Diagnostics;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Platform.Silo.Tests.Nodes.Api;
using Platform.Silo.Tests.Nodes.Serf;
using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests.Deploy;

/// <summary>
/// Real <c>platform agent</c> processes with deploys enabled, each with its own folder (<c>NODE_DIR</c> in its
/// environment, its deploy <c>dest</c> under it, a <c>pre.sh</c> the manifest's pre command runs), a real HTTP server
/// serving a tar.gz made by <c>tar</c> and the manifest, and the silos they connect to (owned by the caller).
/// </summary>
public sealed class DeployFleet : IAsyncDisposable
{
    /// <summary>pre.sh that lets the deploy go on.</summary>
    public const string Pass = "exit 0\n";

    /// <summary>pre.sh that fails the deploy.</summary>
    public const string Fail = "echo 'failing on purpose' >&2\nexit 3\n";

    /// <summary>pre.sh that marks the node started and blocks while its agent ($1) lives.</summary>
    public const string Block = "touch \"$NODE_DIR/started\"\nwhile kill -0 \"$1\" 2>/dev/null; do sleep 0.2; done\nexit 1\n";

    private readonly TempDir _dir = new();
    private readonly Dictionary<string, NodeProcess> _agents = new(StringComparer.Ordinal);
    private readonly string[] _servers;

    public DeployFleet(params string[] servers)
    {
        _servers = servers;
        var site = Path.Combine(_dir.Path, "site");
        var app = Path.Combine(_dir.Path, "app");
        Directory.CreateDirectory(site);
        Directory.CreateDirectory(app);
        File.WriteAllText(Path.Combine(app, "index.html"), "release 1\n");
        var tar = Process.Start(new ProcessStartInfo("tar", ["-czf", Path.Combine(site, "app.tar.gz"), "-C", app, "."]))!;
        tar.WaitForExit();
        Assert.Equal(0, tar.ExitCode);
        Server = new ArtifactServer(site);
        var sum = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(site, "app.tar.gz"))));
        File.WriteAllText(Path.Combine(site, "manifest.yml"), Manifest(sum));
        Checksum = sum;
    }

    public ArtifactServer Server { get; }

    public string Checksum { get; }

    public string ManifestUrl => Server.Url("manifest.yml");

    /// <summary>Node names unique to this fleet.</summary>
    public string Prefix { get; } = "d" + Guid.NewGuid().ToString("N")[..5];

    public IReadOnlyCollection<string> Names => _agents.Keys;

    /// <summary>More keys for each agent's configuration file (<c>token</c> for a silo with tokens, <c>ca_file</c> for one on https…).</summary>
    public Dictionary<string, object> AgentConfig { get; } = new(StringComparer.Ordinal);

    /// <summary>The manifest: the archive into the node's dest with rsync; pre runs the node's pre.sh; post counts runs in ran.log.</summary>
    public string Manifest(string checksum) => $$$"""
        src: {{{Server.Url("app.tar.gz")}}}
        checksum: {{{checksum}}}
        dest: {{ env "NODE_DIR" }}/dest/
        commands:
          pre:
            - sh "$NODE_DIR/pre.sh" "$PPID"
          post:
            - echo ran >> "$NODE_DIR/ran.log"
        """;

    public string NodeDir(string node) => Path.Combine(_dir.Path, node);

    public NodeProcess Agent(string node) => _agents[node];

    /// <summary>How many times the node's deploy reached its post command.</summary>
    public int Runs(string node)
    {
        var path = Path.Combine(NodeDir(node), "ran.log");
        return File.Exists(path) ? File.ReadAllLines(path).Length : 0;
    }

    public bool Started(string node) => File.Exists(Path.Combine(NodeDir(node), "started"));

    /// <summary>Starts one agent per pre.sh text, named <c>PREFIX-01</c>… (numbered on after agents already started), connected to the fleet's servers.</summary>
    public async Task StartAgentsAsync(HttpClient http, IReadOnlyList<string> preScripts)
    {
        var names = new List<string>();
        var first = _agents.Count;
        for (var i = first; i < first + preScripts.Count; i++)
        {
            var node = $"{Prefix}-{i + 1:D2}";
            var dir = NodeDir(node);
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "pre.sh"), preScripts[i - first]);
            var config = new Dictionary<string, object>
            {
                ["node_name"] = node,
                ["servers"] = _servers,
                ["data_dir"] = Path.Combine(dir, "data"),
                ["bind"] = $"127.0.0.1:{SiloProcess.FreePort()}",
                ["enable_deploys"] = true,
                ["tags"] = new Dictionary<string, string> { ["role"] = i % 2 == 0 ? "web" : "worker", ["fleet"] = Prefix },
            };
            foreach (var (key, value) in AgentConfig) config[key] = value;
            File.WriteAllText(Path.Combine(dir, "agent.json"), JsonSerializer.Serialize(config));
            _agents[node] = NodeProcess.Start($"platform agent {node}", "dotnet",
                [Path.Combine(AppContext.BaseDirectory, "platform.dll"), "agent", "-config-file", Path.Combine(dir, "agent.json")],
                new Dictionary<string, string> { ["PLATFORM_URL"] = "", ["PLATFORM_TOKEN"] = "", ["DOTNET_gcServer"] = "0", ["NODE_DIR"] = dir });
            names.Add(node);
        }
        foreach (var node in names)
        {
            try
            {
                await NodesHttp.WaitForStatusAsync(http, node, "alive", TimeSpan.FromSeconds(90));
            }
            catch (TimeoutException e)
            {
                throw new TimeoutException($"{e.Message}\n{Diagnostics()}", e);
            }
        }
        // A node's own grain says alive a moment before the fleet's member list has it, and deploys pick their
        // targets from that list: wait for it too, or a deploy posted now could miss the last nodes to join.
        await UntilAsync(async () =>
        {
            var listed = await http.GetFromJsonAsync<JsonElement>($"/v1/nodes?status=alive&tag=fleet=^{Prefix}$");
            return listed.GetArrayLength() == _agents.Count;
        }, $"the fleet's member list to have all {_agents.Count} nodes alive");
    }

    /// <summary>POST /v1/deploys with <paramref name="body"/>; the status and the JSON answer.</summary>
    public static async Task<(int Status, JsonElement Body)> PostAsync(HttpClient http, object body)
    {
        using var r = await http.PostAsJsonAsync("/v1/deploys", body);
        var text = await r.Content.ReadAsStringAsync();
        return ((int)r.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    public static async Task<JsonElement> GetAsync(HttpClient http, string id)
    {
        var text = await http.GetStringAsync($"/v1/deploys/{id}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>The status of each node in the deploy.</summary>
    public static Dictionary<string, string> NodeStatuses(JsonElement deploy)
        => deploy.GetProperty("nodes").EnumerateArray().ToDictionary(n => n.GetProperty("node").GetString()!, n => n.GetProperty("status").GetString()!);

    /// <summary>Polls <paramref name="condition"/> until it holds; fails after <paramref name="seconds"/> with every process's output.</summary>
    public async Task UntilAsync(Func<Task<bool>> condition, string what, int seconds = 90)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if (await condition()) return;
            }
            catch (HttpRequestException)
            {
                // A silo that just died answers 503 or not at all; the deadline decides.
            }
            catch (TaskCanceledException)
            {
            }
            if (clock.Elapsed > TimeSpan.FromSeconds(seconds)) throw new TimeoutException($"{what} did not happen within {seconds} s\n{Diagnostics()}");
            await Task.Delay(100);
        }
    }

    public string Diagnostics()
    {
        var text = new StringBuilder();
        foreach (var (name, agent) in _agents) text.AppendLine($"--- {agent.Label}\n{SerfFleet.Tail(agent.Output, 30)}");
        return text.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var agent in _agents.Values) await agent.DisposeAsync();
        Server.Dispose();
        _dir.Dispose();
    }
}
