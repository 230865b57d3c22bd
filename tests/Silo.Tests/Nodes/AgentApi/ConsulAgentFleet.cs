namespace Platform.Silo.Tests.Nodes.AgentApi;

[CollectionDefinition(Name)]
public sealed class ConsulAgentCollection : ICollectionFixture<ConsulAgentFleet>
{
    public const string Name = "consul-agent-processes";
}

/// <summary>
/// A real silo, two real <c>platform agent</c> processes and the consul npm client: <see cref="Web"/> (role=web) runs a
/// TTL check <c>app</c> and a TCP check <c>port</c>; <see cref="Db"/> (role=db) has no checks. Both record every event.
/// </summary>
public sealed class ConsulAgentFleet : IAsyncLifetime
{
    public AgentProcessFleet Fleet { get; private set; } = null!;

    public ConsulAgentScript Consul { get; private set; } = null!;

    public string Web => "web-" + Fleet.Suffix;

    public string Db => "db-" + Fleet.Suffix;

    public async Task InitializeAsync()
    {
        Consul = await ConsulAgentScript.InstallAsync();
        Fleet = await AgentProcessFleet.StartAsync();
        await Fleet.StartAgentAsync(Web, new()
        {
            ["tags"] = new Dictionary<string, string> { ["role"] = "web" },
            ["event_handlers"] = new[] { Fleet.HandlerFor(Web, null) },
            ["checks"] = new object[]
            {
                new Dictionary<string, string> { ["id"] = "app", ["name"] = "App", ["ttl"] = "1h" },
                new Dictionary<string, string> { ["id"] = "port", ["name"] = "Silo port", ["tcp"] = $"127.0.0.1:{Fleet.Silo.Port}", ["interval"] = "1h" },
            },
        });
        await Fleet.StartAgentAsync(Db, new()
        {
            ["tags"] = new Dictionary<string, string> { ["role"] = "db" },
            ["event_handlers"] = new[] { Fleet.HandlerFor(Db, null) },
        });
    }

    public async Task DisposeAsync()
    {
        if (Fleet is not null) await Fleet.DisposeAsync();
        Consul?.Dispose();
    }
}
