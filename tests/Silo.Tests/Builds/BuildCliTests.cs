using System.Text.Json;
using System.Text.RegularExpressions;
using Platform.Client;
using Platform.Silo.Tests.Etcd;
using Platform.Silo.Tests.Nodes.AgentApi;
using Platform.Silo.Tests.Support;
using static Platform.Silo.Tests.Builds.BuildsHttp;

namespace Platform.Silo.Tests.Builds;

/// <summary>
/// <c>platform build start|list|show|log -f|cancel|retry</c> as the real command against a real silo process with a real
/// <c>platform agent</c> building a real git repository; and the SDK's <c>GetQueueAsync</c>.
/// </summary>
public sealed partial class BuildCliTests : IAsyncLifetime
{
    // Fails while WORK/fail exists; otherwise prints a line, waits for WORK/release, prints another and passes.
    private const string Work = """
        #!/bin/sh
        if [ -f "$1/fail" ]; then echo "failing on purpose"; exit 3; fi
        echo "first line of attempt $PLATFORM_JOB_ATTEMPT"
        while [ ! -f "$1/release" ]; do sleep 0.05; done
        echo "second line, after the release"

        """;

    private readonly TempDir _work = new();
    private AgentProcessFleet _fleet = null!;
    private string _agent = null!;

    public async Task InitializeAsync()
    {
        _fleet = await AgentProcessFleet.StartAsync();
        _agent = "builder-" + _fleet.Suffix;
        await _fleet.StartAgentAsync(_agent, new() { ["build_slots"] = 1 });
    }

    public async Task DisposeAsync()
    {
        if (_fleet is not null) await _fleet.DisposeAsync();
        _work.Dispose();
    }

    private string Release => Path.Combine(_work.Path, "release");

    private string Fail => Path.Combine(_work.Path, "fail");

