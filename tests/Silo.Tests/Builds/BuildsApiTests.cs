using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Platform.Protocol;
using Platform.Silo.Tests.Nodes.Api;
using static Platform.Silo.Tests.Builds.BuildsHttp;

namespace Platform.Silo.Tests.Builds;

/// <summary>
/// Builds against a real silo process (hooks and repositories: HooksApiTests): builds started, jobs out to simulated agents over the real agent protocol, job
/// ends and logs back. Every test uses repositories and agents of its own and waits only for frames of its own builds.
/// </summary>
public sealed class BuildsApiTests(BuildsSilo fixture) : IClassFixture<BuildsSilo>
{
    private const string Secret = "s3cret-hook";

    private const string TwoSteps = """
        steps:
          - key: compile
            run: scripts/compile.sh
          - key: test
            run: scripts/test.sh
            depends_on: compile
        """;

    private HttpClient Http => fixture.Http;

    [Fact]
    public async Task Pipeline_that_does_not_parse_fails_the_build_with_file_line_and_reason()
    {
        const string repo = "team/badpipe";
        await RegisterAsync(Http, repo, Secret);
        await using var agent = await SimulatedBuildAgent.ConnectAsync(fixture.Port, "badpipe-agent");
        var id = await PushAsync(Http, repo, "main", Secret);

        await agent.AnswerPipelineAsync(await agent.PipelineJobAsync(id), "steps:\n  - key: a\n    command: make all\n");

        var build = await WaitForBuildAsync(Http, id, b => b.GetProperty("state").GetString() == "failed", "failed");
        Assert.StartsWith(".platform/pipeline.yml:3:5: 'command' is not allowed", build.GetProperty("error").GetString());
        Assert.Single(build.GetProperty("jobs").EnumerateArray());
    }

    [Fact]
    public async Task Steps_run_in_dependency_order_and_their_logs_are_stored_once()
    {
        const string repo = "team/dag";
        await RegisterAsync(Http, repo, Secret);
        await using var agent = await SimulatedBuildAgent.ConnectAsync(fixture.Port, "dag-agent");
        var id = await PushAsync(Http, repo, "main", Secret);
        await agent.AnswerPipelineAsync(await agent.PipelineJobAsync(id), TwoSteps);

        var compile = await agent.StepJobAsync(id, "compile");
        var queued = await WaitForBuildAsync(Http, id, b => Job(b, "compile").GetProperty("state").GetString() == "assigned", "compile assigned");
        Assert.Equal("waiting", Job(queued, "test").GetProperty("state").GetString());
        Assert.DoesNotContain(agent.Jobs(id), j => j.Step == "test");

        await agent.StartedAsync(compile);
        await agent.LogAsync(compile, 1, 0, "compiling\n");
        await agent.LogAsync(compile, 2, 10, "done\n");
        // A reconnecting runner resends what was not acknowledged: stored once.
        await agent.LogAsync(compile, 2, 10, "done\n");
        await agent.DoneAsync(compile, "passed", 0, 15);
        var test = await agent.StepJobAsync(id, "test");
        await agent.RunAsync(test, "ok\n");

        var build = await WaitForBuildAsync(Http, id, b => b.GetProperty("state").GetString() == "passed", "passed");
        Assert.Equal(0, Job(build, "compile").GetProperty("exitStatus").GetInt32());
        Assert.Equal("compiling\ndone\n", await LogAsync(Http, id, "compile"));
        Assert.Equal("ok\n", await LogAsync(Http, id, "test"));
        using var range = new HttpRequestMessage(HttpMethod.Get, $"/v1/builds/{id}/jobs/compile/log");
        range.Headers.Add("Range", "bytes=10-");
        using var partial = await Http.SendAsync(range);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal("done\n", await partial.Content.ReadAsStringAsync());
        Assert.Equal("bytes 10-14/15", partial.Content.Headers.ContentRange!.ToString());
        Assert.Single(agent.Jobs(id), j => j.Step == "compile");
        Assert.Single(agent.Jobs(id), j => j.Step == "test");
    }

