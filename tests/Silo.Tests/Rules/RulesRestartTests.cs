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
            await first.KillAsync();
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
        // The run's end is recorded once its action has returned, which may be just after the event is seen.
        string? outcome;
        while ((outcome = (await second.Http.GetFromJsonAsync<JsonElement>($"/v1/rules/{id}/runs"))[0].GetProperty("outcome").GetString()) == "pending")
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the rule's run is still pending:\n{second.Output}");
            await Task.Delay(50);
        }
        Assert.Equal("succeeded", outcome);
    }
}

/// <summary>A rule run cut by a <c>kill -9</c> between its intent and its end is finished after the restart, without doing twice what it had done.</summary>
public sealed class RulesRecoveryTests
{
    [Fact]
    public async Task A_run_cut_by_a_killed_silo_is_finished_after_the_restart_and_its_done_set_key_is_not_done_again()
    {
        using var dir = new TempDir();
        var log = Path.Combine(dir.Path, "deploys.log");
        var environment = new Dictionary<string, string> { [Platform.Silo.TestGrains.TestGrainsExtension.DeployLogVariable] = log };
        var port = SiloProcess.FreePort();
        var data = Path.Combine(dir.Path, "silo");
        string id;
        ulong written;
        await using (var first = await SiloProcess.StartAsync(data, port, environment))
        {
            using var added = await first.Http.PostAsync("/v1/rules", new StringContent(
                """
                {"name":"cut","trigger":{"type":"user_event","name":"ship"},"actions":[
                  {"type":"set_key","key":"/shipped","value":"{{payload}}"},
                  {"type":"start_deploy","manifestUrl":"https://artifacts.example/hang/manifest.yml","target":{"all":true}}]}
                """, Encoding.UTF8, "application/json"));
            Assert.True(added.IsSuccessStatusCode, await added.Content.ReadAsStringAsync());
            id = (await added.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
            using (var fired = await first.Http.PostAsync("/v1/events/ship", new StringContent("v9")))
                Assert.True(fired.IsSuccessStatusCode);
            // The deploy starter was called (and hangs): the key was set, the run is still recorded as pending.
            await Until(() => File.Exists(log), "the deploy starter being called", first);
            var key = await first.Http.GetFromJsonAsync<JsonElement>("/v2/keys/shipped");
            written = key.GetProperty("node").GetProperty("modifiedIndex").GetUInt64();
            var runs = await first.Http.GetFromJsonAsync<JsonElement>($"/v1/rules/{id}/runs");
            Assert.Equal("pending", runs[0].GetProperty("outcome").GetString());
            await first.KillAsync();
        }
        await using var second = await SiloProcess.StartAsync(data, port, environment);
        JsonElement run = default;
        await Until(async () =>
        {
            run = (await second.Http.GetFromJsonAsync<JsonElement>($"/v1/rules/{id}/runs"))[0];
            return run.GetProperty("outcome").GetString() != "pending";
        }, "the recorded run being finished", second);
        Assert.Equal("succeeded", run.GetProperty("outcome").GetString());
        Assert.Equal("skipped", run.GetProperty("actions")[0].GetProperty("outcome").GetString());
        Assert.Equal("succeeded", run.GetProperty("actions")[1].GetProperty("outcome").GetString());
        // The key was written once, before the kill; the deploy was asked for twice with one idempotency key.
        var after = await second.Http.GetFromJsonAsync<JsonElement>("/v2/keys/shipped");
        Assert.Equal(written, after.GetProperty("node").GetProperty("modifiedIndex").GetUInt64());
        var requests = File.ReadAllLines(log);
        Assert.Equal(2, requests.Length);
        Assert.Equal(requests[0], requests[1]);
    }

    private static Task Until(Func<bool> condition, string what, SiloProcess silo) => Until(() => Task.FromResult(condition()), what, silo);

    private static async Task Until(Func<Task<bool>> condition, string what, SiloProcess silo)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{what} did not happen within 30 s:\n{silo.Output}");
            await Task.Delay(50);
        }
    }
}
