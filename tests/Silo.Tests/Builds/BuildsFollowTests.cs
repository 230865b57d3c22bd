using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Platform.Silo.Tests.Nodes.Api;
using static Platform.Silo.Tests.Builds.BuildsHttp;

namespace Platform.Silo.Tests.Builds;

/// <summary>
/// <c>?follow=true</c> on the builds list, a build and the queue against a real silo process, with builds run by a
/// simulated agent over the real agent protocol; and paging of the list with <c>before</c>.
/// </summary>
public sealed class BuildsFollowTests(BuildsSilo fixture) : IClassFixture<BuildsSilo>
{
    private const string Secret = "s3cret-follow";
    private const string OneStep = "steps:\n  - key: talk\n    run: talk.sh\n";
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(30);

    private HttpClient Http => fixture.Http;

    [Fact]
    public async Task Followed_build_streams_each_change_of_it_and_its_jobs_as_it_happens()
    {
        const string repo = "follow/one";
        await RegisterAsync(Http, repo, Secret);
        var id = await PushAsync(Http, repo, "main", Secret);
        await using var lines = await NdjsonLines.OpenAsync(Http, $"/v1/builds/{id}?follow=true");
        var first = await lines.NextAsync(_ => true, "the build");
        Assert.Equal("build", first.GetProperty("type").GetString());
        Assert.Equal("scheduled", first.GetProperty("build").GetProperty("state").GetString());

        await using var agent = await SimulatedBuildAgent.ConnectAsync(fixture.Port, "follow-one-agent");
        await agent.AnswerPipelineAsync(await agent.PipelineJobAsync(id), OneStep);
        var job = await agent.StepJobAsync(id, "talk");
        await agent.StartedAsync(job);
        await lines.NextAsync(l => JobState(l, "talk") == "running", "job talk running");
        await agent.RunAsync(job, "hello\n");
        var passed = await lines.NextAsync(l => l.GetProperty("build").GetProperty("state").GetString() == "passed", "the build passed");
        Assert.Equal("passed", JobState(passed, "talk"));

        using var missing = await Http.GetAsync("/v1/builds/follow/none/1?follow=true");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var bad = await Http.GetAsync($"/v1/builds/{id}?follow=yes");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("follow 'yes' is not true or false", await bad.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Followed_list_shows_a_new_build_and_its_state_changes_of_its_repository_only()
    {
        const string repo = "follow/list";
        await RegisterAsync(Http, repo, Secret);
        await RegisterAsync(Http, "follow/other", Secret);
        var older = await PushAsync(Http, repo, "main", Secret);
        await using var lines = await NdjsonLines.OpenAsync(Http, $"/v1/builds?follow=true&repo={repo}");
        var list = await lines.NextAsync(_ => true, "the list");
        Assert.Equal("list", list.GetProperty("type").GetString());
        Assert.Equal(older, Assert.Single(list.GetProperty("builds").EnumerateArray()).GetProperty("id").GetString());

        await PushAsync(Http, "follow/other", "main", Secret);
        var newer = await PushAsync(Http, repo, "main", Secret);
        var shown = await lines.NextAsync(l => l.GetProperty("build").GetProperty("id").GetString() == newer, "the new build");
        Assert.Equal("build", shown.GetProperty("type").GetString());
        // The newer build of the branch skips the older one: that change comes too.
        await lines.NextAsync(l => l.GetProperty("build").GetProperty("id").GetString() == older
            && l.GetProperty("build").GetProperty("state").GetString() == "skipped", "the older build skipped");
        using var cancel = await Http.PostAsync($"/v1/builds/{newer}/cancel", null);
        Assert.True(cancel.IsSuccessStatusCode);
        await lines.NextAsync(l => l.GetProperty("build").GetProperty("id").GetString() == newer
            && l.GetProperty("build").GetProperty("state").GetString() == "canceled", "the new build canceled");
        Assert.DoesNotContain(lines.Seen, l => l.TryGetProperty("build", out var b) && b.GetProperty("repository").GetString() == "follow/other");
    }

    [Fact]
    public async Task Followed_queue_shows_a_job_waiting_with_its_reason_then_running()
    {
        const string repo = "follow/queue";
        await RegisterAsync(Http, repo, Secret);
        await using var lines = await NdjsonLines.OpenAsync(Http, "/v1/queue?follow=true");
        Assert.Equal("queue", (await lines.NextAsync(_ => true, "the queue")).GetProperty("type").GetString());
        var id = await PushAsync(Http, repo, "main", Secret);
        await using var agent = await SimulatedBuildAgent.ConnectAsync(fixture.Port, "follow-queue-agent", tags: new() { ["pool"] = "follow-queue" });
        await agent.AnswerPipelineAsync(await agent.PipelineJobAsync(id), "steps:\n  - key: talk\n    run: talk.sh\n    agents:\n      pool: nowhere\n");
        var waiting = await lines.NextAsync(l => Waiting(l, id) is not null, "the step waiting");
        Assert.Contains("no connected agent with job slots has the tags pool=nowhere", Waiting(waiting, id));
        using var cancel = await Http.PostAsync($"/v1/builds/{id}/cancel", null);
        Assert.True(cancel.IsSuccessStatusCode);
        await lines.NextAsync(l => Waiting(l, id) is null, "the step gone from the queue");
    }

    [Fact]
    public async Task List_pages_with_before_and_the_next_cursor()
    {
        const string repo = "follow/pages";
        await RegisterAsync(Http, repo, Secret);
        var ids = new List<string>();
        foreach (var branch in new[] { "a", "b", "c" }) ids.Add(await PushAsync(Http, repo, branch, Secret));

        using var first = await Http.GetAsync($"/v1/builds?repo={repo}&limit=2");
        var firstIds = (await first.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().Select(b => b.GetProperty("id").GetString()).ToList();
        Assert.Equal([ids[2], ids[1]], firstIds);
        var next = first.Headers.GetValues("X-Platform-Next-Before").Single();
        using var second = await Http.GetAsync($"/v1/builds?repo={repo}&limit=2&before={Uri.EscapeDataString(next)}");
        var secondIds = (await second.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().Select(b => b.GetProperty("id").GetString()).ToList();
        Assert.Equal([ids[0]], secondIds);
        Assert.False(second.Headers.Contains("X-Platform-Next-Before"));
        using var filtered = await Http.GetAsync($"/v1/builds?repo={repo}&branch=b&limit=1&before={Uri.EscapeDataString(next)}");
        Assert.Empty((await filtered.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray());
        using var bad = await Http.GetAsync("/v1/builds?before=yesterday");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("before 'yesterday' is not a cursor", await bad.Content.ReadAsStringAsync());
        foreach (var id in ids) (await Http.PostAsync($"/v1/builds/{id}/cancel", null)).Dispose();
    }

    private static string? JobState(JsonElement line, string key)
        => line.GetProperty("build").GetProperty("jobs").EnumerateArray().Where(j => j.GetProperty("key").GetString() == key)
            .Select(j => j.GetProperty("state").GetString()).FirstOrDefault();

    /// <summary>Why the build's step job waits, or null when it does not.</summary>
    private static string? Waiting(JsonElement line, string buildId)
        => line.GetProperty("queue").GetProperty("waiting").EnumerateArray()
            .Where(w => w.GetProperty("ticket").GetProperty("jobId").GetString() == buildId + "/talk")
            .Select(w => w.GetProperty("reason").GetString()).FirstOrDefault();

    /// <summary>An open NDJSON stream read line by line, each wait bounded by a deadline.</summary>
    private sealed class NdjsonLines : IAsyncDisposable
    {
        private readonly HttpResponseMessage _response;
        private readonly StreamReader _reader;

        private NdjsonLines(HttpResponseMessage response, StreamReader reader) => (_response, _reader) = (response, reader);

        public List<JsonElement> Seen { get; } = [];

        public static async Task<NdjsonLines> OpenAsync(HttpClient http, string path)
        {
            var response = await http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
            Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode}");
            Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType?.MediaType);
            return new NdjsonLines(response, new StreamReader(await response.Content.ReadAsStreamAsync()));
        }

        /// <summary>Reads lines until one matches.</summary>
        public async Task<JsonElement> NextAsync(Func<JsonElement, bool> match, string what)
        {
            using var deadline = new CancellationTokenSource(s_deadline);
            try
            {
                while (await _reader.ReadLineAsync(deadline.Token) is { } text)
                {
                    var line = JsonDocument.Parse(text).RootElement.Clone();
                    Seen.Add(line);
                    if (match(line)) return line;
                }
            }
            catch (OperationCanceledException)
            {
            }
            Assert.Fail($"no line showed {what} within {s_deadline.TotalSeconds} s; lines: {string.Join("\n", Seen.TakeLast(5))}");
            return default;
        }

        public ValueTask DisposeAsync()
        {
            _reader.Dispose();
            _response.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