    [Fact]
    public async Task Step_that_fails_with_a_retry_exit_status_runs_again_as_a_new_attempt()
    {
        const string repo = "team/retry";
        await RegisterAsync(Http, repo, Secret);
        await using var agent = await SimulatedBuildAgent.ConnectAsync(fixture.Port, "retry-agent");
        var id = await PushAsync(Http, repo, "main", Secret);
        await agent.AnswerPipelineAsync(await agent.PipelineJobAsync(id), """
            steps:
              - key: flaky
                run: scripts/flaky.sh
                retry:
                  automatic:
                    - exit_status: 75
                      limit: 1
            """);

        await agent.RunAsync(await agent.StepJobAsync(id, "flaky", attempt: 1), "temporary failure\n", "failed", 75);
        var second = await agent.StepJobAsync(id, "flaky", attempt: 2);
        await agent.RunAsync(second, "fine\n");

        var build = await WaitForBuildAsync(Http, id, b => b.GetProperty("state").GetString() == "passed", "passed");
        var job = Job(build, "flaky");
        Assert.Equal(2, job.GetProperty("attempt").GetInt32());
        Assert.Equal(75, job.GetProperty("history")[0].GetProperty("exitStatus").GetInt32());
        Assert.Equal("temporary failure\n", await LogAsync(Http, id, "flaky", "?attempt=1"));
        Assert.Equal("fine\n", await LogAsync(Http, id, "flaky"));
    }

    [Fact]
    public async Task Cancel_tells_the_agent_and_the_build_ends_canceled()
    {
        const string repo = "team/cancel";
        await RegisterAsync(Http, repo, Secret);
        await using var agent = await SimulatedBuildAgent.ConnectAsync(fixture.Port, "cancel-agent");
        var id = await PushAsync(Http, repo, "main", Secret);
        await agent.AnswerPipelineAsync(await agent.PipelineJobAsync(id), TwoSteps);
        var compile = await agent.StepJobAsync(id, "compile");
        await agent.StartedAsync(compile);

        using var r = await Http.PostAsync($"/v1/builds/{id}/cancel", null);
        Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
        var cancel = await agent.Raw.WaitForAsync<JobCancelFrame>(c => c.JobId == compile.JobId, TimeSpan.FromSeconds(30));
        Assert.Equal(1, cancel.Attempt);
        Assert.Equal("canceling", (await BuildAsync(Http, id)).GetProperty("state").GetString());
        await agent.DoneAsync(compile, "canceled", 143);

        var build = await WaitForBuildAsync(Http, id, b => b.GetProperty("state").GetString() == "canceled", "canceled");
        Assert.Equal("canceled", Job(build, "compile").GetProperty("state").GetString());
        Assert.Equal("canceled", Job(build, "test").GetProperty("state").GetString());
        Assert.Equal(1, Job(build, "compile").GetProperty("attempt").GetInt32());
    }

    [Fact]
    public async Task Job_of_an_agent_that_dies_is_lost_and_retried_on_another_agent()
    {
        const string repo = "team/lost";
        await RegisterAsync(Http, repo, Secret);
        var doomed = await SimulatedBuildAgent.ConnectAsync(fixture.Port, "lost-doomed", tags: new() { ["pool"] = "lost" });
        var id = await PushAsync(Http, repo, "main", Secret);
        await doomed.AnswerPipelineAsync(await doomed.PipelineJobAsync(id), """
            steps:
              - key: long
                run: scripts/long.sh
                agents: { pool: lost }
                retry:
                  automatic:
                    - exit_status: -1
                      limit: 1
            """);
        var first = await doomed.StepJobAsync(id, "long");
        await doomed.StartedAsync(first);
        await using var survivor = await SimulatedBuildAgent.ConnectAsync(fixture.Port, "lost-survivor", tags: new() { ["pool"] = "lost" });

        doomed.Crash();
        await doomed.DisposeAsync();
        var second = await survivor.StepJobAsync(id, "long", attempt: 2);
        await survivor.RunAsync(second, "");

        var build = await WaitForBuildAsync(Http, id, b => b.GetProperty("state").GetString() == "passed", "passed");
        Assert.Equal("lost", Job(build, "long").GetProperty("history")[0].GetProperty("state").GetString());
        Assert.Equal("lost-survivor", Job(build, "long").GetProperty("agent").GetString());
    }

