using System.Text;
using System.Text.Json;

namespace Platform.Silo.Tests.Rules;

/// <summary><c>GET /v1/rules?follow=true</c> on a real silo: the rules, the rules again after a change, and a run pushed when it is recorded and when it ends.</summary>
[Collection(RulesCollection.Name)]
public sealed class RulesFollowTests(RulesFleet fixture)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_follower_hears_a_new_rule_its_run_pending_then_succeeded_and_its_disabling()
    {
        using var client = new HttpClient { BaseAddress = fixture.Fleet.Http.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        using var cancel = new CancellationTokenSource(Deadline * 3);
        using var response = await client.GetAsync("/v1/rules?follow=true", HttpCompletionOption.ResponseHeadersRead, cancel.Token);
        Assert.True(response.IsSuccessStatusCode, $"answered {(int)response.StatusCode}");
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancel.Token), Encoding.UTF8);
        var first = await NextAsync(reader, _ => true);
        Assert.Equal("rules", first.GetProperty("type").GetString());

        var eventName = "followed-" + Guid.NewGuid().ToString("N")[..6];
        var key = "/followed/" + eventName;
        var rule = await fixture.AddRuleAsync($$"""
            {"name":"{{eventName}}","trigger":{"type":"user_event","name":"{{eventName}}"},
             "actions":[{"type":"set_key","key":"{{key}}","value":"{{"{{payload}}"}}"}]}
            """);
        var id = rule.GetProperty("id").GetString()!;
        try
        {
            await NextAsync(reader, l => l.GetProperty("type").GetString() == "rules" && Rule(l, id) is { } r && r.GetProperty("enabled").GetBoolean());

            using (var fired = await fixture.Fleet.Http.PostAsync($"/v1/events/{eventName}", new ByteArrayContent("v9"u8.ToArray())))
                Assert.True(fired.IsSuccessStatusCode, await fired.Content.ReadAsStringAsync());
            var pending = await NextAsync(reader, l => IsRunOf(l, id));
            Assert.Equal("pending", pending.GetProperty("run").GetProperty("outcome").GetString());
            var ended = await NextAsync(reader, l => IsRunOf(l, id));
            Assert.Equal("succeeded", ended.GetProperty("run").GetProperty("outcome").GetString());
            Assert.Equal(pending.GetProperty("run").GetProperty("id").GetString(), ended.GetProperty("run").GetProperty("id").GetString());
            Assert.Equal("v9", ended.GetProperty("run").GetProperty("facts").GetProperty("payload").GetString());

            using (var disabled = await fixture.Fleet.Http.PostAsync($"/v1/rules/{id}/disable", null))
                Assert.True(disabled.IsSuccessStatusCode, await disabled.Content.ReadAsStringAsync());
            await NextAsync(reader, l => l.GetProperty("type").GetString() == "rules" && Rule(l, id) is { } r && !r.GetProperty("enabled").GetBoolean());
        }
        finally
        {
            await fixture.RemoveRuleAsync(id);
        }
        using var bad = await fixture.Fleet.Http.GetAsync("/v1/rules?follow=yes");
        Assert.Equal(400, (int)bad.StatusCode);
        Assert.StartsWith("follow 'yes'", JsonDocument.Parse(await bad.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString());
    }

    private static bool IsRunOf(JsonElement line, string id)
        => line.GetProperty("type").GetString() == "run" && line.GetProperty("run").GetProperty("ruleId").GetString() == id;

    private static JsonElement? Rule(JsonElement line, string id)
    {
        foreach (var r in line.GetProperty("rules").EnumerateArray())
            if (r.GetProperty("id").GetString() == id) return r;
        return null;
    }

    /// <summary>The next line that <paramref name="wanted"/> accepts, skipping others; fails after <see cref="Deadline"/>.</summary>
    private static async Task<JsonElement> NextAsync(StreamReader reader, Func<JsonElement, bool> wanted)
    {
        using var timeout = new CancellationTokenSource(Deadline);
        while (true)
        {
            var text = await reader.ReadLineAsync(timeout.Token) ?? throw new InvalidOperationException("the stream ended");
            var line = JsonDocument.Parse(text).RootElement.Clone();
            if (wanted(line)) return line;
        }
    }
}
