using Platform.Builds.Running;
using Platform.Builds.Tests.Support;

namespace Platform.Builds.Tests.Running;

/// <summary>Steps with an <c>image</c>, run by the real podman in a busybox image imported by the tests (never pulled).</summary>
public sealed class ContainerStepTests : IDisposable
{
    private readonly TestRepository _repo = new();

    public void Dispose() => _repo.Dispose();

    private JobRunner Runner() => new(new JobRunnerOptions
    {
        JobsDirectory = Path.Combine(_repo.Root, "agent", "jobs"),
        Git = new GitCheckout(Path.Combine(_repo.Root, "agent", "mirrors")),
        Engine = new ContainerEngine(BusyboxImage.Podman!, BusyboxImage.EngineEnvironment),
    });

    private JobSpec Job(string commit) =>
        new("build-1", "job-" + Guid.NewGuid().ToString("N")[..8], 1, _repo.Url, commit, "main", "show", new Dictionary<string, string> { ["SECRET"] = "s3cr3t" }, TimeSpan.FromSeconds(1));

    [PodmanFact]
    public async Task A_step_with_an_image_runs_in_a_container_with_the_checkout_its_environment_memory_and_network()
    {
        await BusyboxImage.EnsureAsync();
        _repo.Write(".platform/pipeline.yml", $$"""
            env: { FOO: bar }
            steps:
              - key: show
                run: scripts/show.sh
                args: [an-arg]
                image: {{BusyboxImage.Name}}
                memory: 64m
                network: none
            """).Script("scripts/show.sh", """
            cat version.txt
            echo "pwd=$(pwd) arg=$1 foo=$FOO secret=$SECRET key=$PLATFORM_STEP_KEY checkout=$PLATFORM_CHECKOUT_PATH ci=$CI"
            echo "nets=$(ls /sys/class/net)"
            echo "memory=$(cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"
            ls /bin/busybox
            exit 4
            """).Write("version.txt", "v1 in the checkout\n");
        var job = Job(_repo.Commit());
        var log = new LogBuffer();

        var outcome = await Runner().RunAsync(job, log.Write, CancellationToken.None);
        Assert.Equal(JobState.Failed, outcome.State);
        Assert.Equal(4, outcome.ExitStatus);
        Assert.Contains("\nv1 in the checkout\n", log.Text);
        Assert.Contains("\npwd=/workspace arg=an-arg foo=bar secret=s3cr3t key=show checkout=/workspace ci=true\n", log.Text);
        Assert.Contains("\nnets=lo\n", log.Text);
        Assert.Contains($"\nmemory={64 << 20}\n", log.Text);
        Assert.Contains("\n/bin/busybox\n", log.Text);
        Assert.False(BusyboxImage.ContainerExists(ContainerEngine.ContainerName(job.JobId, job.Attempt)), "--rm removes the container");
    }

    [PodmanFact]
    public async Task Cancel_stops_the_container_killing_it_after_the_grace_period()
    {
        await BusyboxImage.EnsureAsync();
        _repo.Write(".platform/pipeline.yml", $"""
            steps:
              - key: show
                run: scripts/show.sh
                image: {BusyboxImage.Name}
            """).Script("scripts/show.sh", "echo ready; sleep 300");
        var job = Job(_repo.Commit());
        var name = ContainerEngine.ContainerName(job.JobId, job.Attempt);
        var log = new LogBuffer();
        using var cancel = new CancellationTokenSource();

        var run = Runner().RunAsync(job, log.Write, cancel.Token);
        await Poll.Until(() => log.Text.Contains("\nready\n"), "the step to start in its container");
        Assert.True(BusyboxImage.ContainerExists(name));
        await cancel.CancelAsync();

        var outcome = await run;
        Assert.Equal(JobState.Canceled, outcome.State);
        await Poll.Until(() => !BusyboxImage.ContainerExists(name), $"container {name} to be gone");
    }
}
