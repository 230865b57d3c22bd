using System.Net;

namespace Platform.Silo.Tests.Nodes.AgentApi;

/// <summary>Consul's event filters, fired with the consul npm client: the event runs only on the real agents it matches.</summary>
[Collection(ConsulAgentCollection.Name)]
public sealed class ConsulEventFilterTests(ConsulAgentFleet fixture)
{
    private AgentProcessFleet Fleet => fixture.Fleet;

    [Fact]
    public async Task Event_with_a_node_filter_runs_only_on_the_agents_whose_name_matches()
    {
        var name = "only-web-" + Guid.NewGuid().ToString("N")[..6];
        var fired = await fixture.Consul.RunAsync(Fleet.Silo.Port, "fire", name, "v1", "^web-", "");
        Assert.True(fired.GetProperty("ok").GetBoolean(), fired.ToString());
        Assert.Equal("^web-", fired.GetProperty("answer").GetProperty("NodeFilter").GetString());

        await FireMarkerAndWaitAsync();
        Assert.Contains($"user {name} v1", Fleet.Events(fixture.Web));
        Assert.DoesNotContain(Fleet.Events(fixture.Db), line => line.Contains(name, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Event_with_a_tag_filter_runs_only_on_the_agents_whose_tag_matches_and_the_list_shows_the_filters()
    {
        var name = "only-db-" + Guid.NewGuid().ToString("N")[..6];
        var fired = await fixture.Consul.RunAsync(Fleet.Silo.Port, "fire", name, "v2", "", "role=d.");
        Assert.True(fired.GetProperty("ok").GetBoolean(), fired.ToString());

        await FireMarkerAndWaitAsync();
        Assert.Contains($"user {name} v2", Fleet.Events(fixture.Db));
        Assert.DoesNotContain(Fleet.Events(fixture.Web), line => line.Contains(name, StringComparison.Ordinal));

        var listed = await fixture.Consul.RunAsync(Fleet.Silo.Port, "list", name);
        var e = Assert.Single(listed.GetProperty("answer").EnumerateArray());
        Assert.Equal(("", "role=d.", ""), (e.GetProperty("NodeFilter").GetString(), e.GetProperty("TagFilter").GetString(), e.GetProperty("ServiceFilter").GetString()));
    }

    [Theory]
    [InlineData("node=web-(", "Invalid node filter: 'web-(' is not a valid regular expression")]
    [InlineData("tag=web", "Invalid tag filter: 'web'; expected key=regexp on the nodes' tags, such as role=web")]
    [InlineData("tag=role=(", "Invalid tag filter: 'role=(': the value is not a valid regular expression")]
    public async Task Event_with_a_filter_that_cannot_be_used_is_refused_naming_it(string query, string error)
    {
        using var response = await Fleet.Http.PutAsync($"/v1/event/fire/deploy?{query}", new StringContent(""));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith(error, await response.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// Fires an unfiltered event after the filtered one and waits until both agents handled it: each agent handles user
    /// events one at a time in Lamport order, so whatever the filtered event was going to run has run by then.
    /// </summary>
    private async Task FireMarkerAndWaitAsync()
    {
        var marker = "marker-" + Guid.NewGuid().ToString("N")[..6];
        using var response = await Fleet.Http.PostAsync($"/v1/events/{marker}?coalesce=false", new StringContent("m"));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        await Fleet.UntilAsync(() => Fleet.Events(fixture.Web).Contains($"user {marker} m") && Fleet.Events(fixture.Db).Contains($"user {marker} m"),
            $"both agents handling {marker}");
    }
}