    [Fact]
    public async Task An_agent_back_from_a_partition_is_told_to_cancel_the_attempt_that_was_lost_meanwhile()
    {
        const string repo = "team/partitioned";
        await RegisterAsync(Http, repo, Secret);
        var away = await SimulatedBuildAgent.ConnectAsync(fixture.Port, "partitioned-away", tags: new() { ["pool"] = "partitioned" });
        var id = await PushAsync(Http, repo, "main", Secret);
        await away.AnswerPipelineAsync(await away.PipelineJobAsync(id), """
            steps:
              - key: long
                run: scripts/long.sh
                agents: { pool: partitioned }
                retry:
                  automatic:
                    - exit_status: -1
                      limit: 1
            """);
        var first = await away.StepJobAsync(id, "long");
        await away.StartedAsync(first);
        await using var other = await SimulatedBuildAgent.ConnectAsync(fixture.Port, "partitioned-other", tags: new() { ["pool"] = "partitioned" });

        // Its connection drops, the node fails, the attempt is lost and retried elsewhere; the agent's process still runs it.
        away.Crash();
        await away.DisposeAsync();
        var second = await other.StepJobAsync(id, "long", attempt: 2);
        await other.StartedAsync(second);
        await WaitForBuildAsync(Http, id, b => Job(b, "long").GetProperty("attempt").GetInt32() == 2 && Job(b, "long").GetProperty("state").GetString() == "running", "attempt 2 running");
        await using var back = await SimulatedBuildAgent.ConnectAsync(fixture.Port, "partitioned-away", tags: new() { ["pool"] = "partitioned" });
        // What an agent sends for the jobs it runs when it reconnects.
        await back.Raw.SendAsync(new JobStartedFrame(first.JobId, first.Attempt));

        var cancel = await back.Raw.WaitForAsync<JobCancelFrame>(c => c.JobId == first.JobId, TimeSpan.FromSeconds(30));
        Assert.Equal(1, cancel.Attempt);
        // The attempt it was told to stop is not taken back from the agent that runs the retry.
        var build = await BuildAsync(Http, id);
        Assert.Equal("running", Job(build, "long").GetProperty("state").GetString());
        Assert.Equal("partitioned-other", Job(build, "long").GetProperty("agent").GetString());
        Assert.Equal(2, Job(build, "long").GetProperty("attempt").GetInt32());
        Assert.Empty(other.Raw.All<JobCancelFrame>(c => c.JobId == second.JobId));
        await other.RunAsync(second, "");
        await WaitForBuildAsync(Http, id, b => b.GetProperty("state").GetString() == "passed", "passed");
    }

    [Fact]
    public async Task Newer_push_to_a_branch_skips_its_queued_build()
    {
        const string repo = "team/superseded";
        await RegisterAsync(Http, repo, Secret);
        var older = await PushAsync(Http, repo, "feature/x", Secret, "1111111111111111111111111111111111111111");
        var newer = await PushAsync(Http, repo, "feature/x", Secret, "2222222222222222222222222222222222222222");

        var skipped = await WaitForBuildAsync(Http, older, b => b.GetProperty("state").GetString() == "skipped", "skipped");
        Assert.Equal(newer, skipped.GetProperty("supersededBy").GetString());
        Assert.Equal("scheduled", (await BuildAsync(Http, newer)).GetProperty("state").GetString());
        await CancelAsync(newer);
    }

