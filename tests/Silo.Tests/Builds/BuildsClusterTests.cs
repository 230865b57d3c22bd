using System.Net.Http.Json;
using System.Text.Json;
using Platform.Runtime.Tests.Support;
using Platform.Silo.Tests.Support;
using Xunit.Abstractions;
using static Platform.Silo.Tests.Builds.BuildsHttp;

namespace Platform.Silo.Tests.Builds;

/// <summary>Builds in a cluster of two silo processes on PostgreSQL: a build outlives the silo that held it, and the queue the silo that held the queue.</summary>
[Collection(PostgresCollection.Name)]
public sealed class BuildsClusterTests(PostgresFixture postgres, ITestOutputHelper output)
{
    private const string Secret = "cluster-hook-secret";

    /// <summary>
    /// These tests are about builds across a silo's death, not failure detection: the test's agent pings from this
    /// busy test process every 500 ms, and a 1.2 s deadline failed it once while the surviving silo took over.
    /// </summary>
    private static readonly string[] SlowHeartbeat = ["--Platform:Nodes:HeartbeatTimeout", "00:00:05"];

    [Fact]
    public async Task Build_whose_silo_is_killed_goes_on_from_its_stored_state_and_no_job_is_dispatched_twice()
    {
        var connection = await postgres.DatabaseForAsync(nameof(Build_whose_silo_is_killed_goes_on_from_its_stored_state_and_no_job_is_dispatched_twice));
        await using var cluster = new SiloClusterProcesses(connection, 2, output, extraArgs: _ => SlowHeartbeat);
        // One after the other: two silos starting together on a loaded 2-core machine may judge each other dead.
        await cluster.StartAsync(0);
        await cluster.StartAsync(1);
        await cluster.WaitForAsync([0, 1], (_, s) => s.ActiveCount == 2, TimeSpan.FromSeconds(30), "both silos active");
        const string repo = "team/durable";
        await RegisterAsync(cluster[0].Http, repo, Secret);
        var id = await PushAsync(cluster[0].Http, repo, "main", Secret);

        // The silo holding the build's grain is killed; the agent is connected to the other one.
        var holder = await HolderOfAsync(cluster, "build");
        var survivor = 1 - holder;
        output.WriteLine($"build {id} is held by silo{holder}; the agent connects to silo{survivor}");
        await using var agent = await SimulatedBuildAgent.ConnectAsync(cluster.HttpPorts[survivor], "durable-agent");
        await agent.AnswerPipelineAsync(await agent.PipelineJobAsync(id), """
            steps:
              - key: compile
                run: scripts/compile.sh
              - key: test
                run: scripts/test.sh
                depends_on: compile
            """);
        var compile = await agent.StepJobAsync(id, "compile");
        await agent.StartedAsync(compile);
        await agent.LogAsync(compile, 1, 0, "before the kill\n");
        await WaitForBuildAsync(cluster[holder].Http, id, b => Job(b, "compile").GetProperty("state").GetString() == "running", "compile running");

        await cluster[holder].KillAsync();
        await agent.LogAsync(compile, 2, 16, "after the kill\n");
        await agent.DoneAsync(compile, "passed", 0, 31);
        var test = await agent.StepJobAsync(id, "test");
        await agent.RunAsync(test, "tested\n");

        var http = cluster.Client(survivor);
        var build = await WaitForBuildAsync(http, id, b => b.GetProperty("state").GetString() == "passed", "passed", TimeSpan.FromSeconds(90));
        Assert.Equal(1, Job(build, "compile").GetProperty("attempt").GetInt32());
        Assert.Equal(1, Job(build, "test").GetProperty("attempt").GetInt32());
        Assert.Equal("before the kill\nafter the kill\n", await LogAsync(http, id, "compile"));
        var jobs = agent.Jobs(id);
        Assert.Single(jobs, j => j.Step == "compile");
        Assert.Single(jobs, j => j.Step == "test");
        Assert.All(jobs, j => Assert.Equal(1, j.Attempt));
        cluster.Passed = true;
    }

