using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests;

public sealed class SiloProcessTests
{
    [Fact]
    public async Task Writes_acknowledged_before_SIGKILL_are_present_after_restart_on_SQLite()
    {
        using var dir = new TempDir();
        var acknowledged = new List<(string Key, string Entry, long Value)>();
        await using (var silo = await SiloProcess.StartAsync(dir.Path))
        {
            // Concurrent writers over several grains, so that writes share group commits.
            var writers = Enumerable.Range(0, 8).Select(async w =>
            {
                var mine = new List<(string, string, long)>();
                for (var i = 0; i < 40; i++)
                {
                    using var r = await silo.Http.PutAsync($"/test/ledger/k{w}/e{i}/{w * 1000 + i}", null);
                    r.EnsureSuccessStatusCode();
                    mine.Add(($"k{w}", $"e{i}", w * 1000 + i));
                }
                return mine;
            });
            foreach (var list in await Task.WhenAll(writers)) acknowledged.AddRange(list);
            // The very last write is acknowledged and the process dies at once.
            using (var last = await silo.Http.PutAsync("/test/ledger/last/final/424242", null)) last.EnsureSuccessStatusCode();
            acknowledged.Add(("last", "final", 424242));
            await silo.KillAsync();
        }

        await using var restarted = await SiloProcess.StartAsync(dir.Path);
        foreach (var group in acknowledged.GroupBy(a => a.Key))
        {
            var entries = await restarted.Http.GetFromJsonAsync<Dictionary<string, long>>($"/test/ledger/{group.Key}/");
            foreach (var (_, entry, value) in group) Assert.Equal(value, entries![entry]);
        }
    }

    [Fact]
    public async Task Reminder_fires_after_a_process_restart_and_reactivates_its_grain()
    {
        using var dir = new TempDir();
        await using (var silo = await SiloProcess.StartAsync(dir.Path))
        {
            using var r = await silo.Http.PostAsync("/test/ledger/rem/reminder?periodMs=1000", null);
            r.EnsureSuccessStatusCode();
            await Eventually(async () => (await silo.Http.GetFromJsonAsync<List<DateTimeOffset>>("/test/ledger/rem/ticks"))!.Count >= 1, "first tick");
            await silo.KillAsync();
        }

        var restartedAt = DateTimeOffset.UtcNow;
        await using var restarted = await SiloProcess.StartAsync(dir.Path);
        // Nothing calls the grain: only the reminder can activate it. Once it is active, the ticks call below
        // queues behind the reminder's call that activated it, so it sees that tick.
        await Eventually(async () => (await LedgerActivationsAsync(restarted)) >= 1, "the reminder to reactivate its grain");
        var ticks = (await restarted.Http.GetFromJsonAsync<List<DateTimeOffset>>("/test/ledger/rem/ticks"))!;
        Assert.Contains(ticks, t => t > restartedAt);
    }

    [Fact]
    public async Task SIGTERM_finishes_the_in_flight_call_writes_state_and_exits_zero()
    {
        using var dir = new TempDir();
        var silo = await SiloProcess.StartAsync(dir.Path);
        await using (silo)
        {
            var inFlight = silo.Http.PutAsync("/test/ledger/term/slow/7/slowly?delayMs=4000", null);
            // The call has reached its grain (the call activated it) and is still running when SIGTERM comes.
            await Eventually(async () => (await LedgerActivationsAsync(silo)) >= 1, "the slow call to reach its grain");
            Assert.False(inFlight.IsCompleted, "the slow call finished before SIGTERM was sent");
            var exit = silo.TerminateAsync(TimeSpan.FromSeconds(30));
            using var response = await inFlight;
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(0, await exit);
            Assert.Contains("stopped", silo.Output);
        }

        await using var restarted = await SiloProcess.StartAsync(dir.Path);
        var entries = await restarted.Http.GetFromJsonAsync<Dictionary<string, long>>("/test/ledger/term/");
        Assert.Equal(7, entries!["slow"]);
    }

    [Fact]
    public async Task Cluster_endpoint_shows_the_silo_and_per_grain_type_method_statistics()
    {
        using var dir = new TempDir();
        await using var silo = await SiloProcess.StartAsync(dir.Path, null, "--silo-name", "alpha");
        for (var i = 0; i < 3; i++) (await silo.Http.PutAsync($"/test/ledger/s{i}/x/1", null)).EnsureSuccessStatusCode();

        using var doc = JsonDocument.Parse(await silo.Http.GetStringAsync("/v1/cluster"));
        var s = doc.RootElement.GetProperty("silos")[0];
        Assert.Equal("alpha", s.GetProperty("name").GetString());
        Assert.Equal("Active", s.GetProperty("status").GetString());
        var ledger = doc.RootElement.GetProperty("grainTypes").EnumerateArray().Single(g => g.GetProperty("grainType").GetString() == "ledger");
        Assert.Equal(3, ledger.GetProperty("activations").GetInt64());
        var put = ledger.GetProperty("methods").EnumerateArray().Single(m => m.GetProperty("method").GetString() == "Put");
        Assert.Equal(3, put.GetProperty("calls").GetInt64());
        Assert.True(put.GetProperty("p99Micros").GetDouble() > 0);
    }

