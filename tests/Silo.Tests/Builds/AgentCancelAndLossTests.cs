using System.Net.Http.Json;
using System.Text.Json;
using Platform.Silo.Tests.Nodes.AgentApi;
using Platform.Silo.Tests.Support;
using static Platform.Silo.Tests.Builds.BuildsHttp;

namespace Platform.Silo.Tests.Builds;

/// <summary>
/// Cancel and agent loss end to end: a real silo process, real <c>platform agent</c> processes and a real git repository
/// whose step writes the pids of its shell and of a child it started in the background, then waits.
/// </summary>
public sealed class AgentCancelAndLossTests : IAsyncLifetime
{
    // Writes the child's pid, then its own, each as a whole line (the test waits for both), then waits for the child.
    private const string Sleeper = """
        #!/bin/sh
        if [ "$PLATFORM_JOB_ATTEMPT" = 1 ]; then
          sleep 300 &
          echo $! > "$1/child.pid.new" && mv "$1/child.pid.new" "$1/child.pid"
          echo $$ > "$1/step.pid.new" && mv "$1/step.pid.new" "$1/step.pid"
          echo "attempt 1 sleeping"
          wait
        fi
        echo "attempt $PLATFORM_JOB_ATTEMPT passes"

        """;

    private readonly TempDir _work = new();
    private AgentProcessFleet _fleet = null!;

    private string StepPidFile => Path.Combine(_work.Path, "step.pid");

    private string ChildPidFile => Path.Combine(_work.Path, "child.pid");

    // A lost job is found by the build's check, every second here instead of every 5 s.
    public async Task InitializeAsync() => _fleet = await AgentProcessFleet.StartAsync("--Platform:Builds:BuildCheckInterval", "00:00:01");

    public async Task DisposeAsync()
    {
        // Should a step outlive its test (a failed one), end what it started.
        foreach (var file in new[] { StepPidFile, ChildPidFile })
            if (ProcessTable.ReadPid(file) is { } pid && ProcessTable.IsAlive(pid)) Posix.Kill(pid, 9);
        if (_fleet is not null) await _fleet.DisposeAsync();
        _work.Dispose();
    }

    [Fact]
    public async Task Cancel_through_the_api_stops_the_real_agents_step_and_every_process_of_its_group()
    {
        await _fleet.StartAgentAsync("builder-" + _fleet.Suffix, new() { ["build_slots"] = 1 });
        var id = await StartAsync("team/cancelled", "");

        var (step, child) = await RunningAsync(id);
        Assert.True(ProcessTable.IsAlive(step) && ProcessTable.IsAlive(child), "the step's shell and its child run before the cancel");
        using (var cancel = await _fleet.Http.PostAsync($"/v1/builds/{id}/cancel", null))
            Assert.True(cancel.IsSuccessStatusCode, await cancel.Content.ReadAsStringAsync());

        var build = await EndedAsync(id);
        Assert.True(build.GetProperty("state").GetString() == "canceled", $"build {build}\n{_fleet.Diagnostics()}");
        Assert.Equal("canceled", Job(build, "sleep").GetProperty("state").GetString());
        // The step's shell is the group leader (setsid): nothing of its group is left, the background sleep included.
        await _fleet.UntilAsync(() => !ProcessTable.IsAlive(step) && !ProcessTable.IsAlive(child) && ProcessTable.GroupMembers(step).Count == 0,
            $"the step's group {step} gone (left: {string.Join(", ", ProcessTable.GroupMembers(step))})");
        Assert.Contains("attempt 1 sleeping", await LogAsync(_fleet.Http, id, "sleep"));
    }

    [Fact]
    public async Task Job_of_a_real_agent_killed_with_sigkill_is_lost_and_retried_on_a_second_real_agent_where_it_passes()
    {
        var agents = new Dictionary<string, Nodes.Serf.NodeProcess>(StringComparer.Ordinal);
        foreach (var name in new[] { "first-" + _fleet.Suffix, "second-" + _fleet.Suffix })
            agents[name] = await _fleet.StartAgentAsync(name, new() { ["build_slots"] = 1 });
        var id = await StartAsync("team/lost", """
                retry:
                  automatic:
                    - exit_status: -1
                      limit: 1
            """);

        var (step, child) = await RunningAsync(id);
        var holder = Job(await BuildAsync(_fleet.Http, id), "sleep").GetProperty("agent").GetString()!;
        await agents[holder].KillAsync();
        // The agent cannot stop its step when it is killed: the step's group goes with it all the same, so the lost
        // attempt never runs beside its retry.
        await _fleet.UntilAsync(() => !ProcessTable.IsAlive(step) && !ProcessTable.IsAlive(child) && ProcessTable.GroupMembers(step).Count == 0,
            $"the killed agent's step group {step} gone (left: {string.Join(", ", ProcessTable.GroupMembers(step))})");

        var build = await EndedAsync(id);
        var job = Job(build, "sleep");
        Assert.True(build.GetProperty("state").GetString() == "passed", $"build {build}\n{_fleet.Diagnostics()}");
        Assert.Equal(2, job.GetProperty("attempt").GetInt32());
        Assert.Equal("lost", job.GetProperty("history")[0].GetProperty("state").GetString());
        Assert.Equal(holder, job.GetProperty("history")[0].GetProperty("agent").GetString());
        Assert.Equal(agents.Keys.Single(a => a != holder), job.GetProperty("agent").GetString());
        Assert.Contains("attempt 2 passes", await LogAsync(_fleet.Http, id, "sleep"));
    }

    /// <summary>Registers <paramref name="repo"/> with a one-step pipeline running the sleeper (plus <paramref name="stepExtra"/>) and starts a build.</summary>
    private async Task<string> StartAsync(string repo, string stepExtra)
    {
        var (url, commit) = BareRepository.Create(_work.Path, "app", $"""
            steps:
              - key: sleep
                run: scripts/sleeper.sh
                args: [{_work.Path}]
            {stepExtra}
            """, new Dictionary<string, string> { ["scripts/sleeper.sh"] = Sleeper });
        return await StartBuildAsync(_fleet.Http, repo, url, commit);
    }

    /// <summary>Waits until the step job is running and its shell and child wrote their pids; answers them.</summary>
    private async Task<(int Step, int Child)> RunningAsync(string id)
    {
        await _fleet.UntilAsync(async () => ProcessTable.ReadPid(StepPidFile) is not null
            && Job(await BuildAsync(_fleet.Http, id), "sleep").GetProperty("state").GetString() == "running", "the step running with its pids written");
        return (ProcessTable.ReadPid(StepPidFile)!.Value, ProcessTable.ReadPid(ChildPidFile)!.Value);
    }

    private async Task<JsonElement> EndedAsync(string id)
    {
        try
        {
            return await WaitForBuildAsync(_fleet.Http, id, b => b.GetProperty("state").GetString() is "passed" or "failed" or "canceled", "its end",
                TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}\n{_fleet.Diagnostics()}", e);
        }
    }
}