    [Fact]
    public async Task Queue_whose_silo_is_killed_goes_on_and_dispatches_the_job_that_waited_once()
    {
        var connection = await postgres.DatabaseForAsync(nameof(Queue_whose_silo_is_killed_goes_on_and_dispatches_the_job_that_waited_once));
        await using var cluster = new SiloClusterProcesses(connection, 2, output, extraArgs: _ => SlowHeartbeat);
        await cluster.StartAsync(0);
        await cluster.StartAsync(1);
        await cluster.WaitForAsync([0, 1], (_, s) => s.ActiveCount == 2, TimeSpan.FromSeconds(30), "both silos active");
        const string repo = "team/queued";
        await RegisterAsync(cluster[0].Http, repo, Secret);
        var first = await PushAsync(cluster[0].Http, repo, "main", Secret);

        // The agent (one slot) connects to the silo that does not hold the queue, and runs the first build's step.
        var holder = await HolderOfAsync(cluster, "buildqueue");
        var survivor = 1 - holder;
        output.WriteLine($"the queue is held by silo{holder}; the agent connects to silo{survivor}");
        var http = cluster.Client(survivor);
        await using var agent = await SimulatedBuildAgent.ConnectAsync(cluster.HttpPorts[survivor], "queue-agent", slots: 1);
        await agent.AnswerPipelineAsync(await agent.PipelineJobAsync(first), """
            steps:
              - key: compile
                run: scripts/compile.sh
            """);
        var compile = await agent.StepJobAsync(first, "compile");
        await agent.StartedAsync(compile);

        // A second build waits for the slot; then the queue's silo dies with the job still waiting in it.
        var second = await PushAsync(http, repo, "release", Secret, "1123456789abcdef0123456789abcdef01234567");
        await WaitForQueuedAsync(http, second);
        await cluster[holder].KillAsync();

        // The slot frees: the queue, back on the survivor from its stored state, dispatches the waiting job, once.
        await agent.RunAsync(compile, "compiled\n");
        await agent.AnswerPipelineAsync(await agent.PipelineJobAsync(second), """
            steps:
              - key: pack
                run: scripts/pack.sh
            """);
        await agent.RunAsync(await agent.StepJobAsync(second, "pack"), "packed\n");
        await WaitForBuildAsync(http, first, b => b.GetProperty("state").GetString() == "passed", "the first build passed", TimeSpan.FromSeconds(90));
        await WaitForBuildAsync(http, second, b => b.GetProperty("state").GetString() == "passed", "the second build passed", TimeSpan.FromSeconds(90));
        Assert.Single(agent.Jobs(second), j => j.Step is null);
        Assert.Single(agent.Jobs(second), j => j.Step == "pack");
        Assert.Single(agent.Jobs(first), j => j.Step == "compile");
        Assert.All(agent.Jobs(first).Concat(agent.Jobs(second)), j => Assert.Equal(1, j.Attempt));
        cluster.Passed = true;
    }

    /// <summary>Waits until <paramref name="buildId"/>'s pipeline job waits in the queue (GET /v1/queue lists it).</summary>
    private static async Task WaitForQueuedAsync(HttpClient http, string buildId)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!(await http.GetStringAsync("/v1/queue")).Contains(buildId, StringComparison.Ordinal))
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(30)) throw new TimeoutException($"build {buildId} not in the queue within 30 s: {await http.GetStringAsync("/v1/queue")}");
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// The silo whose /v1/cluster counts an activation of <paramref name="grainType"/> (the test makes only one). The
    /// push that leads to it may answer before the grain is activated (the build hands its job to the queue after
    /// it is stored), so this waits for it.
    /// </summary>
    private static async Task<int> HolderOfAsync(SiloClusterProcesses cluster, string grainType)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            for (var i = 0; i < cluster.Count; i++)
            {
                var status = await cluster.Client(i).GetFromJsonAsync<JsonElement>("/v1/cluster");
                foreach (var type in status.GetProperty("grainTypes").EnumerateArray())
                    if (type.GetProperty("grainType").GetString() == grainType && type.GetProperty("activations").GetInt64() > 0) return i;
            }
            if (clock.Elapsed > TimeSpan.FromSeconds(30)) throw new InvalidOperationException($"no silo held a grain of type '{grainType}' within 30 s");
            await Task.Delay(50);
        }
    }
}
