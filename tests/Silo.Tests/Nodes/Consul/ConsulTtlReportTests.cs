using System.Net;

namespace Platform.Silo.Tests.Nodes.Consul;

/// <summary>Consul's TTL report endpoints: which node's check a report is for, and Consul's answers when there is none.</summary>
[Collection(ConsulNodesCollection.Name)]
public sealed class ConsulTtlReportTests(ConsulNodesFleet fleet)
{
    [Fact]
    public async Task Report_for_a_check_no_node_has_is_404_with_Consul_message()
    {
        using var response = await fleet.Http.PutAsync("/v1/agent/check/pass/App?note=ok", null);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("Unknown check ID \"App\". Ensure that the check ID is passed, not the check name.", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Report_naming_an_unknown_node_is_404()
    {
        using var response = await fleet.Http.PutAsync("/v1/agent/check/fail/app?node=nobody-here", null);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("node \"nobody-here\" is not known", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Update_with_a_status_that_is_not_a_check_status_is_refused_as_Consul_does()
    {
        using var response = await fleet.Http.PutAsync($"/v1/agent/check/update/app?node={fleet.Alive}", new StringContent("""{"Status": "ok"}"""));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("Invalid check status: 'ok'", await response.Content.ReadAsStringAsync());
    }
}
