using Platform.Builds.Running;
using Platform.Builds.Tests.Support;

namespace Platform.Builds.Tests.Running;

/// <summary>The job runner with real git repositories (a bare remote over file://), real processes and real signals.</summary>
public sealed class JobRunnerTests : IDisposable
{
    private readonly TestRepository _repo = new();

    public void Dispose() => _repo.Dispose();

    private JobRunner Runner() => new(new JobRunnerOptions
    {
        JobsDirectory = Path.Combine(_repo.Root, "agent", "jobs"),
        Git = new GitCheckout(Path.Combine(_repo.Root, "agent", "mirrors")),
    });

    private JobSpec Job(string commit, string? step, Dictionary<string, string>? env = null, TimeSpan? grace = null) =>
        new("build-7", "job-" + Guid.NewGuid().ToString("N")[..8], 2, _repo.Url, commit, "main", step, env ?? [], grace ?? TimeSpan.FromSeconds(1));

    private async Task<(JobOutcome Outcome, string Log)> RunAsync(JobSpec job, CancellationToken cancellationToken = default)
    {
        var log = new LogBuffer();
        var outcome = await Runner().RunAsync(job, log.Write, cancellationToken);
        return (outcome, log.Text);
    }

    private const string OneStep = """
        steps:
          - key: show
            run: scripts/show.sh
        """;

    [Fact]
    public async Task A_job_checks_out_the_exact_commit_not_the_branch_head()
    {
        _repo.Write(".platform/pipeline.yml", OneStep).Script("scripts/show.sh", "cat version.txt").Write("version.txt", "first\n");
        var first = _repo.Commit("first");
        _repo.Write("version.txt", "second\n");
        var second = _repo.Commit("second");

        var (outcome, log) = await RunAsync(Job(first, "show"));
        Assert.Equal(JobState.Passed, outcome.State);
        Assert.Equal(0, outcome.ExitStatus);
        Assert.Contains("\nfirst\n", log);
        Assert.DoesNotContain("second", log);

        // The same repository again (its mirror reused) at the head.
        (outcome, log) = await RunAsync(Job(second, "show"));
        Assert.Equal(JobState.Passed, outcome.State);
        Assert.Contains("\nsecond\n", log);
    }

    [Fact]
    public async Task A_commit_the_repository_does_not_have_fails_the_job_naming_it()
    {
        _repo.Write(".platform/pipeline.yml", OneStep).Script("scripts/show.sh", "true");
        _repo.Commit();
        const string missing = "0123456789abcdef0123456789abcdef01234567";

        var (outcome, log) = await RunAsync(Job(missing, "show"));
        Assert.Equal(JobState.Failed, outcome.State);
        Assert.Null(outcome.ExitStatus);
        Assert.Equal($"commit '{missing}' does not exist in repository '{_repo.Url}'", outcome.Error);
        Assert.Contains(outcome.Error!, log);

        (outcome, _) = await RunAsync(Job("--upload-pack=touch /tmp/x", "show"));
        Assert.Equal(JobState.Failed, outcome.State);
        Assert.StartsWith("commit '--upload-pack=touch /tmp/x' is not a commit id", outcome.Error);
    }

    [Fact]
    public async Task A_pipeline_job_answers_the_file_and_its_text()
    {
        _repo.Write(".platform/pipeline.yml", OneStep).Script("scripts/show.sh", "true");
        var commit = _repo.Commit();

        var (outcome, _) = await RunAsync(Job(commit, step: null));
        Assert.Equal(JobState.Passed, outcome.State);
        Assert.Equal(new PipelineAnswer(".platform/pipeline.yml", OneStep, null, commit), outcome.Pipeline);
    }

    [Fact]
    public async Task A_pipeline_that_names_a_missing_file_answers_file_line_and_column()
    {
        _repo.Write(".platform/pipeline.yml", """
            steps:
              - key: show
                run: scripts/missing.sh
            """);
        var commit = _repo.Commit();

        var (outcome, log) = await RunAsync(Job(commit, step: null));
        const string error = ".platform/pipeline.yml:3:10: step 'show': run 'scripts/missing.sh' is not a file of the repository at this commit";
        Assert.Equal(JobState.Failed, outcome.State);
        Assert.Equal(new PipelineAnswer(".platform/pipeline.yml", null, error, commit), outcome.Pipeline);
        Assert.Contains(error, log);
    }

    [Fact]
    public async Task A_step_not_in_the_pipeline_or_not_executable_fails_with_the_reason()
    {
        _repo.Write(".platform/pipeline.yml", OneStep).Write("scripts/show.sh", "#!/bin/sh\ntrue\n");
        var commit = _repo.Commit();

        var (outcome, _) = await RunAsync(Job(commit, "deploy"));
        Assert.Equal(JobState.Failed, outcome.State);
        Assert.Equal($"step 'deploy' is not in .platform/pipeline.yml at commit {commit} (steps: show)", outcome.Error);

        (outcome, _) = await RunAsync(Job(commit, "show"));
        Assert.Equal(JobState.Failed, outcome.State);
        Assert.Equal("step 'show': run 'scripts/show.sh' is not executable; make it so in the repository (git update-index --chmod=+x scripts/show.sh)", outcome.Error);
    }