    [Fact]
    public async Task Followed_cluster_comes_as_ndjson_lines_that_show_calls_made_between_them()
    {
        using var dir = new TempDir();
        await using var silo = await SiloProcess.StartAsync(dir.Path, null, "--silo-name", "beta");
        using var client = new HttpClient { BaseAddress = silo.Http.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var response = await client.GetAsync("/v1/cluster?follow=true", HttpCompletionOption.ResponseHeadersRead, cancel.Token);
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancel.Token));
        var first = JsonDocument.Parse((await reader.ReadLineAsync(cancel.Token))!).RootElement;
        Assert.Equal("beta", first.GetProperty("silos")[0].GetProperty("name").GetString());

        // Calls made after the first line show in a later one, with no new request.
        for (var i = 0; i < 2; i++) (await silo.Http.PutAsync($"/test/ledger/f{i}/x/1", null)).EnsureSuccessStatusCode();
        while (true)
        {
            var line = JsonDocument.Parse((await reader.ReadLineAsync(cancel.Token))!).RootElement;
            if (line.GetProperty("grainTypes").EnumerateArray().Any(g => g.GetProperty("grainType").GetString() == "ledger" && g.GetProperty("activations").GetInt64() == 2)) break;
        }
        using var bad = await silo.Http.GetAsync("/v1/cluster?follow=1");
        Assert.Equal(400, (int)bad.StatusCode);
    }

    [Fact]
    public async Task Health_endpoints_answer_live_and_ready()
    {
        using var dir = new TempDir();
        await using var silo = await SiloProcess.StartAsync(dir.Path);
        Assert.Equal(HttpStatusCode.OK, (await silo.Http.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await silo.Http.GetAsync("/health/ready")).StatusCode);
    }

    private static async Task<long> LedgerActivationsAsync(SiloProcess silo) =>
        ClusterStatus.Parse(await silo.Http.GetStringAsync("/v1/cluster")).LedgerActivations;

    private static async Task Eventually(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out waiting for {what}");
            await Task.Delay(100);
        }
    }
}

public sealed class BadConfigurationTests
{
    [Fact]
    public async Task Unwritable_data_dir_exits_non_zero_naming_the_setting()
    {
        var (code, stderr, _) = await SiloProcess.RunExpectingFailureAsync("--urls", $"http://127.0.0.1:{SiloProcess.FreePort()}", "--data-dir", "/proc/platform-cannot-write-here");
        Assert.NotEqual(0, code);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("Platform:DataDir", line);
        Assert.Contains("/proc/platform-cannot-write-here", line);
    }

    [Fact]
    public async Task Port_already_taken_exits_non_zero_naming_the_address()
    {
        using var dir = new TempDir();
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var (code, stderr, _) = await SiloProcess.RunExpectingFailureAsync("--urls", $"http://127.0.0.1:{port}", "--data-dir", dir.Path);
        Assert.NotEqual(0, code);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"127.0.0.1:{port}", line);
        Assert.Contains("address already in use", line);
    }

    [Fact]
    public async Task Unreachable_PostgreSQL_exits_non_zero_naming_the_setting_without_the_password()
    {
        var port = SiloProcess.FreePort();
        var (code, stderr, _) = await SiloProcess.RunExpectingFailureAsync("--urls", $"http://127.0.0.1:{SiloProcess.FreePort()}", "--storage", "postgres",
            "--postgres", $"Host=127.0.0.1;Port={port};Username=platform;Password=hunter2;Database=platform;Timeout=3");
        Assert.NotEqual(0, code);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("--postgres", line);
        Assert.Contains($"127.0.0.1:{port}", line);
        Assert.DoesNotContain("hunter2", line);
    }

    [Fact]
    public async Task A_deploy_history_limit_below_1_exits_non_zero_naming_the_setting()
    {
        var (code, stderr, _) = await SiloProcess.RunExpectingFailureAsync("--urls", $"http://127.0.0.1:{SiloProcess.FreePort()}", "--Platform:Deploys:HistoryPerTarget", "0");
        Assert.NotEqual(0, code);
        Assert.Contains("Platform:Deploys:HistoryPerTarget is 0; expected at least 1", stderr);
    }

    [Fact]
    public async Task Unknown_storage_kind_exits_non_zero_saying_what_is_expected()
    {
        var (code, stderr, _) = await SiloProcess.RunExpectingFailureAsync("--urls", $"http://127.0.0.1:{SiloProcess.FreePort()}", "--storage", "mongo");
        Assert.NotEqual(0, code);
        Assert.Contains("'mongo'; expected 'sqlite' or 'postgres'", stderr);
    }
}
