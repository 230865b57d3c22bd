using System.Text.Json;
using Platform.Silo.Tests.Nodes.Serf;
using Xunit.Abstractions;

namespace Platform.Silo.Tests.Deploy;

/// <summary>
/// The <c>platform deploy</c> commands that read a running deploy, as processes against a silo with real agents whose
/// <c>pre</c> waits for a file the test writes: <c>logs -f --node</c> streams until its node ends, <c>show</c> lists every
/// node's run, <c>watch</c> ends with the deploy and exits by its outcome.
/// </summary>
public sealed class DeployCliTests(ITestOutputHelper output) : DeploySiloTest
{
    private string[] CliArgs(params string[] args)
        => [Path.Combine(AppContext.BaseDirectory, "platform.dll"), .. args, "--url", $"http://127.0.0.1:{TestSilo.Port}"];

    private static readonly Dictionary<string, string> CliEnvironment = new() { ["PLATFORM_URL"] = "", ["PLATFORM_TOKEN"] = "", ["DOTNET_gcServer"] = "0" };

    private NodeProcess Background(params string[] args) => NodeProcess.Start("platform " + string.Join(' ', args), "dotnet", CliArgs(args), CliEnvironment);

    private async Task<(int ExitCode, string Output)> Cli(params string[] args)
    {
        var result = await NodeProcess.RunAsync("platform " + string.Join(' ', args), "dotnet", CliArgs(args), TimeSpan.FromSeconds(60), CliEnvironment);
        output.WriteLine($"$ platform {string.Join(' ', args)} → {result.ExitCode}\n{result.Output}");
        return result;
    }

    private void Open(string node) => File.WriteAllText(Path.Combine(Fleet.NodeDir(node), "go"), "");

    [Fact]
    public async Task Logs_follow_streams_a_running_nodes_output_until_it_ends_and_show_and_watch_read_the_deploy()
    {
        await Fleet.StartAgentsAsync(TestSilo.Http, [DeployFollowTests.Gate, DeployFollowTests.Gate, DeployFleet.Fail]);
        var n = Fleet.Names.Order(StringComparer.Ordinal).ToArray();
        var (status, body) = await DeployFleet.PostAsync(TestSilo.Http, new { manifest_url = Fleet.ManifestUrl, target = new { nodes = new[] { n[0], n[1] } }, strategy = new { node_timeout = "5m" } });
        Assert.True(status == 201, body.ToString());
        var id = body.GetProperty("id").GetString()!;

        await using var follow = Background("deploy", "logs", "-f", id, "--node", n[0]);
        await using var watch = Background("deploy", "watch", id);
        await Fleet.UntilAsync(() => Task.FromResult(follow.Output.Contains("waiting for the gate", StringComparison.Ordinal)), "logs -f printing the node's output while it runs");
        Assert.False(follow.HasExited, $"logs -f ended while the node runs:\n{follow.Output}");

        Open(n[0]);
        await follow.WaitForExitAsync(TimeSpan.FromSeconds(60));
        output.WriteLine($"$ platform deploy logs -f {id} --node {n[0]} → {follow.ExitCode}\n{follow.Output}");
        Assert.Equal(0, follow.ExitCode);
        var text = follow.Output;
        Assert.True(text.IndexOf("waiting for the gate", StringComparison.Ordinal) < text.IndexOf("gate passed", StringComparison.Ordinal), text);
        Assert.Contains("Deploy manifest succeeded.", text);

        // show, while one node has ended and the other runs.
        var (code, shown) = await Cli("deploy", "show", id);
        Assert.Equal(0, code);
        Assert.Contains($"id:      {id}", shown);
        Assert.Contains("status:  running", shown);
        Assert.Contains($"target:  nodes={n[0]},{n[1]}", shown);
        Assert.Contains("batch:   1/1", shown);
        var rows = shown.Split('\n');
        Assert.Contains(rows, r => r.Contains(n[0], StringComparison.Ordinal) && r.Contains("succeeded", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.Contains(n[1], StringComparison.Ordinal) && r.Contains("running", StringComparison.Ordinal));
        Assert.False(watch.HasExited, $"watch ended while the deploy runs:\n{watch.Output}");
        // A bar per batch, its description counting the nodes by status as they change. watch polls every 500 ms:
        // the second node stays held until it has shown this state, which would otherwise fall between two polls.
        await Fleet.UntilAsync(() => Task.FromResult(watch.Output.Contains("batch 1 running=1 succeeded=1", StringComparison.Ordinal)), "watch showing one node succeeded and one running");

        Open(n[1]);
        await watch.WaitForExitAsync(TimeSpan.FromSeconds(60));
        output.WriteLine($"$ platform deploy watch {id} → {watch.ExitCode}\n{watch.Output}");
        Assert.Equal(0, watch.ExitCode);
        Assert.Contains($"Deploy {id}: succeeded", watch.Output);

        (code, shown) = await Cli("deploy", "show", id, "--format", "json");
        Assert.Equal(0, code);
        var json = JsonDocument.Parse(shown).RootElement;
        Assert.Equal("succeeded", json.GetProperty("status").GetString());
        // duration_ms is the agent's own measure of the run: more than 0, and within the span the silo saw it run.
        foreach (var x in json.GetProperty("nodes").EnumerateArray())
        {
            var span = (x.GetProperty("finished").GetDateTimeOffset() - x.GetProperty("started").GetDateTimeOffset()).TotalMilliseconds;
            Assert.InRange(x.GetProperty("duration_ms").GetInt64(), 1, span + 1);
        }
        // Both started together; the second node's gate opened only after the first ended and show ran, so it ran longer.
        long Duration(string node) => json.GetProperty("nodes").EnumerateArray().Single(x => x.GetProperty("node").GetString() == node).GetProperty("duration_ms").GetInt64();
        Assert.True(Duration(n[1]) > Duration(n[0]), json.ToString());

        // watch of a deploy that fails exits 1; show of an unknown deploy names it.
        (status, body) = await DeployFleet.PostAsync(TestSilo.Http, new { manifest_url = Fleet.ManifestUrl, target = new { nodes = new[] { n[2] } } });
        Assert.True(status == 201, body.ToString());
        var failed = body.GetProperty("id").GetString()!;
        (code, text) = await Cli("deploy", "watch", failed);
        Assert.Equal(1, code);
        Assert.Contains($"Deploy {failed}: failed", text);
        (code, text) = await Cli("deploy", "logs", failed);
        Assert.Equal(0, code);
        Assert.Contains("failing on purpose", text);
        (code, text) = await Cli("deploy", "show", "no-such-deploy");
        Assert.NotEqual(0, code);
        Assert.Contains("deploy 'no-such-deploy' not found", text);
    }
}
