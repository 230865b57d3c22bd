using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Platform.Silo.Tests.Rules;

/// <summary>Rules in a real silo with a real agent: key changes and user events trigger them, their actions reach watchers and handlers once.</summary>
[Collection(RulesCollection.Name)]
public sealed class RulesProcessTests(RulesFleet fixture)
{
    private HttpClient Http => fixture.Fleet.Http;

    private static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..6];

    [Fact]
    public async Task Key_change_fires_the_rules_event_and_the_agents_handler_runs_it_once()
    {
        var key = "/" + Unique("build_notify");
        var name = Unique("notify");
        var (code, output, error) = await fixture.CliAsync("rule", "add", "-name", name, "-on", "key", "-key", key, "-then", "event", "-fire", "deployed", "-payload", "{{value}}");
        Assert.True(code == 0, error);
        var id = output.Split(" added as ")[1].Split(':')[0];
        try
        {
            using (var set = await Http.PutAsync($"/v2/keys{key}", new FormUrlEncodedContent([new("value", "v42")])))
                Assert.True(set.IsSuccessStatusCode, await set.Content.ReadAsStringAsync());
            await fixture.Fleet.UntilAsync(() => fixture.Fleet.Events(fixture.Node).Contains("user deployed v42"), "the agent handling the rule's event");
            await fixture.MarkerAsync();
            Assert.Single(fixture.Fleet.Events(fixture.Node), line => line == "user deployed v42");
            var fired = await Http.GetFromJsonAsync<JsonElement>("/v1/events?name=deployed");
            Assert.Single(fired.EnumerateArray(), e => Encoding.UTF8.GetString(e.GetProperty("payload").GetBytesFromBase64()) == "v42");

            var run = Assert.Single((await fixture.RunsAsync(id)).EnumerateArray());
            Assert.Equal("succeeded", run.GetProperty("outcome").GetString());
            Assert.Equal("key_changed", run.GetProperty("trigger").GetString());
            Assert.Equal("v42", run.GetProperty("facts").GetProperty("value").GetString());
            var action = Assert.Single(run.GetProperty("actions").EnumerateArray());
            Assert.Equal(("fire_event", "succeeded"), (action.GetProperty("type").GetString(), action.GetProperty("outcome").GetString()));
        }
        finally
        {
            await fixture.RemoveRuleAsync(id);
        }
    }

    [Fact]
    public async Task User_event_sets_a_key_and_a_waiting_etcd_watcher_wakes_with_its_value()
    {
        var eventName = Unique("released");
        var key = "/release/" + Unique("latest");
        var rule = await fixture.AddRuleAsync($$"""
            {"name":"{{Unique("release")}}","trigger":{"type":"user_event","name":"{{eventName}}"},
             "actions":[{"type":"set_key","key":"{{key}}","value":"{{"{{payload}}"}}"}]}
            """);
        var id = rule.GetProperty("id").GetString()!;
        try
        {
            // A watch from the index after now: it cannot miss the rule's write, whenever it is registered.
            using var head = await Http.GetAsync("/v2/keys/");
            var index = ulong.Parse(head.Headers.GetValues("X-Etcd-Index").First(), System.Globalization.CultureInfo.InvariantCulture);
            var watch = Http.GetStringAsync($"/v2/keys{key}?wait=true&waitIndex={index + 1}");
            using (var fire = await Http.PostAsync($"/v1/events/{eventName}?coalesce=false", new StringContent("v7")))
                Assert.True(fire.IsSuccessStatusCode, await fire.Content.ReadAsStringAsync());
            var woken = JsonDocument.Parse(await watch.WaitAsync(TimeSpan.FromSeconds(30))).RootElement;
            Assert.Equal("set", woken.GetProperty("action").GetString());
            Assert.Equal("v7", woken.GetProperty("node").GetProperty("value").GetString());
        }
        finally
        {
            await fixture.RemoveRuleAsync(id);
        }
    }

    [Theory]
    [InlineData("""{"name":"loop","trigger":{"type":"key_changed","key":"/loop"},"actions":[{"type":"set_key","key":"/loop","value":"x"}]}""", "actions[0].key")]
    [InlineData("""{"name":"loop","trigger":{"type":"key_changed","prefix":"/loop"},"actions":[{"type":"set_key","key":"{{key}}/copy"}]}""", "actions[0].key")]
    [InlineData("""{"name":"loop","trigger":{"type":"user_event","name":"ping"},"actions":[{"type":"fire_event","name":"ping"}]}""", "actions[0].name")]
    public async Task A_rule_that_would_trigger_itself_is_refused_naming_the_action(string body, string field)
    {
        var error = await RefusedAsync(body, HttpStatusCode.BadRequest);
        Assert.Equal(field, error.GetProperty("field").GetString());
        Assert.Contains("would trigger itself", error.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[]", "(body)")]
    [InlineData("{", "(body)")]
    [InlineData("""{"name":"x","trigger":{"type":"cron"},"actions":[{"type":"fire_event","name":"e"}]}""", "trigger.type")]
    [InlineData("""{"name":"x","trigger":{"type":"push","repo":"team/app","branches":"main !"},"actions":[{"type":"fire_event","name":"e"}]}""", "trigger.branches")]
    [InlineData("""{"name":"x","trigger":{"type":"push","repo":"team/app"},"actions":[{"type":"fire_event","name":"e","payload":"{{value}}"}]}""", "actions[0].payload")]
    [InlineData("""{"name":"x","trigger":{"type":"key_changed","key":"/a"},"actions":[{"type":"set_key","key":"/b","ttl":5}]}""", "actions[0].ttl")]
    [InlineData("""{"name":"x","trigger":{"type":"key_changed","key":"/a"},"actions":[{"type":"set_key","key":7}]}""", "actions[0].key")]
    [InlineData("""{"name":"x","trigger":{"type":"key_changed","key":"/a"},"actions":[]}""", "actions")]
    [InlineData("""{"trigger":{"type":"key_changed","key":"/a"},"actions":[{"type":"fire_event","name":"e"}]}""", "name")]
    [InlineData("""{"name":"x","trigger":{"type":"user_event","name":"e"},"actions":[{"type":"start_deploy","manifestUrl":"https://a/m.yml","target":{"tags":{"role":"web("}}}]}""", "actions[0].target.tags.role")]
    // A deploy strategy or Stretcher option the deploy API would refuse is refused when the rule is added, not first when it runs.
    [InlineData("""{"name":"x","trigger":{"type":"user_event","name":"e"},"actions":[{"type":"fire_event","name":"f"},{"type":"start_deploy","manifestUrl":"https://a/m.yml","target":{"all":true},"strategy":{"batch":0}}]}""", "actions[1].strategy.batch")]
    [InlineData("""{"name":"x","trigger":{"type":"user_event","name":"e"},"actions":[{"type":"start_deploy","manifestUrl":"https://a/m.yml","target":{"all":true},"strategy":{"batch":[1,"150%"]}}]}""", "actions[0].strategy.batch[1]")]
    [InlineData("""{"name":"x","trigger":{"type":"user_event","name":"e"},"actions":[{"type":"start_deploy","manifestUrl":"https://a/m.yml","target":{"all":true},"strategy":{"parallel":2}}]}""", "actions[0].strategy.parallel")]
    [InlineData("""{"name":"x","trigger":{"type":"user_event","name":"e"},"actions":[{"type":"start_deploy","manifestUrl":"https://a/m.yml","target":{"all":true},"stretch":{"retry":-1}}]}""", "actions[0].stretch.retry")]
    public async Task A_bad_rule_is_a_400_naming_the_field(string body, string field)
    {
        var error = await RefusedAsync(body, HttpStatusCode.BadRequest);
        Assert.Equal(field, error.GetProperty("field").GetString());
        Assert.StartsWith(field, error.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_rules_are_404_and_a_second_rule_with_a_name_in_use_is_409()
    {
        using (var missing = await Http.GetAsync("/v1/rules/rule-999999"))
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        var name = Unique("twice");
        var body = $$"""{"name":"{{name}}","trigger":{"type":"user_event","name":"{{Unique("e")}}"},"actions":[{"type":"fire_event","name":"other"}]}""";
        var id = (await fixture.AddRuleAsync(body)).GetProperty("id").GetString()!;
        try
        {
            await RefusedAsync(body, HttpStatusCode.Conflict);
        }
        finally
        {
            await fixture.RemoveRuleAsync(id);
        }
    }

    [Fact]
    public async Task Start_build_of_an_unregistered_repository_fails_the_run_visibly()
    {
        var eventName = Unique("ship");
        var rule = await fixture.AddRuleAsync($$"""
            {"name":"{{Unique("ship")}}","trigger":{"type":"user_event","name":"{{eventName}}"},"actions":[{"type":"start_build","repo":"team/unregistered","branch":"main"}]}
            """);
        var id = rule.GetProperty("id").GetString()!;
        try
        {
            using (var fire = await Http.PostAsync($"/v1/events/{eventName}", new StringContent("")))
                Assert.True(fire.IsSuccessStatusCode);
            JsonElement run = default;
            await fixture.Fleet.UntilAsync(async () =>
            {
                var runs = (await fixture.RunsAsync(id)).EnumerateArray().ToList();
                if (runs.Count == 0 || runs[0].GetProperty("outcome").GetString() == "pending") return false;
                run = runs[0];
                return true;
            }, "the rule's run finishing");
            Assert.Equal("failed", run.GetProperty("outcome").GetString());
            Assert.Contains("repository 'team/unregistered' is not registered", run.GetProperty("error").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            await fixture.RemoveRuleAsync(id);
        }
    }

    [Fact]
    public async Task Rules_that_trigger_each_other_stop_at_the_chain_depth_limit()
    {
        var ping = "/" + Unique("ping");
        var pong = "/" + Unique("pong");
        var a = (await fixture.AddRuleAsync($$"""{"name":"{{Unique("ping")}}","trigger":{"type":"key_changed","key":"{{ping}}"},"actions":[{"type":"set_key","key":"{{pong}}","value":"{{"{{value}}"}}"}]}""")).GetProperty("id").GetString()!;
        var b = (await fixture.AddRuleAsync($$"""{"name":"{{Unique("pong")}}","trigger":{"type":"key_changed","key":"{{pong}}"},"actions":[{"type":"set_key","key":"{{ping}}","value":"{{"{{value}}"}}"}]}""")).GetProperty("id").GetString()!;
        try
        {
            using (var set = await Http.PutAsync($"/v2/keys{ping}", new FormUrlEncodedContent([new("value", "go")])))
                Assert.True(set.IsSuccessStatusCode);
            List<JsonElement> runs = [];
            await fixture.Fleet.UntilAsync(async () =>
            {
                runs = [.. (await fixture.RunsAsync(a)).EnumerateArray(), .. (await fixture.RunsAsync(b)).EnumerateArray()];
                return runs.Exists(r => r.GetProperty("outcome").GetString() == "failed");
            }, "the chain being stopped");
            var stopped = Assert.Single(runs, r => r.GetProperty("outcome").GetString() == "failed");
            Assert.Contains("MaxChainDepth", stopped.GetProperty("error").GetString(), StringComparison.Ordinal);
            Assert.Equal(8, stopped.GetProperty("depth").GetInt32());
            // Depths 0 to 7 ran, one each, then the chain stopped: eight writes, not an endless loop.
            Assert.Equal(8, runs.Count(r => r.GetProperty("outcome").GetString() == "succeeded"));
        }
        finally
        {
            await fixture.RemoveRuleAsync(a);
            await fixture.RemoveRuleAsync(b);
        }
    }

    [Fact]
    public async Task Rules_are_listed_shown_disabled_and_removed_through_the_cli()
    {
        var name = Unique("cli");
        var add = await fixture.CliAsync("rule", "add", "-name", name, "-on", "push", "-repo", "team/app", "-branches", "main release/*",
            "-then", "deploy", "-manifest-url", "https://artifacts.example/{{repo}}/{{commit}}/manifest.yml", "-target-tag", "role=web");
        Assert.True(add.Code == 0, add.Err);
        var list = await fixture.CliAsync("rule", "list");
        Assert.Contains(name, list.Out, StringComparison.Ordinal);
        Assert.Contains("push to team/app on 'main release/*'", list.Out, StringComparison.Ordinal);
        var disable = await fixture.CliAsync("rule", "disable", name);
        Assert.True(disable.Code == 0, disable.Err);
        var show = await fixture.CliAsync("rule", "show", name, "-format", "json");
        var shown = JsonDocument.Parse(show.Out).RootElement.GetProperty("rule");
        Assert.False(shown.GetProperty("enabled").GetBoolean());
        Assert.Equal("role", shown.GetProperty("actions")[0].GetProperty("target").GetProperty("tags").EnumerateObject().Single().Name);
        var rm = await fixture.CliAsync("rule", "rm", name);
        Assert.True(rm.Code == 0, rm.Err);
        var again = await fixture.CliAsync("rule", "show", name);
        Assert.Equal(1, again.Code);
        Assert.Contains("no rule has the id or name", again.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_rule_from_the_cli_prints_the_silos_error_naming_the_field()
    {
        var bad = await fixture.CliAsync("rule", "add", "-name", Unique("bad"), "-on", "key", "-key", "/a", "-then", "event", "-fire", "e", "-payload", "{{commit}}");
        Assert.Equal(1, bad.Code);
        Assert.Contains("actions[0].payload: '{{commit}}' is not provided by a key_changed trigger", bad.Err, StringComparison.Ordinal);
    }

    private async Task<JsonElement> RefusedAsync(string body, HttpStatusCode status)
    {
        using var response = await Http.PostAsync("/v1/rules", new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
