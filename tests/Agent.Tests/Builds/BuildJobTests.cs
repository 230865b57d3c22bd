using System.Security.Cryptography;
using System.Text;
using Platform.Agent.Configuration;
using Platform.Agent.Tests.Support;
using Platform.Builds.Running;
using Platform.Builds.Tests.Support;
using Platform.Protocol;

namespace Platform.Agent.Tests.Builds;

/// <summary>
/// Build jobs on a real agent, the silo's side played over a real WebSocket by <see cref="FakeSilo"/>: real git repositories,
/// real step processes, the frames of src/Protocol/BuildFrames.cs.
/// </summary>
public sealed class BuildJobTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly TestRepository _repo = new();

    public void Dispose()
    {
        _repo.Dispose();
        _dir.Dispose();
    }

    private AgentSettings Settings(FakeSilo silo) => new()
    {
        NodeName = "build-1",
        Tags = new Dictionary<string, string>(),
        Handlers = [],
        Address = "10.0.0.9",
        Servers = [silo.Url],
        DataDir = Path.Combine(_dir.Path, "data"),
        CoalescePeriod = TimeSpan.Zero,
        UserCoalescePeriod = TimeSpan.Zero,
        BuildSlots = 2,
    };

    private JobFrame Job(string commit, string? step, string? jobId = null, int attempt = 1) =>
        new("b-1", jobId ?? "j-" + Guid.NewGuid().ToString("N")[..8], attempt, _repo.Url, commit, "main", step, new Dictionary<string, string>(), 1000);

    private static async Task<JobDoneFrame> DoneAsync(FakeSilo silo, string jobId, int count = 1)
    {
        await Eventually.True(() => silo.ReceivedOf<JobDoneFrame>().Count(d => d.JobId == jobId) >= count, $"job-done of {jobId}", TimeSpan.FromSeconds(60));
        return silo.ReceivedOf<JobDoneFrame>().Last(d => d.JobId == jobId);
    }

    private static List<AgentFrame> FramesOf(IEnumerable<AgentFrame> frames, string jobId) => frames.Where(f => f switch
    {
        JobStartedFrame s => s.JobId == jobId,
        JobLogFrame l => l.JobId == jobId,
        JobPipelineFrame p => p.JobId == jobId,
        JobDoneFrame d => d.JobId == jobId,
        _ => false,
    }).ToList();

    private const string OneStep = """
        steps:
          - key: show
            run: scripts/show.sh
            artifacts: ["dist/*.txt"]
        """;

    [Fact]
    public async Task After_its_welcome_the_agent_says_its_build_slots_and_engine()
    {
        await using var silo = await FakeSilo.StartAsync();
        await using var agent = new NodeAgent(Settings(silo) with { BuildSlots = 3, BuildEngine = new ContainerEngine("/usr/bin/podman") });
        await agent.StartAsync();

        await Eventually.True(() => silo.ReceivedOf<JobCapacityFrame>().Any(), "job-capacity");
        Assert.Equal(new JobCapacityFrame(3, "podman"), silo.ReceivedOf<JobCapacityFrame>().Single());
    }

    [Fact]
    public async Task A_job_streams_its_log_in_order_with_offsets_and_ends_with_job_done()
    {
        await using var silo = await FakeSilo.StartAsync();
        _repo.Write(".platform/pipeline.yml", OneStep).Script("scripts/show.sh", """
            echo first line
            head -c 80000 /dev/zero | tr '\0' x
            echo
            echo last line >&2
            exit 2
            """);
        var commit = _repo.Commit();
        await using var agent = new NodeAgent(Settings(silo));
        await agent.StartAsync();
        await Eventually.True(() => silo.ReceivedOf<JobCapacityFrame>().Any(), "job-capacity");

        var job = Job(commit, "show");
        await silo.SendAsync(job);
        var done = await DoneAsync(silo, job.JobId);

        var frames = FramesOf(silo.Received, job.JobId);
        Assert.IsType<JobStartedFrame>(frames[0]);
        Assert.Same(done, frames[^1]);
        var logs = frames.OfType<JobLogFrame>().ToList();
        Assert.Equal(Enumerable.Range(1, logs.Count).Select(i => (long)i), logs.Select(l => l.Seq));
        long offset = 0;
        foreach (var chunk in logs)
        {
            Assert.Equal(offset, chunk.Offset);
            Assert.InRange(chunk.Data.Length, 1, JobLog.MaxChunkBytes);
            offset += chunk.Data.Length;
        }
        var text = Encoding.UTF8.GetString([.. logs.SelectMany(l => l.Data)]);
        Assert.Contains("\nfirst line\n" + new string('x', 80000) + "\nlast line\n", text);
        Assert.Equal(new JobDoneFrame(job.JobId, 1, "failed", 2, offset, [], "scripts/show.sh exited with status 2"), done with { Artifacts = [] });
    }

    [Fact]
    public async Task A_pipeline_job_answers_job_pipeline_with_the_file_then_job_done()
    {
        await using var silo = await FakeSilo.StartAsync();
        _repo.Write(".platform/pipeline.yml", OneStep).Script("scripts/show.sh", "true");
        var commit = _repo.Commit();
        _repo.Write(".platform/pipeline.yml", "steps:\n  - key: show\n    run: scripts/gone.sh\n");
        var broken = _repo.Commit();
        await using var agent = new NodeAgent(Settings(silo));
        await agent.StartAsync();
        await Eventually.True(() => silo.IsConnected, "the agent to connect");

        var good = Job(commit, step: null);
        await silo.SendAsync(good);
        var bad = Job(broken, step: null);
        await silo.SendAsync(bad);
        var goodDone = await DoneAsync(silo, good.JobId);
        var badDone = await DoneAsync(silo, bad.JobId);

        Assert.Equal(new JobPipelineFrame(good.JobId, 1, ".platform/pipeline.yml", OneStep, null, commit), silo.ReceivedOf<JobPipelineFrame>().First(p => p.JobId == good.JobId));
        Assert.Equal("passed", goodDone.State);
        const string error = ".platform/pipeline.yml:3:10: step 'show': run 'scripts/gone.sh' is not a file of the repository at this commit";
        Assert.Equal(new JobPipelineFrame(bad.JobId, 1, ".platform/pipeline.yml", null, error, broken), silo.ReceivedOf<JobPipelineFrame>().First(p => p.JobId == bad.JobId));
        Assert.Equal("failed", badDone.State);
        Assert.Equal(error, badDone.Error);
    }

    [Fact]
    public async Task After_a_reconnect_the_agent_resends_exactly_the_unacknowledged_log_chunks()
    {
        await using var silo = await FakeSilo.StartAsync();
        var gate = Path.Combine(_repo.Scratch, "go-on");
        _repo.Write(".platform/pipeline.yml", OneStep).Script("scripts/show.sh", $"""
            echo before the reconnect
            while [ ! -f {gate} ]; do sleep 0.05; done
            echo after the reconnect
            """);
        var commit = _repo.Commit();
        await using var agent = new NodeAgent(Settings(silo));
        await agent.StartAsync();
        await Eventually.True(() => silo.IsConnected, "the agent to connect");

        var job = Job(commit, "show");
        await silo.SendAsync(job);
        await Eventually.True(() => Encoding.UTF8.GetString([.. silo.ReceivedOf<JobLogFrame>().SelectMany(l => l.Data)]).Contains("before the reconnect"), "the first output");
        var beforeCount = silo.Received.Count;
        var sentFirst = silo.ReceivedOf<JobLogFrame>().Select(l => l.Seq).ToList();
        var last = sentFirst.Max();
        Assert.True(last >= 2, "the runner's own lines and the step's output are chunks of their own");
        // The silo stored all but the last chunk: only that one may come again.
        await silo.SendAsync(new JobLogAckFrame(job.JobId, 1, last - 1));
        await Eventually.True(() => agent.Jobs.AcknowledgedLog(job.JobId, 1) == last - 1, "the agent to take the acknowledgement");

        silo.Abort();
        await Eventually.True(() => silo.Hellos.Count == 2 && silo.IsConnected, "the agent to reconnect");
        File.WriteAllText(gate, "");
        var done = await DoneAsync(silo, job.JobId);

        // Up to the end: unacknowledged frames are sent again later on the same connection too.
        var afterReconnect = silo.Received.Skip(beforeCount).SkipWhile(f => f is not HelloFrame).TakeWhile(f => f is not JobDoneFrame)
            .OfType<JobLogFrame>().Select(l => l.Seq).ToList();
        Assert.Equal(last, afterReconnect[0]);
        Assert.Equal(Enumerable.Range((int)last, afterReconnect.Count).Select(i => (long)i), afterReconnect);
        // The log the silo assembles, each chunk kept once by its sequence number, is whole and in order.
        var stored = silo.ReceivedOf<JobLogFrame>().GroupBy(l => l.Seq).Select(g => g.First()).OrderBy(l => l.Seq).ToList();
        Assert.Equal(Enumerable.Range(1, stored.Count).Select(i => (long)i), stored.Select(l => l.Seq));
        Assert.Equal(done.LogLength, stored.Sum(l => (long)l.Data.Length));
        var text = Encoding.UTF8.GetString([.. stored.SelectMany(l => l.Data)]);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(text, "before the reconnect"));
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(text, "after the reconnect"));
        Assert.Equal("passed", done.State);
    }

    [Fact]
    public async Task Unacknowledged_log_chunks_and_job_done_are_sent_again_on_the_same_connection()
    {
        await using var silo = await FakeSilo.StartAsync();
        _repo.Write(".platform/pipeline.yml", OneStep).Script("scripts/show.sh", "echo once");
        var commit = _repo.Commit();
        await using var agent = new NodeAgent(Settings(silo));
        await agent.StartAsync();
        await Eventually.True(() => silo.IsConnected, "the agent to connect");

        var job = Job(commit, "show");
        await silo.SendAsync(job);
        await DoneAsync(silo, job.JobId);
        // Nothing is acknowledged: the silo that took the frames may have died while this connection stayed.
        await DoneAsync(silo, job.JobId, count: 2);

        Assert.Single(silo.Hellos);
        Assert.True(silo.ReceivedOf<JobLogFrame>().Count(l => l.JobId == job.JobId && l.Seq == 1) >= 2, "the first chunk came again");
        await silo.SendAsync(new JobLogAckFrame(job.JobId, 1, silo.ReceivedOf<JobLogFrame>().Where(l => l.JobId == job.JobId).Max(l => l.Seq)));
        await silo.SendAsync(new JobDoneAckFrame(job.JobId, 1));
        await Eventually.True(() => agent.Jobs.AcknowledgedLog(job.JobId, 1) == -1, "the agent to forget the acknowledged job");
    }

    [Fact]
    public async Task A_job_frame_for_a_running_attempt_brings_job_started_again()
    {
        await using var silo = await FakeSilo.StartAsync();
        var gate = Path.Combine(_repo.Scratch, "finish");
        _repo.Write(".platform/pipeline.yml", OneStep).Script("scripts/show.sh", $"while [ ! -f {gate} ]; do sleep 0.05; done");
        var commit = _repo.Commit();
        await using var agent = new NodeAgent(Settings(silo));
        await agent.StartAsync();
        await Eventually.True(() => silo.IsConnected, "the agent to connect");

        var job = Job(commit, "show");
        await silo.SendAsync(job);
        await Eventually.True(() => silo.ReceivedOf<JobStartedFrame>().Any(s => s.JobId == job.JobId), "job-started");
        await silo.SendAsync(job);
        await Eventually.True(() => silo.ReceivedOf<JobStartedFrame>().Count(s => s.JobId == job.JobId) == 2, "job-started again");
        File.WriteAllText(gate, "");

        Assert.Equal("passed", (await DoneAsync(silo, job.JobId)).State);
    }

    [Fact]
    public async Task Job_done_is_resent_on_reconnect_until_acknowledged_and_a_job_never_runs_twice_even_after_a_restart()
    {
        await using var silo = await FakeSilo.StartAsync();
        var runs = Path.Combine(_repo.Scratch, "runs");
        _repo.Write(".platform/pipeline.yml", OneStep).Script("scripts/show.sh", $"echo ran >> {runs}");
        var commit = _repo.Commit();
        var job = Job(commit, "show");
        var next = Job(commit, "show");
        await using (var agent = new NodeAgent(Settings(silo)))
        {
            await agent.StartAsync();
            await Eventually.True(() => silo.IsConnected, "the agent to connect");
            await silo.SendAsync(job);
            await DoneAsync(silo, job.JobId);

            silo.Abort();
            await DoneAsync(silo, job.JobId, count: 2);
            await silo.SendAsync(new JobDoneAckFrame(job.JobId, 1));
            // The same job again from a silo that lost track: the agent runs it no second time.
            await silo.SendAsync(job);
            await silo.SendAsync(next);
            await DoneAsync(silo, next.JobId);
            await agent.StopAsync(leave: false);
        }
        Assert.Equal(2, silo.ReceivedOf<JobDoneFrame>().Count(d => d.JobId == job.JobId));

        await using (var restarted = new NodeAgent(Settings(silo)))
        {
            await restarted.StartAsync();
            // The second job's end was never acknowledged: the restarted agent sends it again.
            await DoneAsync(silo, next.JobId, count: 2);
            await Eventually.True(() => silo.IsConnected, "the restarted agent to connect");
            await silo.SendAsync(job);
            var third = Job(commit, "show");
            await silo.SendAsync(third);
            await DoneAsync(silo, third.JobId);
        }
        Assert.Equal(1, silo.ReceivedOf<JobStartedFrame>().Count(s => s.JobId == job.JobId));
        Assert.Equal(["ran", "ran", "ran"], File.ReadAllLines(runs));
    }

    [Fact]
    public async Task Job_cancel_stops_the_step_and_its_process_group_and_ends_the_job_canceled()
    {
        await using var silo = await FakeSilo.StartAsync();
        var pids = _repo.Scratch;
        _repo.Write(".platform/pipeline.yml", OneStep).Script("scripts/show.sh", $"""
            sleep 300 &
            echo $! > {pids}/child.pid
            echo $$ > {pids}/main.pid
            wait
            """);
        var commit = _repo.Commit();
        await using var agent = new NodeAgent(Settings(silo));
        await agent.StartAsync();
        await Eventually.True(() => silo.IsConnected, "the agent to connect");

        var job = Job(commit, "show");
        await silo.SendAsync(job);
        await Eventually.True(() => File.Exists(Path.Combine(pids, "child.pid")) && File.ReadAllText(Path.Combine(pids, "child.pid")).EndsWith('\n'), "the step to start its child");
        await Eventually.True(() => File.Exists(Path.Combine(pids, "main.pid")) && File.ReadAllText(Path.Combine(pids, "main.pid")).EndsWith('\n'), "the step's pid");
        var main = int.Parse(File.ReadAllText(Path.Combine(pids, "main.pid")).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        var child = int.Parse(File.ReadAllText(Path.Combine(pids, "child.pid")).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        await silo.SendAsync(new JobCancelFrame(job.JobId, 1));

        var done = await DoneAsync(silo, job.JobId);
        Assert.Equal("canceled", done.State);
        await Eventually.True(() => Eventually.ProcessIsGone(main) && Eventually.ProcessIsGone(child), "the step and its child to be gone");
    }

    [Fact]
    public async Task A_step_s_artifacts_are_uploaded_to_the_silo_and_reported_in_job_done()
    {
        await using var silo = await FakeSilo.StartAsync();
        _repo.Write(".platform/pipeline.yml", OneStep).Script("scripts/show.sh", """
            mkdir -p dist/sub
            echo "the app, built at $PLATFORM_COMMIT" > dist/app.txt
            head -c 200000 /dev/urandom > dist/big.txt
            echo not an artifact > dist/sub/other.txt
            """);
        var commit = _repo.Commit();
        await using var agent = new NodeAgent(Settings(silo) with { Token = "agent-token" });
        await agent.StartAsync();
        await Eventually.True(() => silo.IsConnected, "the agent to connect");

        var job = Job(commit, "show");
        await silo.SendAsync(job);
        var done = await DoneAsync(silo, job.JobId);

        Assert.Equal("passed", done.State);
        Assert.Equal(["b-1/dist/app.txt", "b-1/dist/big.txt"], done.Artifacts.Select(a => a.Name));
        Assert.Equal(["b-1/dist/app.txt", "b-1/dist/big.txt"], silo.Artifacts.Keys.Order(StringComparer.Ordinal));
        Assert.Equal($"the app, built at {commit}\n", Encoding.UTF8.GetString(silo.Artifacts["b-1/dist/app.txt"]));
        foreach (var artifact in done.Artifacts)
        {
            var body = silo.Artifacts[artifact.Name];
            Assert.Equal(body.Length, artifact.Size);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(body)), artifact.Sha256);
        }
        Assert.Equal(200000, silo.Artifacts["b-1/dist/big.txt"].Length);
        Assert.All(silo.ArtifactAuthorizations, header => Assert.Equal("Bearer agent-token", header));
    }

    [Fact]
    public async Task A_job_for_a_repository_outside_build_repositories_fails_without_a_checkout()
    {
        await using var silo = await FakeSilo.StartAsync();
        _repo.Write(".platform/pipeline.yml", OneStep).Script("scripts/show.sh", "true");
        var commit = _repo.Commit();
        await using var agent = new NodeAgent(Settings(silo) with { BuildRepositories = ["https://git.example.com/*"] });
        await agent.StartAsync();
        await Eventually.True(() => silo.IsConnected, "the agent to connect");

        var job = Job(commit, "show");
        await silo.SendAsync(job);
        var done = await DoneAsync(silo, job.JobId);

        Assert.Equal("failed", done.State);
        Assert.Equal($"repository '{_repo.Url}' is not one this agent builds (build_repositories: https://git.example.com/*)", done.Error);
        Assert.DoesNotContain(silo.ReceivedOf<JobLogFrame>(), l => l.JobId == job.JobId);
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "data", "builds", "mirrors")), "nothing was fetched");
    }
}
