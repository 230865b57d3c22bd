using Platform.Grains.Builds;

namespace Platform.Grains.Tests.Builds;

public sealed class BuildPlanTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);

    private static BuildState NewBuild(string branch = "main") =>
        BuildPlan.New(new BuildSpec("team/app", "git://example/app", branch, "8fb0eefc6a340d57598ca553a07fade1a10f2c30", "push", "ann", "d1"), "team/app/1", 1, Now);

    private static BuildState Expanded(string yaml, string branch = "main")
    {
        var build = NewBuild(branch);
        var pipeline = build.Job(BuildPlan.PipelineJob)!;
        pipeline.State = JobStates.Running;
        BuildPlan.Expand(build, ".platform/pipeline.yml", yaml, null, Now);
        return build;
    }

    private static string[] Scheduled(BuildState build) => [.. build.Jobs.Where(j => j.State == JobStates.Scheduled).Select(j => j.Key)];

    [Fact]
    public void New_build_holds_only_its_scheduled_pipeline_job()
    {
        var build = NewBuild();
        Assert.Equal(JobStates.Scheduled, build.State);
        var job = Assert.Single(build.Jobs);
        Assert.Equal(BuildPlan.PipelineJob, job.Key);
        Assert.Null(job.Step);
        Assert.Equal(JobStates.Scheduled, job.State);
    }

    [Fact]
    public void Pipeline_that_does_not_parse_fails_the_build_with_file_line_and_reason()
    {
        var build = Expanded("steps:\n  - key: a\n    command: make\n");
        Assert.Equal(JobStates.Failed, build.State);
        Assert.StartsWith(".platform/pipeline.yml:3:", build.Error);
        Assert.Contains("'command' is not allowed", build.Error);
        Assert.Equal(JobStates.Failed, build.Job(BuildPlan.PipelineJob)!.State);
        Assert.Single(build.Jobs);
    }

    [Fact]
    public void Pipeline_error_reported_by_the_agent_fails_the_build_with_it()
    {
        var build = NewBuild();
        BuildPlan.Expand(build, ".platform/pipeline.yml", null, ".platform/pipeline.yml:5:10: step 'b': run 'x.sh' is not a file of the repository at this commit", Now);
        Assert.Equal(JobStates.Failed, build.State);
        Assert.Equal(".platform/pipeline.yml:5:10: step 'b': run 'x.sh' is not a file of the repository at this commit", build.Error);
    }

    [Fact]
    public void Steps_are_scheduled_in_dependency_order()
    {
        var build = Expanded("""
            steps:
              - key: build
                run: build.sh
              - key: test
                run: test.sh
                depends_on: build
              - key: lint
                run: lint.sh
              - key: deploy
                run: deploy.sh
                depends_on: [test, lint]
            """);
        Assert.Equal(["build", "lint"], Scheduled(build));
        Assert.Equal(JobStates.Waiting, build.Job("test")!.State);

        Finish(build, "build", JobStates.Passed, 0);
        Assert.Equal(["lint", "test"], Scheduled(build).Order());
        Finish(build, "test", JobStates.Passed, 0);
        Assert.Equal(["lint"], Scheduled(build));
        Assert.Equal(JobStates.Waiting, build.Job("deploy")!.State);
        Finish(build, "lint", JobStates.Passed, 0);
        Assert.Equal(["deploy"], Scheduled(build));
        Finish(build, "deploy", JobStates.Passed, 0);
        Assert.Equal(JobStates.Passed, build.State);
        Assert.NotNull(build.Finished);
    }

    [Fact]
    public void Step_whose_branches_do_not_match_is_skipped_and_its_dependents_run()
    {
        var build = Expanded("""
            steps:
              - key: release
                run: release.sh
                branches: "release/*"
              - key: after
                run: after.sh
                depends_on: release
            """, branch: "main");
        Assert.Equal(JobStates.Skipped, build.Job("release")!.State);
        Assert.Contains("release/*", build.Job("release")!.Error);
        Assert.Equal(["after"], Scheduled(build));
    }

    [Fact]
    public void Failed_step_breaks_the_steps_that_depend_on_it_and_fails_the_build()
    {
        var build = Expanded("""
            steps:
              - key: a
                run: a.sh
              - key: b
                run: b.sh
                depends_on: a
              - key: c
                run: c.sh
                depends_on: b
            """);
        Finish(build, "a", JobStates.Failed, 2);
        Assert.Equal(JobStates.Broken, build.Job("b")!.State);
        Assert.Equal(JobStates.Broken, build.Job("c")!.State);
        Assert.Equal(JobStates.Failed, build.State);
    }

    [Fact]
    public void Job_is_retried_on_a_matching_exit_status_up_to_its_limit()
    {
        var build = Expanded("""
            steps:
              - key: flaky
                run: flaky.sh
                retry:
                  automatic:
                    - exit_status: 3
                      limit: 2
            """);
        var job = build.Job("flaky")!;
        Assert.True(Finish(build, "flaky", JobStates.Failed, 3));
        Assert.Equal(2, job.Attempt);
        Assert.Equal(JobStates.Scheduled, job.State);
        Assert.Equal(JobStates.Failed, Assert.Single(job.History).State);
        Assert.True(Finish(build, "flaky", JobStates.Failed, 3));
        Assert.False(Finish(build, "flaky", JobStates.Failed, 3));
        Assert.Equal(3, job.Attempt);
        Assert.Equal(JobStates.Failed, build.State);
    }

    [Fact]
    public void Job_is_not_retried_on_an_exit_status_its_rules_do_not_name()
    {
        var build = Expanded("steps:\n  - key: a\n    run: a.sh\n    retry:\n      automatic:\n        - exit_status: 3\n");
        Assert.False(Finish(build, "a", JobStates.Failed, 1));
        Assert.Equal(JobStates.Failed, build.State);
    }

    [Fact]
    public void Lost_job_is_retried_as_exit_status_minus_one()
    {
        var build = Expanded("steps:\n  - key: a\n    run: a.sh\n    retry:\n      automatic:\n        - exit_status: -1\n          limit: 1\n");
        Assert.True(Finish(build, "a", JobStates.Lost, null));
        Assert.Equal(2, build.Job("a")!.Attempt);
        Assert.Equal(JobStates.Lost, build.Job("a")!.History[0].State);
    }

    [Fact]
    public void Cancelled_job_is_never_retried()
    {
        var build = Expanded("steps:\n  - key: a\n    run: a.sh\n    retry:\n      automatic: true\n");
        Assert.False(Finish(build, "a", JobStates.Canceled, 143));
        Assert.Equal(1, build.Job("a")!.Attempt);
    }

    [Fact]
    public void Cancel_ends_jobs_not_on_an_agent_and_names_those_that_are()
    {
        var build = Expanded("steps:\n  - key: a\n    run: a.sh\n  - key: b\n    run: b.sh\n    depends_on: a\n  - key: c\n    run: c.sh\n");
        var a = build.Job("a")!;
        a.State = JobStates.Running;
        a.Agent = "n1";
        var onAgents = BuildPlan.Cancel(build, Now);
        Assert.Equal("a", Assert.Single(onAgents).Key);
        Assert.Equal(JobStates.Canceled, build.Job("b")!.State);
        Assert.Equal(JobStates.Canceled, build.Job("c")!.State);
        Assert.Equal(JobStates.Canceling, build.State);

        Assert.False(BuildPlan.Finish(build, a, JobStates.Failed, 1, null, Now));
        Assert.Equal(JobStates.Canceled, build.State);
    }

    [Fact]
    public void Newer_build_skips_a_build_that_has_not_started()
    {
        var build = NewBuild();
        Assert.True(BuildPlan.SkipIfQueued(build, "team/app/2", Now));
        Assert.Equal(JobStates.Skipped, build.State);
        Assert.Contains("team/app/2", build.Error);
    }

    [Fact]
    public void Newer_build_does_not_skip_a_build_whose_job_reached_an_agent()
    {
        var build = NewBuild();
        build.Jobs[0].State = JobStates.Assigned;
        Assert.False(BuildPlan.SkipIfQueued(build, "team/app/2", Now));
        Assert.NotEqual(JobStates.Skipped, build.State);
    }

    [Fact]
    public void Retry_runs_the_failed_jobs_of_a_finished_build_again()
    {
        var build = Expanded("steps:\n  - key: a\n    run: a.sh\n  - key: b\n    run: b.sh\n    depends_on: a\n");
        Finish(build, "a", JobStates.Failed, 1);
        Assert.Equal(JobStates.Failed, build.State);
        Assert.Null(BuildPlan.Retry(build, Now));
        Assert.Equal(["a"], Scheduled(build));
        Assert.Equal(2, build.Job("a")!.Attempt);
        Assert.Equal(JobStates.Waiting, build.Job("b")!.State);
        Assert.NotNull(BuildPlan.Retry(build, Now));
    }

    private static bool Finish(BuildState build, string key, string state, int? exit)
    {
        var job = build.Job(key)!;
        job.State = JobStates.Running;
        job.Agent = "n1";
        job.Assigned = Now;
        return BuildPlan.Finish(build, job, state, exit, null, Now);
    }
}