    [Fact]
    public async Task With_cancel_running_a_newer_push_cancels_the_running_build_of_its_branch_on_its_agent()
    {
        const string repo = "team/cancelrunning";
        await RegisterAsync(Http, repo, Secret, cancelRunning: true);
        await using var agent = await SimulatedBuildAgent.ConnectAsync(fixture.Port, "cancelrunning-agent", tags: new() { ["pool"] = "cancelrunning" });
        var older = await PushAsync(Http, repo, "main", Secret, "1111111111111111111111111111111111111111");
        await agent.AnswerPipelineAsync(await agent.PipelineJobAsync(older), """
            steps:
              - key: slow
                run: scripts/slow.sh
                agents: { pool: cancelrunning }
            """);
        var slow = await agent.StepJobAsync(older, "slow");
        await agent.StartedAsync(slow);
        await WaitForBuildAsync(Http, older, b => Job(b, "slow").GetProperty("state").GetString() == "running", "running");
        // Another branch's push leaves it alone.
        var other = await PushAsync(Http, repo, "feature/y", Secret, "3333333333333333333333333333333333333333");
        Assert.Empty(agent.Raw.All<JobCancelFrame>(c => c.JobId == slow.JobId));

        var newer = await PushAsync(Http, repo, "main", Secret, "2222222222222222222222222222222222222222");
        var cancel = await agent.Raw.WaitForAsync<JobCancelFrame>(c => c.JobId == slow.JobId, TimeSpan.FromSeconds(30));
        Assert.Equal(slow.Attempt, cancel.Attempt);
        await agent.DoneAsync(slow, "canceled", 143);
        var canceled = await WaitForBuildAsync(Http, older, b => b.GetProperty("state").GetString() == "canceled", "canceled");
        Assert.Equal("canceled", Job(canceled, "slow").GetProperty("state").GetString());
        Assert.Contains((await BuildAsync(Http, other)).GetProperty("state").GetString(), new[] { "scheduled", "running" });
        Assert.NotEqual("canceled", (await BuildAsync(Http, newer)).GetProperty("state").GetString());
        await CancelAsync(newer);
        await CancelAsync(other);
    }

