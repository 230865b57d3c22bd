using System.Net;
using System.Text.Json;

namespace Platform.Silo.Tests.Nodes.AgentApi;

/// <summary>Consul's TTL reports made at the silo reach the real agent process that runs the check, and its new state comes back.</summary>
[Collection(ConsulAgentCollection.Name)]
public sealed class ConsulTtlThroughAgentTests(ConsulAgentFleet fixture)
{
    private AgentProcessFleet Fleet => fixture.Fleet;

    [Fact]
    public async Task Check_pass_from_the_consul_npm_client_reaches_the_agent_and_its_state_comes_back()
    {
        var note = "deployed " + Guid.NewGuid().ToString("N")[..8];
        var answer = await fixture.Consul.RunAsync(Fleet.Silo.Port, "pass", "app", note);
        Assert.True(answer.GetProperty("ok").GetBoolean(), answer.ToString());
        await UntilCheckAsync("app", "passing", note);
    }

    [Fact]
    public async Task Update_with_Consul_body_and_fail_with_a_note_set_status_and_output_on_the_named_node()
    {
        using (var update = await Fleet.Http.PutAsync($"/v1/agent/check/update/app?node={fixture.Web}", new StringContent("""{"Status": "warning", "Output": "slow disk"}""")))
            Assert.Equal(HttpStatusCode.OK, update.StatusCode);
        await UntilCheckAsync("app", "warning", "slow disk");

        using (var fail = await Fleet.Http.PutAsync($"/v1/agent/check/fail/app?node={fixture.Web}&note=down", null))
            Assert.Equal(HttpStatusCode.OK, fail.StatusCode);
        await UntilCheckAsync("app", "critical", "down");
    }

    [Fact]
    public async Task Report_for_a_check_the_named_node_does_not_have_is_a_Consul_404()
    {
        using var response = await Fleet.Http.PutAsync($"/v1/agent/check/pass/app?node={fixture.Db}", null);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal($"Unknown check ID \"app\". Ensure that the check ID is passed, not the check name. (node \"{fixture.Db}\" has no such check)",
            await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Report_for_a_check_without_a_ttl_is_not_applied_by_the_agent()
    {
        await UntilCheckAsync("port", "passing", null);
        using (var fail = await Fleet.Http.PutAsync($"/v1/agent/check/fail/port?node={fixture.Web}&note=forced", null))
            Assert.Equal(HttpStatusCode.OK, fail.StatusCode);
        // The agent takes frames in order and reports changes in order: once a later report shows, the earlier one was refused.
        var note = "after " + Guid.NewGuid().ToString("N")[..8];
        using (var pass = await Fleet.Http.PutAsync($"/v1/agent/check/pass/app?node={fixture.Web}&note={Uri.EscapeDataString(note)}", null))
            Assert.Equal(HttpStatusCode.OK, pass.StatusCode);
        await UntilCheckAsync("app", "passing", note);
        Assert.Equal("passing", (await ChecksAsync()).Single(c => c.Id == "port").Status);
    }

    private async Task<List<(string Id, string Status, string Output)>> ChecksAsync()
    {
        using var response = await Fleet.Http.GetAsync($"/v1/health/node/{fixture.Web}");
        response.EnsureSuccessStatusCode();
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return [.. doc.RootElement.EnumerateArray().Select(c => (c.GetProperty("CheckID").GetString()!, c.GetProperty("Status").GetString()!, c.GetProperty("Output").GetString()!))];
    }

    private Task UntilCheckAsync(string id, string status, string? output) => Fleet.UntilAsync(async () =>
        (await ChecksAsync()).Exists(c => c.Id == id && c.Status == status && (output is null || c.Output == output)),
        $"check {id} of {fixture.Web} being {status} ({output})");
}