    [Fact]
    public async Task A_step_sees_the_platform_variables_and_the_pipeline_step_and_build_environment()
    {
        _repo.Write(".platform/pipeline.yml", """
            env: { FROM_PIPELINE: p, SHARED: pipeline }
            steps:
              - key: show
                label: Show the environment
                run: scripts/show.sh
                args: [one, "two words"]
                env: { FROM_STEP: s, SHARED: step }
            """).Script("scripts/show.sh", "echo \"args=$1|$2\"; echo \"pwd=$(pwd)\"; env | sort");
        var commit = _repo.Commit();
        Environment.SetEnvironmentVariable("PLATFORM_RUNNER_TEST_SECRET", "must-not-leak");

        var job = Job(commit, "show", new Dictionary<string, string> { ["FROM_BUILD"] = "b", ["PLATFORM_BUILD_ID"] = "forged" });
        var (outcome, log) = await RunAsync(job);
        Assert.Equal(JobState.Passed, outcome.State);
        var checkout = Path.Combine(_repo.Root, "agent", "jobs", job.JobId + ".2");
        foreach (var line in new[]
        {
            "args=one|two words", $"pwd={checkout}", "CI=true", "PLATFORM=true", "PLATFORM_BUILD_ID=build-7", $"PLATFORM_JOB_ID={job.JobId}",
            "PLATFORM_JOB_ATTEMPT=2", $"PLATFORM_REPOSITORY={_repo.Url}", "PLATFORM_BRANCH=main", $"PLATFORM_COMMIT={commit}",
            "PLATFORM_STEP_KEY=show", "PLATFORM_STEP_LABEL=Show the environment", "PLATFORM_PIPELINE_FILE=.platform/pipeline.yml",
            $"PLATFORM_CHECKOUT_PATH={checkout}", "FROM_PIPELINE=p", "FROM_STEP=s", "FROM_BUILD=b", "SHARED=step",
        })
            Assert.Contains("\n" + line + "\n", log);
        Assert.DoesNotContain("must-not-leak", log);
        Assert.DoesNotContain("forged", log);
        Assert.False(Directory.Exists(checkout), "the work tree is removed when the job ends");
    }

    [Fact]
    public async Task A_step_that_exits_non_zero_fails_with_its_status()
    {
        _repo.Write(".platform/pipeline.yml", OneStep).Script("scripts/show.sh", "echo to stderr >&2; exit 3");
        var (outcome, log) = await RunAsync(Job(_repo.Commit(), "show"));
        Assert.Equal(JobState.Failed, outcome.State);
        Assert.Equal(3, outcome.ExitStatus);
        Assert.Equal("scripts/show.sh exited with status 3", outcome.Error);
        Assert.Contains("\nto stderr\n", log);
    }

    [Fact]
    public async Task Cancel_kills_the_step_and_every_process_of_its_group()
    {
        var pids = _repo.Scratch;
        _repo.Write(".platform/pipeline.yml", OneStep).Script("scripts/show.sh", $"""
            sleep 300 &
            echo $! > {pids}/child.pid
            echo $$ > {pids}/main.pid
            wait
            """);
        using var cancel = new CancellationTokenSource();
        var run = RunAsync(Job(_repo.Commit(), "show"), cancel.Token);
        var main = await Poll.PidFile(Path.Combine(pids, "main.pid"));
        var child = await Poll.PidFile(Path.Combine(pids, "child.pid"));

        await cancel.CancelAsync();
        var (outcome, _) = await run;
        Assert.Equal(JobState.Canceled, outcome.State);
        Assert.Equal(128 + 15, outcome.ExitStatus);
        await Poll.Until(() => Poll.ProcessIsGone(main) && Poll.ProcessIsGone(child), "the step and its child sleep to be gone");
    }

    [Fact]
    public async Task A_step_that_traps_SIGTERM_is_killed_with_SIGKILL_after_the_grace_period()
    {
        var pids = _repo.Scratch;
        _repo.Write(".platform/pipeline.yml", OneStep).Script("scripts/show.sh", $"""
            trap 'echo got TERM, staying' TERM
            echo $$ > {pids}/main.pid
            while :; do sleep 1; done
            """);
        using var cancel = new CancellationTokenSource();
        // The grace must outlast the shell's wait for a core on a loaded machine: it runs the trap only once scheduled.
        var run = RunAsync(Job(_repo.Commit(), "show", grace: TimeSpan.FromSeconds(5)), cancel.Token);
        var main = await Poll.PidFile(Path.Combine(pids, "main.pid"));

        await cancel.CancelAsync();
        var (outcome, log) = await run;
        Assert.Equal(JobState.Canceled, outcome.State);
        Assert.Equal(128 + 9, outcome.ExitStatus);
        Assert.Contains("got TERM, staying", log);
        Assert.True(Poll.ProcessIsGone(main));
    }

    [Fact]
    public async Task A_step_running_past_its_timeout_is_timed_out()
    {
        _repo.Write(".platform/pipeline.yml", """
            steps:
              - key: show
                run: scripts/show.sh
                timeout: 1s
            """).Script("scripts/show.sh", "echo started; sleep 300");

        var (outcome, log) = await RunAsync(Job(_repo.Commit(), "show"));
        Assert.Equal(JobState.TimedOut, outcome.State);
        Assert.Equal("timed out after 1s", outcome.Error);
        Assert.Equal(128 + 15, outcome.ExitStatus);
        Assert.Contains("~~~ platform: timed out after 1s (exit status 143)", log);
    }

    [Fact]
    public async Task A_step_with_an_image_fails_on_a_runner_without_a_container_engine()
    {
        _repo.Write(".platform/pipeline.yml", """
            steps:
              - key: show
                run: scripts/show.sh
                image: localhost/builder:1
            """).Script("scripts/show.sh", "true");

        var (outcome, _) = await RunAsync(Job(_repo.Commit(), "show"));
        Assert.Equal(JobState.Failed, outcome.State);
        Assert.Equal("step 'show' runs in image 'localhost/builder:1', and this agent has no container engine (build_engine)", outcome.Error);
    }
}
