using System.Net.Http.Json;
using System.Text.Json;
using Platform.Silo.Tests.Builds;
using Platform.Silo.Tests.Support;
using static Platform.Silo.Tests.Builds.BuildsHttp;
using static Platform.Silo.Tests.Telemetry.MetricsTests;

namespace Platform.Silo.Tests.Telemetry;

/// <summary>The work the fleet does, seen in a real silo's <c>/metrics</c>: events, queries, builds and the build queue.</summary>
public sealed class WorkMetricsTests
{
    private const string Secret = "metrics-hook";

    [Fact]
    public async Task Events_queries_builds_and_the_queue_depth_change_as_the_work_happens()
    {
        using var dir = new TempDir();
        await using var silo = await SiloProcess.StartAsync(dir.Path);
        var before = await ScrapeAsync(silo);
        Assert.Equal(0, before["platform_events_fired_total"]);
        Assert.Equal(0, before["platform_queries_total"]);
        Assert.Equal(0, before["platform_builds_started_total"]);
        Assert.Equal(0, before["platform_builds_queue_waiting{agents=any}"]);
        Assert.Equal(0, before["platform_builds_queue_running"]);

        using (var fired = await silo.Http.PostAsync("/v1/events/metrics-event", new StringContent("x")))
            Assert.True(fired.IsSuccessStatusCode, await fired.Content.ReadAsStringAsync());
        using (var query = await silo.Http.PostAsync("/v1/queries/metrics-query?timeout=50ms", new StringContent("")))
            Assert.Contains("\"done\"", await query.Content.ReadAsStringAsync());
        await PollAsync(silo, s => s["platform_events_fired_total"] == 1 && s["platform_queries_total"] == 1);

        // No agent: the build's first job waits in the queue until the build is cancelled.
        await RegisterAsync(silo.Http, "metrics/waits", Secret);
        var waiting = await StartBuildAsync(silo, "metrics/waits");
        await PollAsync(silo, s => s["platform_builds_queue_waiting{agents=any}"] == 1 && s["platform_builds_started_total"] == 1);
        await CancelAsync(silo, waiting);
        await PollAsync(silo, s => s["platform_builds_queue_waiting{agents=any}"] == 0 && s["platform_builds_finished_total{result=canceled}"] == 1);

        // An agent runs a build end to end: its job holds a slot while it runs, and the build is counted passed.
        await using var agent = await SimulatedBuildAgent.ConnectAsync(silo.Port, "metrics-agent");
        await RegisterAsync(silo.Http, "metrics/passes", Secret);
        var passes = await StartBuildAsync(silo, "metrics/passes");
        var pipeline = await agent.PipelineJobAsync(passes);
        await PollAsync(silo, s => s["platform_builds_queue_running"] == 1);
        await agent.AnswerPipelineAsync(pipeline, "steps:\n  - key: unit\n    run: scripts/unit.sh\n");
        await agent.RunAsync(await agent.StepJobAsync(passes, "unit"), "ok\n");
        await PollAsync(silo, s => s["platform_builds_finished_total{result=passed}"] == 1 && s["platform_builds_queue_running"] == 0);

        // A step for agents this one is not waits under the tags it asks for, and leaves the queue when cancelled.
        var gpu = await StartBuildAsync(silo, "metrics/passes");
        await agent.AnswerPipelineAsync(await agent.PipelineJobAsync(gpu), "steps:\n  - key: train\n    run: scripts/train.sh\n    agents: { queue: gpu }\n");
        await PollAsync(silo, s => s.GetValueOrDefault("platform_builds_queue_waiting{agents=queue=gpu}") == 1);
        await CancelAsync(silo, gpu);
        var after = await PollAsync(silo, s => s["platform_builds_queue_waiting{agents=queue=gpu}"] == 0 && s["platform_builds_finished_total{result=canceled}"] == 2);
        Assert.Equal(3, after["platform_builds_started_total"]);
        Assert.Equal(0, after["platform_builds_finished_total{result=failed}"]);
    }

    private static async Task<string> StartBuildAsync(SiloProcess silo, string repo)
    {
        using var started = await silo.Http.PostAsJsonAsync("/v1/builds", new { repo, branch = "main", commit = Commit });
        var body = await started.Content.ReadAsStringAsync();
        Assert.True(started.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
    }

    private static async Task CancelAsync(SiloProcess silo, string id)
    {
        using var r = await silo.Http.PostAsync($"/v1/builds/{id}/cancel", null);
        Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
    }
}
