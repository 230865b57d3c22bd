using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Platform.Silo.Tests.Support;
using Platform.Silo.Tests.Telemetry;
using Xunit.Abstractions;

namespace Platform.Silo.Tests.Deploy;

/// <summary>
/// A rule's start_deploy action on a real silo with real agents: a key change deploys the manifest to the tagged
/// nodes once, and a deploy the API refuses when the rule runs (its node has gone) fails the run with the API's error.
/// </summary>
public sealed class RuleDeployTests(ITestOutputHelper output) : DeploySiloTest
{
    private HttpClient Http => TestSilo.Http;

    private async Task<string> AddRuleAsync(string json)
    {
        using var response = await Http.PostAsync("/v1/rules", new StringContent(json, Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
    }

    private async Task<JsonElement> RunsAsync(string rule) => await Http.GetFromJsonAsync<JsonElement>($"/v1/rules/{rule}/runs?limit=100");

    private async Task SetKeyAsync(string key, string value)
    {
        using var set = await Http.PutAsync($"/v2/keys{key}", new FormUrlEncodedContent([new("value", value)]));
        Assert.True(set.IsSuccessStatusCode, await set.Content.ReadAsStringAsync());
    }

    /// <summary>Waits for the rule's <paramref name="count"/>th run to end; that run (newest first in the list).</summary>
    private async Task<JsonElement> UntilRunAsync(string rule, int count)
    {
        JsonElement runs = default;
        await Fleet.UntilAsync(async () =>
        {
            runs = await RunsAsync(rule);
            return runs.GetArrayLength() >= count && runs.EnumerateArray().All(r => r.GetProperty("outcome").GetString() is not ("running" or "pending" or null));
        }, $"run {count} of rule {rule} ending");
        output.WriteLine(runs.ToString());
        Assert.Equal(count, runs.GetArrayLength());
        return runs;
    }

    private static string DeployId(JsonElement run)
    {
        var action = Assert.Single(run.GetProperty("actions").EnumerateArray());
        Assert.Equal("succeeded", action.GetProperty("outcome").GetString());
        var detail = action.GetProperty("detail").GetString()!;
        Assert.StartsWith("deploy ", detail, StringComparison.Ordinal);
        return detail["deploy ".Length..];
    }

    [Fact]
    public async Task Key_change_deploys_the_manifest_to_the_tagged_agents_once_per_change_and_the_metrics_count_it()
    {
        await Fleet.StartAgentsAsync(Http, [DeployFleet.Pass, DeployFleet.Pass, DeployFleet.Pass, DeployFleet.Pass]);
        var n = Fleet.Names.Order(StringComparer.Ordinal).ToArray();
        string[] web = [n[0], n[2]];
        string[] workers = [n[1], n[3]];
        var key = $"/build_notify/{Fleet.Prefix}";
        var rule = await AddRuleAsync($$$"""
            {"name":"deploy-{{{Fleet.Prefix}}}","trigger":{"type":"key_changed","key":"{{{key}}}"},
             "actions":[{"type":"start_deploy","manifestUrl":"{{{Fleet.ManifestUrl}}}","target":{"tags":{"role":"^web$","fleet":"^{{{Fleet.Prefix}}}$"}},"strategy":{"batch":"100%"},"stretch":{"retry":1,"retry_wait":"0s"}}]}
            """);

        var before = await MetricsTests.ScrapeAsync(TestSilo);
        await SetKeyAsync(key, "build 1");
        var first = DeployId((await UntilRunAsync(rule, 1))[0]);
        var done = await UntilDeploy(first);
        Assert.Equal("succeeded", done.GetProperty("status").GetString());
        Assert.Equal(web, DeployFleet.NodeStatuses(done).Keys.Order(StringComparer.Ordinal));
        Assert.Equal(1, done.GetProperty("stretch").GetProperty("retry").GetInt32());
        foreach (var node in web)
        {
            Assert.Equal("release 1\n", File.ReadAllText(Path.Combine(Fleet.NodeDir(node), "dest", "index.html")));
            Assert.Equal(1, Fleet.Runs(node));
        }
        foreach (var node in workers)
        {
            Assert.False(Directory.Exists(Path.Combine(Fleet.NodeDir(node), "dest")), $"{node} is not tagged role=web");
            Assert.Equal(0, Fleet.Runs(node));
        }

        // A second change is a second deploy; the first one's run is not repeated.
        await SetKeyAsync(key, "build 2");
        var runs = await UntilRunAsync(rule, 2);
        var second = DeployId(runs[0]);
        Assert.NotEqual(first, second);
        Assert.Equal("succeeded", (await UntilDeploy(second)).GetProperty("status").GetString());
        foreach (var node in web) Assert.Equal(2, Fleet.Runs(node));
        var history = JsonDocument.Parse(await Http.GetStringAsync($"/v1/deploys?target={Fleet.Prefix}")).RootElement;
        Assert.Equal([second, first], history.EnumerateArray().Select(d => d.GetProperty("id").GetString()!));

        // The silo's metrics count both deploys and their four node runs.
        static double Of(Dictionary<string, double> s, string name) => s.GetValueOrDefault(name);
        await MetricsTests.PollAsync(TestSilo, after =>
            Of(after, "platform_deploys_started_total") == Of(before, "platform_deploys_started_total") + 2
            && Of(after, "platform_deploys_finished_total{result=succeeded}") == Of(before, "platform_deploys_finished_total{result=succeeded}") + 2
            && Of(after, "platform_deploys_node_results_total{status=succeeded}") == Of(before, "platform_deploys_node_results_total{status=succeeded}") + 4
            && Of(after, "platform_deploys_finished_total{result=failed}") == Of(before, "platform_deploys_finished_total{result=failed}"));
    }

    [Fact]
    public async Task Starting_twice_with_one_idempotency_key_answers_the_same_deploy_and_runs_each_node_once()
    {
        await Fleet.StartAgentsAsync(Http, [DeployFleet.Pass, DeployFleet.Pass]);
        var web = Fleet.Names.Order(StringComparer.Ordinal).First();
        async Task<string> Start(string key)
        {
            using var r = await Http.PostAsync($"/test/deploy-starter?key={Uri.EscapeDataString(key)}&manifestUrl={Uri.EscapeDataString(Fleet.ManifestUrl)}&fleet={Fleet.Prefix}", null);
            var text = await r.Content.ReadAsStringAsync();
            Assert.True(r.IsSuccessStatusCode, text);
            return JsonSerializer.Deserialize<string>(text)!;
        }

        var first = await Start("intent-1#0");
        Assert.Equal(first, await Start("intent-1#0"));
        Assert.Equal("succeeded", (await UntilDeploy(first)).GetProperty("status").GetString());
        // Asked again once it ended: still that deploy, nothing run again.
        Assert.Equal(first, await Start("intent-1#0"));
        var other = await Start("intent-2#0");
        Assert.NotEqual(first, other);
        Assert.Equal("succeeded", (await UntilDeploy(other)).GetProperty("status").GetString());

        Assert.Equal(2, Fleet.Runs(web));
        var history = JsonDocument.Parse(await Http.GetStringAsync($"/v1/deploys?target={Fleet.Prefix}")).RootElement;
        Assert.Equal([other, first], history.EnumerateArray().Select(d => d.GetProperty("id").GetString()!));
    }

    [Fact]
    public async Task A_deploy_to_a_node_that_is_not_a_member_fails_the_run_with_the_apis_error_and_starts_nothing()
    {
        await Fleet.StartAgentsAsync(Http, [DeployFleet.Pass]);
        var key = $"/build_notify/{Fleet.Prefix}";
        // The strategy is checked when the rule is added; whether its nodes are members, only when it runs.
        var rule = await AddRuleAsync($$$"""
            {"name":"bad-{{{Fleet.Prefix}}}","trigger":{"type":"key_changed","key":"{{{key}}}"},
             "actions":[{"type":"start_deploy","manifestUrl":"{{{Fleet.ManifestUrl}}}","target":{"nodes":["gone-{{{Fleet.Prefix}}}"]},"strategy":{"batch":1}}]}
            """);

        await SetKeyAsync(key, "build 1");
        var run = (await UntilRunAsync(rule, 1))[0];
        var action = Assert.Single(run.GetProperty("actions").EnumerateArray());
        Assert.Equal("failed", action.GetProperty("outcome").GetString());
        Assert.Contains($"target.nodes: 'gone-{Fleet.Prefix}' is not a member", action.GetProperty("error").GetString());
        var history = JsonDocument.Parse(await Http.GetStringAsync("/v1/deploys")).RootElement;
        Assert.Equal(0, history.GetArrayLength());
    }

    private async Task<JsonElement> UntilDeploy(string id)
    {
        JsonElement last = default;
        await Fleet.UntilAsync(async () => (last = await DeployFleet.GetAsync(Http, id)).GetProperty("status").GetString() != "running", $"deploy {id} ending");
        output.WriteLine(last.ToString());
        return last;
    }
}
