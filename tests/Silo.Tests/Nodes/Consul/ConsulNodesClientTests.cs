using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests.Nodes.Consul;

/// <summary>
/// The real <c>consul</c> npm client (pinned in Nodes/Consul/node/package-lock.json) against a silo with real agents'
/// checks: installed with <c>npm ci</c> into a temporary directory and run by Node.js, printing one JSON line per step.
/// </summary>
[Collection(ConsulNodesCollection.Name)]
public sealed class ConsulNodesClientTests(ConsulNodesFleet fleet)
{
    private static readonly string[] s_files = ["package.json", "package-lock.json", "consul-nodes.js"];

    [Fact]
    public async Task The_consul_npm_client_reads_members_catalog_health_and_events_and_wakes_from_a_blocking_event_list()
    {
        using var dir = new TempDir();
        foreach (var file in s_files) File.Copy(Path.Combine(AppContext.BaseDirectory, "Nodes", "Consul", "node", file), Path.Combine(dir.Path, file));
        var (exitCode, npmOutput) = await NodeJs.RunAsync("npm", dir.Path, TimeSpan.FromMinutes(2), "ci", "--no-audit", "--no-fund", "--prefer-offline");
        Assert.True(exitCode == 0, $"npm ci exited with {exitCode}:\n{npmOutput}");

        var eventName = "deploy-" + Guid.NewGuid().ToString("N")[..8];
        var psi = new ProcessStartInfo("node") { WorkingDirectory = dir.Path, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "consul-nodes.js", fleet.Port.ToString(CultureInfo.InvariantCulture), fleet.Alive, fleet.Failed, fleet.Left, eventName })
            psi.ArgumentList.Add(arg);
        using var node = NodeJs.Start(psi);
        var stderr = node.StandardError.ReadToEndAsync();
        var steps = new Dictionary<string, JsonElement>();
        var transcript = new StringBuilder();
        string? wakeId = null;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            while (await node.StandardOutput.ReadLineAsync(deadline.Token) is { } line)
            {
                transcript.AppendLine(line);
                var step = JsonDocument.Parse(line).RootElement.Clone();
                var name = step.GetProperty("step").GetString()!;
                steps[name] = step;
                // The client's watch waits on its blocking query: fire the event it waits for, through Platform's own API.
                if (name == "watching") wakeId = await fleet.FireAsync(eventName + "-wake", "wake");
            }
            await node.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            node.Kill();
            Assert.Fail($"the client did not finish within 60 s:\n{transcript}{await stderr}");
        }
        Assert.True(node.ExitCode == 0 && !steps.ContainsKey("error"), $"the client exited with {node.ExitCode}:\n{transcript}{await stderr}");

        // Every member until reaped, Serf's status numbers.
        var members = steps["members"].GetProperty("members").EnumerateArray().ToDictionary(m => m.GetProperty("Name").GetString()!);
        Assert.Equal(1, members[fleet.Alive].GetProperty("Status").GetInt32());
        Assert.Equal(4, members[fleet.Failed].GetProperty("Status").GetInt32());
        Assert.Equal(3, members[fleet.Left].GetProperty("Status").GetInt32());
        var alive = members[fleet.Alive];
        Assert.Equal(("127.0.0.1", 7946, "web"), (alive.GetProperty("Addr").GetString(), alive.GetProperty("Port").GetInt32(), alive.GetProperty("Tags").GetProperty("role").GetString()));
        Assert.Equal((2, 5, 5), (alive.GetProperty("DelegateMin").GetInt32(), alive.GetProperty("DelegateMax").GetInt32(), alive.GetProperty("DelegateCur").GetInt32()));

        // The catalog: nodes until they leave, tags as meta.
        var nodes = steps["catalog"].GetProperty("nodes").EnumerateArray().ToList();
        Assert.Equal(new[] { fleet.Alive, fleet.Failed }.Order(StringComparer.Ordinal), nodes.Select(n => n.GetProperty("Node").GetString()!));
        var web = nodes.Single(n => n.GetProperty("Node").GetString() == fleet.Alive);
        Assert.True(Guid.TryParseExact(web.GetProperty("ID").GetString(), "D", out _));
        Assert.Equal(("127.0.0.1", "dc1", "web"), (web.GetProperty("Address").GetString(), web.GetProperty("Datacenter").GetString(), web.GetProperty("Meta").GetProperty("role").GetString()));
        Assert.Equal("127.0.0.1", web.GetProperty("TaggedAddresses").GetProperty("lan").GetString());

        // Health: the agent's checks as its check set reported them, and serfHealth by membership.
        Assert.Equal(
            [("app", "passing", "all good"), ("disk", "warning", "disk at 91%\n"), ("serfHealth", "passing", "Agent alive and reachable")],
            Checks(steps["healthAlive"]).Select(c => (Id(c), Status(c), c.GetProperty("Output").GetString())));
        Assert.All(Checks(steps["healthAlive"]), c => Assert.Equal((fleet.Alive, "", ""), (c.GetProperty("Node").GetString(), c.GetProperty("ServiceID").GetString(), c.GetProperty("Notes").GetString())));
        Assert.Equal("Serf Health Status", Checks(steps["healthAlive"]).Single(c => Id(c) == "serfHealth").GetProperty("Name").GetString());
        Assert.Equal([("serfHealth", "critical", "Agent not live or unreachable")],
            Checks(steps["healthFailed"]).Select(c => (Id(c), Status(c), c.GetProperty("Output").GetString())));
        Assert.Empty(Checks(steps["healthLeft"]));
        Assert.Equal([(fleet.Failed, "serfHealth")], Checks(steps["critical"]).Select(c => (c.GetProperty("Node").GetString(), Id(c))));
        Assert.Equal([(fleet.Alive, "disk")], Checks(steps["warning"]).Select(c => (c.GetProperty("Node").GetString(), Id(c))));
        Assert.Equal(4, Checks(steps["any"]).Count);

        // Events: Consul's shape, the payload the client decoded, the list the fired event is in.
        var fired = steps["fired"].GetProperty("event");
        Assert.True(Guid.TryParseExact(fired.GetProperty("ID").GetString(), "D", out _));
        Assert.Equal((eventName, "v42", 1), (fired.GetProperty("Name").GetString(), fired.GetProperty("Payload").GetString(), fired.GetProperty("Version").GetInt32()));
        Assert.True(fired.GetProperty("LTime").GetUInt64() > 0);
        var listed = Assert.Single(steps["listed"].GetProperty("events").EnumerateArray());
        Assert.Equal((fired.GetProperty("ID").GetString(), "v42"), (listed.GetProperty("ID").GetString(), listed.GetProperty("Payload").GetString()));

        // The watch's blocking query woke for the event (index 1 means no events yet, as Consul answers).
        Assert.Equal("1", steps["watching"].GetProperty("index").GetString());
        var changed = steps["changed"];
        Assert.Equal(ConsulEventIndex(wakeId!), changed.GetProperty("index").GetString());
        Assert.InRange(changed.GetProperty("calls").GetInt32(), 2, 3);
    }

    private static List<JsonElement> Checks(JsonElement step) => [.. step.GetProperty("checks").EnumerateArray()];

    private static string Id(JsonElement check) => check.GetProperty("CheckID").GetString()!;

    private static string Status(JsonElement check) => check.GetProperty("Status").GetString()!;

    /// <summary>Consul's event index: the UUID's two 64-bit halves XORed, computed here independently of the silo.</summary>
    private static string ConsulEventIndex(string id)
    {
        var hex = Guid.Parse(id).ToString("N");
        var index = ulong.Parse(hex[..16], NumberStyles.HexNumber, CultureInfo.InvariantCulture) ^ ulong.Parse(hex[16..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        return index.ToString(CultureInfo.InvariantCulture);
    }
}