    [Fact]
    public async Task Job_with_an_image_waits_with_a_visible_reason_when_no_agent_has_an_engine()
    {
        const string repo = "team/image";
        await RegisterAsync(Http, repo, Secret);
        await using var agent = await SimulatedBuildAgent.ConnectAsync(fixture.Port, "image-agent", tags: new() { ["pool"] = "image" });
        var id = await PushAsync(Http, repo, "main", Secret);
        await agent.AnswerPipelineAsync(await agent.PipelineJobAsync(id), """
            steps:
              - key: boxed
                run: scripts/boxed.sh
                image: localhost/builder:1
                agents: { pool: image }
            """);

        var reason = "";
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30) && !reason.Contains("container engine", StringComparison.Ordinal))
        {
            var queue = await Http.GetFromJsonAsync<JsonElement>("/v1/queue");
            reason = queue.GetProperty("waiting").EnumerateArray()
                .Where(w => w.GetProperty("ticket").GetProperty("buildId").GetString() == id)
                .Select(w => w.GetProperty("reason").GetString()!).FirstOrDefault() ?? "";
            await Task.Delay(50);
        }
        Assert.Equal("the step runs in image 'localhost/builder:1': none of the 1 matching agents has a container engine", reason);
        await CancelAsync(id);
    }

    [Fact]
    public async Task Followed_log_streams_chunks_until_the_job_ends()
    {
        const string repo = "team/follow";
        await RegisterAsync(Http, repo, Secret);
        await using var agent = await SimulatedBuildAgent.ConnectAsync(fixture.Port, "follow-agent");
        var id = await PushAsync(Http, repo, "main", Secret);
        await agent.AnswerPipelineAsync(await agent.PipelineJobAsync(id), "steps:\n  - key: talk\n    run: talk.sh\n");
        var job = await agent.StepJobAsync(id, "talk");
        await agent.StartedAsync(job);
        await agent.LogAsync(job, 1, 0, "first\n");

        using var response = await Http.GetAsync($"/v1/builds/{id}/jobs/talk/log?follow=true", HttpCompletionOption.ResponseHeadersRead);
        var stream = await response.Content.ReadAsStreamAsync();
        var reader = new StreamReader(stream, Encoding.UTF8);
        Assert.Equal("first", await reader.ReadLineAsync());
        await agent.LogAsync(job, 2, 6, "second\n");
        Assert.Equal("second", await reader.ReadLineAsync());
        await agent.DoneAsync(job, "passed", 0, 13);
        Assert.Equal("", await reader.ReadToEndAsync());
    }

    [Fact]
    public async Task Log_tail_starts_at_a_line_start_says_its_offset_and_follows()
    {
        const string repo = "team/tail";
        await RegisterAsync(Http, repo, Secret);
        await using var agent = await SimulatedBuildAgent.ConnectAsync(fixture.Port, "tail-agent");
        var id = await PushAsync(Http, repo, "main", Secret);
        await agent.AnswerPipelineAsync(await agent.PipelineJobAsync(id), "steps:\n  - key: talk\n    run: talk.sh\n");
        var job = await agent.StepJobAsync(id, "talk");
        await agent.StartedAsync(job);
        await agent.LogAsync(job, 1, 0, "alpha\nbeta\ngamma\n");

        // The last 8 bytes start inside "beta": the tail begins at the next line.
        using var tail = await Http.GetAsync($"/v1/builds/{id}/jobs/talk/log?tail=8");
        Assert.Equal(HttpStatusCode.OK, tail.StatusCode);
        Assert.Equal("gamma\n", await tail.Content.ReadAsStringAsync());
        Assert.Equal("11", tail.Headers.GetValues("X-Platform-Log-Offset").Single());
        using var whole = await Http.GetAsync($"/v1/builds/{id}/jobs/talk/log?tail=1000");
        Assert.Equal("alpha\nbeta\ngamma\n", await whole.Content.ReadAsStringAsync());
        Assert.Equal("0", whole.Headers.GetValues("X-Platform-Log-Offset").Single());
        using var bad = await Http.GetAsync($"/v1/builds/{id}/jobs/talk/log?tail=-3");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("tail '-3' is not a number of bytes", await bad.Content.ReadAsStringAsync());

        using var followed = await Http.GetAsync($"/v1/builds/{id}/jobs/talk/log?tail=6&follow=true", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("11", followed.Headers.GetValues("X-Platform-Log-Offset").Single());
        var reader = new StreamReader(await followed.Content.ReadAsStreamAsync(), Encoding.UTF8);
        Assert.Equal("gamma", await reader.ReadLineAsync());
        await agent.LogAsync(job, 2, 17, "delta\n");
        Assert.Equal("delta", await reader.ReadLineAsync());
        await agent.DoneAsync(job, "passed", 0, 23);
        Assert.Equal("", await reader.ReadToEndAsync());
    }

    [Fact]
    public async Task Build_started_through_the_API_is_listed_by_repository_branch_and_state()
    {
        const string repo = "team/started";
        await RegisterAsync(Http, repo, Secret);
        using var refused = await Http.PostAsJsonAsync("/v1/builds", new { repo, branch = "main", commit = "not-a-sha" });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("commit 'not-a-sha' is not a commit id", await refused.Content.ReadAsStringAsync());
        using var unknown = await Http.PostAsJsonAsync("/v1/builds", new { repo = "team/never", branch = "main", commit = Commit });
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);

        using var started = await Http.PostAsJsonAsync("/v1/builds", new { repo, branch = "release/1", commit = Commit });
        Assert.Equal(HttpStatusCode.Created, started.StatusCode);
        var build = JsonDocument.Parse(await started.Content.ReadAsStringAsync()).RootElement;
        var id = build.GetProperty("id").GetString()!;
        Assert.Equal("api", build.GetProperty("trigger").GetString());

        var listed = await Http.GetFromJsonAsync<JsonElement>($"/v1/builds?repo={repo}&branch=release/1&state=scheduled");
        Assert.Equal(id, Assert.Single(listed.EnumerateArray()).GetProperty("id").GetString());
        Assert.Empty((await Http.GetFromJsonAsync<JsonElement>($"/v1/builds?repo={repo}&branch=main")).EnumerateArray());
        using var retry = await Http.PostAsync($"/v1/builds/{id}/retry", null);
        Assert.Equal(HttpStatusCode.Conflict, retry.StatusCode);
        Assert.Contains("only a finished build is retried", await retry.Content.ReadAsStringAsync());
        await CancelAsync(id);
        Assert.Equal("canceled", (await BuildAsync(Http, id)).GetProperty("state").GetString());
    }

    private Task CancelAsync(string id) => BuildsHttp.CancelAsync(Http, id);
}
