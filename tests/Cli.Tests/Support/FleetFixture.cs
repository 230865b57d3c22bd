using System.Diagnostics;
using Platform.Client;

namespace Platform.Cli.Tests.Support;

/// <summary>
/// A real silo process and two real node agents started with <c>platform agent</c>: web-1 (role=web, answers the query
/// <c>greet</c> with a shell handler) and db-1 (role=db, no handler). Tests run the real <c>platform</c> against them.
/// </summary>
public sealed class FleetFixture : IAsyncLifetime
{
    private readonly TempDir _dir = new();
    private readonly List<RunningProcess> _agents = [];

    public RunningProcess Silo { get; private set; } = null!;

    public string Url { get; private set; } = "";

    public int WebPort { get; } = SerfCluster.FreePort();

    public int DbPort { get; } = SerfCluster.FreePort();

    /// <summary>Larger than Serf's 512 bytes, so that the CLI is seen to go by the silo's setting.</summary>
    public const int UserEventSizeLimit = 1024;

    public string Handler => System.IO.Path.Combine(_dir.Path, "greet.sh");

    public async Task InitializeAsync()
    {
        await File.WriteAllTextAsync(Handler, "#!/bin/sh\necho \"hello from $SERF_SELF_NAME\"\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(Handler, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var port = SerfCluster.FreePort();
        Url = $"http://127.0.0.1:{port}";
        var dir = AppContext.BaseDirectory;
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = dir };
        foreach (var a in new[] { Path.Combine(dir, "Platform.Silo.dll"), "--urls", Url, "--data-dir", Path.Combine(_dir.Path, "silo"), "--Platform:Nodes:UserEventSizeLimit", UserEventSizeLimit.ToString() }) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_gcServer"] = "0";
        Silo = RunningProcess.Start(psi);
        using var http = new HttpClient { BaseAddress = new Uri(Url) };
        await PollAsync(async () =>
        {
            if (Silo.HasExited) throw new InvalidOperationException($"silo exited with {Silo.ExitCode}:\n{Silo.Output}");
            try
            {
                using var r = await http.GetAsync("/health/ready");
                return r.IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, "the silo to be ready");

        StartAgent("web-1", WebPort, "-tag", "role=web", "-event-handler", $"query:greet={Handler}");
        StartAgent("db-1", DbPort, "-tag", "role=db");
        await WaitForAliveAsync("web-1", "db-1");
    }

    /// <summary>Starts <c>platform agent</c> for <paramref name="node"/> against the silo.</summary>
    public RunningProcess StartAgent(string node, int port, params string[] extra)
    {
        var data = Path.Combine(_dir.Path, node);
        Directory.CreateDirectory(data);
        var agent = RunningProcess.Start(PlatformCommand.StartInfo(
            ["agent", "-server", Url, "-node", node, "-bind", $"127.0.0.1:{port}", "-data-dir", data, .. extra]));
        lock (_agents) _agents.Add(agent);
        return agent;
    }

    public PlatformClient Client() => new(new PlatformClientOptions { Urls = [new Uri(Url)] });

    /// <summary>Polls the nodes API until every named node is alive.</summary>
    public async Task WaitForAliveAsync(params string[] nodes)
    {
        using var client = Client();
        await PollAsync(async () =>
        {
            var alive = (await client.ListNodesAsync(new NodeFilter { Status = "alive" })).Select(n => n.Name).ToHashSet();
            return nodes.All(alive.Contains);
        }, $"{string.Join(", ", nodes)} to be alive");
    }

    /// <summary>Every node's name, status and tags, one line each in name order: compared before and after refused commands.</summary>
    public async Task<string> NodeStatesAsync()
    {
        using var client = Client();
        var nodes = await client.ListNodesAsync();
        return string.Join('\n', nodes.OrderBy(n => n.Name, StringComparer.Ordinal).Select(n =>
            $"{n.Name} {n.Status} {string.Join(',', (n.Tags ?? new Dictionary<string, string>()).OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key}={t.Value}"))}"));
    }

    public static async Task PollAsync(Func<Task<bool>> condition, string what, int seconds = 60)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(seconds)) throw new TimeoutException($"waited {seconds} s for {what}");
            await Task.Delay(50);
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var agent in _agents) await agent.DisposeAsync();
        await Silo.DisposeAsync();
        _dir.Dispose();
    }
}
