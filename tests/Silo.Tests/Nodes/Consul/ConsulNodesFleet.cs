using System.Diagnostics;
using System.Text.Json;
using Platform.Agent.Checks;
using Platform.Protocol;
using Platform.Silo.Tests.Nodes.Api;
using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests.Nodes.Consul;

[CollectionDefinition(Name)]
public sealed class ConsulNodesCollection : ICollectionFixture<ConsulNodesFleet>
{
    public const string Name = "consul-nodes";
}

/// <summary>
/// A real silo with three agents on the real protocol: one alive whose checks a real <see cref="CheckSet"/> runs (a TTL
/// check and a <c>/bin/sh</c> script), one failed (its connection reset) and one that left.
/// </summary>
public sealed class ConsulNodesFleet : IAsyncLifetime
{
    private readonly TempDir _dir = new();
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..6];
    private readonly List<RawAgent> _agents = [];
    private CheckSet? _checks;

    public SiloProcess Silo { get; private set; } = null!;

    public int Port => Silo.Port;

    public HttpClient Http => Silo.Http;

    public string Alive => "web-" + _suffix;

    public string Failed => "db-" + _suffix;

    public string Left => "gone-" + _suffix;

    public CheckSet Checks => _checks!;

    public async Task InitializeAsync()
    {
        Silo = await SiloProcess.StartAsync(_dir.Path);

        using var definitions = JsonDocument.Parse("""
            [{"id": "app", "name": "App", "ttl": "1h", "status": "passing"},
             {"name": "disk", "script": "echo 'disk at 91%'; exit 1", "interval": "1h"}]
            """);
        var options = new CheckOptions { EnableScriptChecks = true };
        RawAgent? web = null;
        _checks = new CheckSet(
            CheckDefinitionReader.Read(definitions.RootElement, options),
            state => _ = web!.SendAsync(new CheckFrame(state)),
            options);
        web = await Connect(RawAgent.NewHello(Alive, new() { ["role"] = "web" }) with { Checks = _checks.Current });
        _checks.Start();
        _checks.Pass("app", "all good");
        await Until(async () =>
        {
            var node = await NodesHttp.NodeAsync(Http, Alive);
            var checks = node?.GetProperty("checks").EnumerateArray().Select(c => (c.GetProperty("id").GetString(), c.GetProperty("status").GetString(), c.GetProperty("output").GetString())).ToList();
            return checks is not null && checks.Contains(("app", "passing", "all good")) && checks.Contains(("disk", "warning", "disk at 91%\n"));
        }, $"{Alive}'s checks reaching the silo");

        var db = await Connect(RawAgent.NewHello(Failed, new() { ["role"] = "db" }));
        db.Abort();
        await NodesHttp.WaitForStatusAsync(Http, Failed, "failed", TimeSpan.FromSeconds(15));

        var gone = await Connect(RawAgent.NewHello(Left));
        await gone.SendAsync(new LeaveFrame());
        await NodesHttp.WaitForStatusAsync(Http, Left, "left", TimeSpan.FromSeconds(15));
    }

    /// <summary>Fires a user event through Platform's own API; answers its id.</summary>
    public async Task<string> FireAsync(string name, string payload)
    {
        using var response = await Http.PostAsync($"/v1/events/{name}", new StringContent(payload));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
    }

    internal async Task<RawAgent> Connect(HelloFrame hello)
    {
        var agent = await RawAgent.ConnectAsync(Port, hello);
        _agents.Add(agent);
        Assert.True(agent.Welcome is not null, agent.Describe());
        return agent;
    }

    public async Task DisposeAsync()
    {
        if (_checks is not null) await _checks.DisposeAsync();
        foreach (var agent in _agents) await agent.DisposeAsync();
        if (Silo is not null) await Silo.DisposeAsync();
        _dir.Dispose();
    }

    private static async Task Until(Func<Task<bool>> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(15)) throw new TimeoutException($"{what} did not happen within 15 s");
            await Task.Delay(20);
        }
    }
}
