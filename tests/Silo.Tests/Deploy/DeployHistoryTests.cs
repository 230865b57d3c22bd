using System.Text.Json;
using Xunit.Abstractions;

namespace Platform.Silo.Tests.Deploy;

/// <summary>
/// The deploy history keeps the last N deploys per target: a busy target does not push another target's deploys out,
/// while the unfiltered view keeps only the recent ones. A silo with N = 2 (and 3 recent), real agents.
/// </summary>
public sealed class DeployHistoryTests(ITestOutputHelper output) : DeploySiloTest
{
    protected override string[] SiloArgs => ["--Platform:Deploys:HistoryPerTarget", "2", "--Platform:Deploys:HistoryRecent", "3"];

    private async Task<string> DeployAndWait(string node)
    {
        var (status, body) = await DeployFleet.PostAsync(TestSilo.Http, new { manifest_url = Fleet.ManifestUrl, target = new { nodes = new[] { node } } });
        Assert.True(status == 201, body.ToString());
        var id = body.GetProperty("id").GetString()!;
        await Fleet.UntilAsync(async () => (await DeployFleet.GetAsync(TestSilo.Http, id)).GetProperty("status").GetString() == "succeeded", $"deploy {id} succeeding");
        return id;
    }

    private async Task<string[]> History(string query)
    {
        var list = JsonDocument.Parse(await TestSilo.Http.GetStringAsync($"/v1/deploys?{query}")).RootElement;
        output.WriteLine($"?{query}: {list}");
        return [.. list.EnumerateArray().Select(d => d.GetProperty("id").GetString()!)];
    }

    [Fact]
    public async Task A_busy_target_does_not_push_another_targets_deploys_out_of_the_history()
    {
        await Fleet.StartAgentsAsync(TestSilo.Http, [DeployFleet.Pass, DeployFleet.Pass]);
        var n = Fleet.Names.Order(StringComparer.Ordinal).ToArray();

        var quiet = await DeployAndWait(n[0]);
        var busy = new List<string>();
        for (var i = 0; i < 4; i++) busy.Add(await DeployAndWait(n[1]));

        // Each target keeps its last 2, found by the target's description or any part of it.
        Assert.Equal([quiet], await History($"target=nodes={n[0]}"));
        Assert.Equal([quiet], await History($"target={n[0]}"));
        Assert.Equal([busy[3], busy[2]], await History($"target=nodes={n[1]}"));
        // Every target whose description contains the text, merged newest first.
        Assert.Equal([busy[3], busy[2], quiet], await History($"target={Fleet.Prefix}"));
        Assert.Equal([busy[3], busy[2]], await History($"target={Fleet.Prefix}&limit=2"));
        // The unfiltered view is the 3 most recent of any target: the quiet target's deploy has left it, not its own history.
        Assert.Equal([busy[3], busy[2], busy[1]], await History("limit=50"));
        Assert.Empty(await History("target=no-such-target"));

        // A deploy that fell out of the history is still readable by id.
        Assert.Equal("succeeded", (await DeployFleet.GetAsync(TestSilo.Http, busy[0])).GetProperty("status").GetString());
    }
}
