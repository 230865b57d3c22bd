using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests.Rules;

/// <summary>Rules are durable: after a silo is killed and started again on its data, they are there and still act.</summary>
public sealed class RulesRestartTests
{
    [Fact]
    public async Task Rules_survive_a_killed_silo_and_still_act_after_the_restart()
    {
        using var dir = new TempDir();
        var port = SiloProcess.FreePort();
        string id;
        await using (var first = await SiloProcess.StartAsync(dir.Path, port))
        {
            using var added = await first.Http.PostAsync("/v1/rules", new StringContent(
                """{"name":"survivor","trigger":{"type":"key_changed","key":"/build_notify"},"actions":[{"type":"fire_event","name":"deployed","payload":"{{value}}"}]}""",
                Encoding.UTF8, "application/json"));
            Assert.True(added.IsSuccessStatusCode, await added.Content.ReadAsStringAsync());
            id = (await added.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
            first.Kill();
        }
        await using var second = await SiloProcess.StartAsync(dir.Path, port);
        var rule = await second.Http.GetFromJsonAsync<JsonElement>($"/v1/rules/{id}");
        Assert.Equal("survivor", rule.GetProperty("name").GetString());

        // The engine subscribes once it is woken after the start; a write before that is caught up from its stored cursor.
        using (var set = await second.Http.PutAsync("/v2/keys/build_notify", new FormUrlEncodedContent([new("value", "after-restart")])))
            Assert.True(set.IsSuccessStatusCode);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var events = await second.Http.GetFromJsonAsync<JsonElement>("/v1/events?name=deployed");
            if (events.EnumerateArray().Any(e => Encoding.UTF8.GetString(e.GetProperty("payload").GetBytesFromBase64()) == "after-restart")) break;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the rule did not fire after the restart:\n{second.Output}");
            await Task.Delay(50);
        }
        var runs = await second.Http.GetFromJsonAsync<JsonElement>($"/v1/rules/{id}/runs");
        Assert.Equal("succeeded", runs[0].GetProperty("outcome").GetString());
    }
}
