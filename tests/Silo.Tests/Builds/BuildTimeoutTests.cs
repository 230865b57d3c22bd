using System.Diagnostics;
using Platform.Protocol;
using Platform.Silo.Tests.Support;
using static Platform.Silo.Tests.Builds.BuildsHttp;

namespace Platform.Silo.Tests.Builds;

/// <summary>
/// The build's own backstop of a job's timeout (docs/builds.md, "Timeouts"): an agent that started a job and then never
/// reports its end, while its connection stays healthy, does not hold the build: after the step's timeout, the cancel
/// grace and <c>Platform:Builds:TimeoutGrace</c> the job is <c>timed_out</c>, the agent is told to cancel it, and a
/// late <c>job-done</c> is acknowledged without changing anything.
/// </summary>
public sealed class BuildTimeoutTests : IAsyncLifetime
{
    private const string Secret = "timeout-hook";
    private readonly TempDir _dir = new();
    private SiloProcess _silo = null!;

    // The test's agent pings from this busy test process: a 1.2 s heartbeat deadline failed it once on a loaded run
    // (its job then `lost`, not timed out). This test is about the build's timeout, not the agent's.
    public async Task InitializeAsync()
        => _silo = await SiloProcess.StartAsync(_dir.Path, null,
            "--Platform:Builds:TimeoutGrace", "00:00:01", "--Platform:Builds:CancelGrace", "00:00:01", "--Platform:Builds:BuildCheckInterval", "00:00:01",
            "--Platform:Nodes:HeartbeatTimeout", "00:00:05");

    public async Task DisposeAsync()
    {
        await _silo.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task Job_whose_agent_never_reports_its_end_is_timed_out_by_the_build()
    {
        const string repo = "team/hung";
        await RegisterAsync(_silo.Http, repo, Secret);
        await using var agent = await SimulatedBuildAgent.ConnectAsync(_silo.Port, "hung-agent");
        var id = await PushAsync(_silo.Http, repo, "main", Secret);
        await agent.AnswerPipelineAsync(await agent.PipelineJobAsync(id), """
            steps:
              - key: hang
                run: scripts/hang.sh
                timeout: 1s
            """);
        var job = await agent.StepJobAsync(id, "hang");
        await agent.StartedAsync(job);
        await WaitForBuildAsync(_silo.Http, id, b => Job(b, "hang").GetProperty("state").GetString() == "running", "hang running");
        var clock = Stopwatch.StartNew();

        // The agent stays connected (it answers pings) but says nothing more about the job.
        var build = await WaitForBuildAsync(_silo.Http, id, b => b.GetProperty("state").GetString() is "failed" or "passed" or "canceled", "its end", TimeSpan.FromSeconds(60));
        var elapsed = clock.Elapsed;
        Assert.Equal("failed", build.GetProperty("state").GetString());
        var hang = Job(build, "hang");
        Assert.True(hang.GetProperty("state").GetString() == "timed_out", $"job {hang}");
        Assert.Contains("timed out: agent hung-agent reported no end within the step's timeout of 00:00:01 and 2 s of grace", hang.GetProperty("error").GetString());
        // Not before the timeout and both graces (3 s from job-started); the check runs every second.
        Assert.True(elapsed >= TimeSpan.FromSeconds(1.5), $"timed out after {elapsed}, before its deadline");
        var cancel = await agent.Raw.WaitForAsync<JobCancelFrame>(c => c.JobId == job.JobId && c.Attempt == job.Attempt, TimeSpan.FromSeconds(30));
        Assert.Equal(1, cancel.Attempt);

        // The agent's end, arriving late, is acknowledged and stored nowhere.
        await agent.DoneAsync(job, "passed", 0);
        var after = await BuildAsync(_silo.Http, id);
        Assert.Equal("failed", after.GetProperty("state").GetString());
        Assert.Equal("timed_out", Job(after, "hang").GetProperty("state").GetString());
    }
}