    [Fact]
    public async Task Build_start_runs_the_build_list_and_show_show_it_and_log_follow_prints_a_running_job_to_its_end()
    {
        var commit = await RegisterAsync("team/cli-run", "");

        var started = await PlatformAsync("build", "start", "team/cli-run", "--branch", "main", "--commit", commit);
        var id = BuildLine().Match(started.StdOut.Trim()) is { Success: true } m ? m.Groups[1].Value : throw new Xunit.Sdk.XunitException($"no build line: {started}");
        // The agent is idle, so the pipeline job may already be running when the reply is written.
        Assert.Matches(@"^build team/cli-run/1 (scheduled|running)\n$", started.StdOut);
        await RunningAsync(id);

        await using var follower = PlatformCommand.Start(Environment(), "build", "log", "-f", id, "work");
        Assert.True(await follower.StdOut.WaitForTextAsync("first line of attempt 1", TimeSpan.FromSeconds(60)), $"log -f printed: {follower.StdOut.Text} {follower.StdErr.Text}");
        Assert.False(follower.Exited.IsCompleted, "log -f ended while the job still ran");
        File.WriteAllText(Release, "");
        var followed = await follower.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.True(followed.ExitCode == 0, followed.ToString());
        Assert.Contains("second line, after the release", followed.StdOut);
        Assert.Contains("~~~ platform: scripts/work.sh exited with status 0", followed.StdOut);
        await PassedAsync(id);

        var list = await PlatformAsync("build", "list", "--repo", "team/cli-run");
        var row = Assert.Single(list.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Matches($@"^{Regex.Escape(id)}\s+passed\s+main\s+{commit[..12]} ", row);

        var show = await PlatformAsync("build", "show", id);
        Assert.StartsWith($"build {id}: passed, main at {commit} (api", show.StdOut);
        Assert.Matches($@"\n  ~pipeline\s+passed\s+attempt 1 on {_agent}", show.StdOut);
        Assert.Matches($@"\n  work\s+passed\s+attempt 1 on {_agent} exit 0", show.StdOut);
        var refused = await PlatformCommand.RunAsync(Environment(), "build", "retry", id);
        Assert.True(refused.ExitCode == 1 && refused.StdErr.StartsWith($"Error in build retry: build {id} passed; there is nothing to retry", StringComparison.Ordinal)
            && refused.StdErr.Contains("HTTP 409"), refused.ToString());
        var json = JsonDocument.Parse((await PlatformAsync("build", "show", id, "--format", "json")).StdOut).RootElement;
        Assert.Equal(commit, json.GetProperty("commit").GetString());
        Assert.Equal("passed", json.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Build_cancel_stops_a_running_build_and_retry_runs_a_failed_build_again_until_it_passes()
    {
        var commit = await RegisterAsync("team/cli-retry", "");

        var running = await StartWithCliAsync("team/cli-retry", commit);
        await RunningAsync(running);
        var cancel = await PlatformAsync("build", "cancel", running);
        Assert.Matches($"^build {Regex.Escape(running)} (canceling|canceled)\n$", cancel.StdOut);
        await EndedAsync(running, "canceled");
        // Cancelling a build that has ended changes nothing and is no error.
        Assert.Equal($"build {running} canceled\n", (await PlatformAsync("build", "cancel", running)).StdOut);

        File.WriteAllText(Fail, "");
        File.WriteAllText(Release, "");
        var failing = await StartWithCliAsync("team/cli-retry", commit);
        await EndedAsync(failing, "failed");
        Assert.Matches(@"\n  work\s+failed\s+attempt 1 on \S+ exit 3", (await PlatformAsync("build", "show", failing)).StdOut);
        Assert.Contains("failing on purpose", (await PlatformAsync("build", "log", failing, "work")).StdOut);

        File.Delete(Fail);
        var retry = await PlatformAsync("build", "retry", failing);
        Assert.StartsWith($"build {failing} ", retry.StdOut);
        var build = await EndedAsync(failing, "passed");
        Assert.Equal(2, Job(build, "work").GetProperty("attempt").GetInt32());
        Assert.Contains("first line of attempt 2", (await PlatformAsync("build", "log", failing, "work")).StdOut);
        Assert.Contains("failing on purpose", (await PlatformAsync("build", "log", failing, "work", "--attempt", "1")).StdOut);
        var states = (await PlatformAsync("build", "list", "--repo", "team/cli-retry", "--state", "canceled")).StdOut;
        Assert.Matches($@"^{Regex.Escape(running)}\s+canceled\s", states);
    }

    [Fact]
    public async Task Sdk_queue_shows_the_real_agent_and_a_job_waiting_for_tags_no_agent_has_with_the_reason()
    {
        var commit = await RegisterAsync("team/cli-queue", "    agents: { os: plan9 }");
        var id = await StartWithCliAsync("team/cli-queue", commit);
        using var client = new PlatformClient(new PlatformClientOptions { Urls = [new Uri(_fleet.SiloUrl)] });

        BuildQueue queue = null!;
        await _fleet.UntilAsync(async () => (queue = await client.GetQueueAsync()).Waiting.Any(w => w.Ticket.BuildId == id), $"{id}/work waiting in the queue");
        var waiting = queue.Waiting.Single(w => w.Ticket.BuildId == id);
        Assert.Equal($"{id}/work", waiting.Ticket.JobId);
        Assert.Equal(1, waiting.Ticket.Attempt);
        Assert.Equal("team/cli-queue", waiting.Ticket.Repository);
        Assert.Equal("plan9", waiting.Ticket.Agents!["os"]);
        Assert.Contains("os=plan9", waiting.Reason);
        var agent = Assert.Single(queue.Agents, a => a.Name == _agent);
        Assert.Equal(1, agent.Slots);
        Assert.Empty(queue.Running);

        await client.CancelBuildAsync(id);
        await _fleet.UntilAsync(async () => (await client.GetQueueAsync()).Waiting.All(w => w.Ticket.BuildId != id), "the cancelled job gone from the queue");
    }

    [GeneratedRegex(@"^build (\S+) (\w+)$")]
    private static partial Regex BuildLine();

    private Dictionary<string, string> Environment() => new() { ["PLATFORM_URL"] = _fleet.SiloUrl, ["PLATFORM_TOKEN"] = "" };

    /// <summary>Runs <c>platform ARGS</c>; fails the test unless it exits 0.</summary>
    private async Task<ProcessResult> PlatformAsync(params string[] args)
    {
        var result = await PlatformCommand.RunAsync(Environment(), args);
        Assert.True(result.ExitCode == 0, $"platform {string.Join(' ', args)}: {result}");
        return result;
    }

    private async Task<string> StartWithCliAsync(string repo, string commit)
    {
        var started = await PlatformAsync("build", "start", repo, "--commit", commit);
        return BuildLine().Match(started.StdOut.Trim()) is { Success: true } m ? m.Groups[1].Value : throw new Xunit.Sdk.XunitException($"no build line: {started}");
    }

    /// <summary>Registers <paramref name="repo"/> with a pipeline of one step <c>work</c> (plus <paramref name="stepExtra"/>); answers the commit.</summary>
    private async Task<string> RegisterAsync(string repo, string stepExtra)
    {
        var (url, commit) = BareRepository.Create(_work.Path, repo.Replace('/', '-'), $"""
            steps:
              - key: work
                run: scripts/work.sh
                args: [{_work.Path}]
            {stepExtra}
            """, new Dictionary<string, string> { ["scripts/work.sh"] = Work });
        using var r = await _fleet.Http.PutAsync($"/v1/repos/{repo}", JsonContent(new { cloneUrl = url, secret = "unused" }));
        Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
        return commit;
    }

    private static StringContent JsonContent(object value) => new(JsonSerializer.Serialize(value), System.Text.Encoding.UTF8, "application/json");

    private Task RunningAsync(string id) => _fleet.UntilAsync(async () =>
        (await BuildAsync(_fleet.Http, id)).GetProperty("jobs").EnumerateArray().Any(j => j.GetProperty("key").GetString() == "work" && j.GetProperty("state").GetString() == "running"),
        $"{id}/work running");

    private Task<JsonElement> PassedAsync(string id) => EndedAsync(id, "passed");

    private async Task<JsonElement> EndedAsync(string id, string state)
    {
        var build = await WaitForBuildAsync(_fleet.Http, id, b => b.GetProperty("state").GetString() is "passed" or "failed" or "canceled", "its end", TimeSpan.FromSeconds(60));
        Assert.True(build.GetProperty("state").GetString() == state, $"build {id} is not {state}: {build}\n{_fleet.Diagnostics()}");
        return build;
    }
}
