using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Platform.Cli;
using Platform.Silo.Tests.Nodes.AgentApi;

namespace Platform.Silo.Tests.Rules;

/// <summary>A real silo with one real <c>platform agent</c> whose handler records every event, shared by the rules tests.</summary>
public sealed class RulesFleet : IAsyncLifetime
{
    public AgentProcessFleet Fleet { get; private set; } = null!;

    public string Node { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Fleet = await AgentProcessFleet.StartAsync();
        Node = "rules-" + Fleet.Suffix;
        await Fleet.StartAgentAsync(Node, new() { ["event_handlers"] = new[] { Fleet.HandlerFor(Node, null) } });
    }

    public async Task DisposeAsync()
    {
        if (Fleet is not null) await Fleet.DisposeAsync();
    }

    /// <summary>Runs the real CLI against the silo in this process; answers its exit code and output.</summary>
    public async Task<(int Code, string Out, string Err)> CliAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var context = new CliContext(output, error) { UrlEnvironment = Fleet.SiloUrl, TokenEnvironment = null };
        var code = await PlatformCli.RunAsync(args, context, CancellationToken.None);
        return (code, output.ToString(), error.ToString());
    }

    public async Task<JsonElement> AddRuleAsync(string json)
    {
        using var response = await Fleet.Http.PostAsync("/v1/rules", new StringContent(json, Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public async Task RemoveRuleAsync(string id)
    {
        using var response = await Fleet.Http.DeleteAsync($"/v1/rules/{id}");
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    public async Task<JsonElement> RunsAsync(string id)
        => (await Fleet.Http.GetFromJsonAsync<JsonElement>($"/v1/rules/{id}/runs?limit=100"));

    /// <summary>
    /// Fires a marker event and waits until the agent handled it: the agent handles user events one at a time in Lamport
    /// order, so every event fired before the marker has been handled by then.
    /// </summary>
    public async Task MarkerAsync()
    {
        var marker = "marker-" + Guid.NewGuid().ToString("N")[..6];
        using var response = await Fleet.Http.PostAsync($"/v1/events/{marker}?coalesce=false", new StringContent("m"));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        await Fleet.UntilAsync(() => Fleet.Events(Node).Contains($"user {marker} m"), $"the agent handling {marker}");
    }
}

[CollectionDefinition(Name)]
public sealed class RulesCollection : ICollectionFixture<RulesFleet>
{
    public const string Name = "rules fleet";
}
