using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Platform.Builds.Hooks;
using Platform.Silo.Tests.Nodes.Api;
using static Platform.Silo.Tests.Builds.BuildsHttp;

namespace Platform.Silo.Tests.Builds;

/// <summary>
/// Push hooks and repositories against a real silo process: the captured Bitbucket delivery, GitHub and GitLab pushes,
/// signatures and tokens, redeliveries, deletions and tags, bad bodies, and how a repository is registered and shown.
/// </summary>
public sealed class HooksApiTests(BuildsSilo fixture) : IClassFixture<BuildsSilo>
{
    private const string Secret = "s3cret-hook";

    private HttpClient Http => fixture.Http;

    [Fact]
    public async Task Captured_Bitbucket_push_starts_a_build_of_master_at_its_commit()
    {
        await RegisterAsync(Http, "takitake/mysidia", Secret);
        await using var agent = await SimulatedBuildAgent.ConnectAsync(fixture.Port, "bb-agent");
        var body = await File.ReadAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "Builds", "bitbucket-push.json"));
        var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/bitbucket") { Content = new ByteArrayContent(body) };
        request.Headers.Add("X-Event-Key", "repo:push");
        request.Headers.Add("X-Request-UUID", "0b9b0b1c-8d0c-4b5e-9d45-5a2a1d2a3c4f");
        request.Headers.Add("X-Hub-Signature", HookSignature.SignHmacSha256(Secret, body));

        var (status, answer) = await SendAsync(Http, request);

        Assert.Equal(200, status);
        var id = Assert.Single(answer.GetProperty("builds").EnumerateArray()).GetString()!;
        Assert.StartsWith("takitake/mysidia/", id);
        var build = await BuildAsync(Http, id);
        Assert.Equal("master", build.GetProperty("branch").GetString());
        Assert.Equal("8fb0eefc6a340d57598ca553a07fade1a10f2c30", build.GetProperty("commit").GetString());
        Assert.Equal("push", build.GetProperty("trigger").GetString());
        var job = await agent.PipelineJobAsync(id);
        Assert.Equal("8fb0eefc6a340d57598ca553a07fade1a10f2c30", job.Commit);
        Assert.Equal("master", job.Branch);
        Assert.Equal("takitake/mysidia", job.Repository);
        Assert.Equal("git://127.0.0.1/takitake/mysidia.git", job.CloneUrl);
        Assert.Equal(id, job.Env["PLATFORM_BUILD_ID"]);
        await CancelAsync(id);
    }

    [Fact]
    public async Task Hook_with_a_bad_or_missing_signature_is_401_and_queues_nothing()
    {
        const string repo = "team/signed";
        await RegisterAsync(Http, repo, Secret);
        // A build made before the rejected hooks: nothing stored may change because of them.
        var before = await PushAsync(Http, repo, "main", Secret);
        var repository = await Http.GetStringAsync($"/v1/repos/{repo}");
        var build = await Http.GetStringAsync($"/v1/builds/{before}");

        var (wrong, wrongBody) = await SendAsync(Http, GitHubPush(repo, "main", "1" + Commit[1..], "not-the-secret"));
        var (missing, missingBody) = await SendAsync(Http, GitHubPush(repo, "main", "1" + Commit[1..], secret: null));

        Assert.Equal(401, wrong);
        Assert.Contains("X-Hub-Signature-256 does not match", wrongBody.GetProperty("error").GetString());
        Assert.Equal(401, missing);
        Assert.Contains("X-Hub-Signature-256 is missing", missingBody.GetProperty("error").GetString());
        Assert.Equal([before], await BuildIdsAsync(Http, repo));
        var queue = await Http.GetFromJsonAsync<JsonElement>("/v1/queue");
        Assert.DoesNotContain(queue.GetProperty("waiting").EnumerateArray(), w => w.GetProperty("ticket").GetProperty("repository").GetString() == repo
            && w.GetProperty("ticket").GetProperty("buildId").GetString() != before);
        // The repository (its secret included: the right signature still starts a build) and the earlier build are as they were.
        Assert.Equal(repository, await Http.GetStringAsync($"/v1/repos/{repo}"));
        Assert.Equal(build, await Http.GetStringAsync($"/v1/builds/{before}"));
        var after = await PushAsync(Http, repo, "main", Secret, "2" + Commit[1..]);
        Assert.NotEqual(before, after);
    }

    [Fact]
    public async Task Redelivered_hook_queues_nothing_new()
    {
        const string repo = "team/redelivered";
        await RegisterAsync(Http, repo, Secret);
        var delivery = Guid.NewGuid().ToString();

        var (first, firstBody) = await SendAsync(Http, GitHubPush(repo, "main", Commit, Secret, delivery));
        var (again, againBody) = await SendAsync(Http, GitHubPush(repo, "main", Commit, Secret, delivery));

        Assert.Equal(200, first);
        Assert.Single(firstBody.GetProperty("builds").EnumerateArray());
        Assert.Equal(200, again);
        Assert.True(againBody.GetProperty("duplicate").GetBoolean());
        Assert.Empty(againBody.GetProperty("builds").EnumerateArray());
        var builds = await BuildIdsAsync(Http, repo);
        Assert.Single(builds);
        await CancelAsync(builds[0]);
    }

    [Fact]
    public async Task A_repository_registered_as_curl_sends_it_keeps_its_settings_and_an_unknown_field_changes_nothing()
    {
        const string repo = "team/curl";
        // curl -XPUT … -d '{…}' says application/x-www-form-urlencoded.
        var form = new StringContent("""{"cloneUrl":"git://127.0.0.1/team/curl.git","secret":"s3cret","cancelRunning":true,"priority":3}""",
            System.Text.Encoding.UTF8, "application/x-www-form-urlencoded");
        using (var put = await Http.PutAsync($"/v1/repos/{repo}", form)) Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());

        var commands = new StringContent("""{"cloneUrl":"git://127.0.0.1/other.git","commands":["make deploy"]}""", System.Text.Encoding.UTF8, "application/json");
        var (status, body) = await SendAsync(Http, new HttpRequestMessage(HttpMethod.Put, $"/v1/repos/{repo}") { Content = commands });
        Assert.Equal(400, status);
        Assert.Contains("'commands' is not a field of this body", body.GetProperty("error").GetString());

        var (_, stored) = await SendAsync(Http, new HttpRequestMessage(HttpMethod.Get, $"/v1/repos/{repo}"));
        Assert.Equal("git://127.0.0.1/team/curl.git", stored.GetProperty("cloneUrl").GetString());
        Assert.True(stored.GetProperty("cancelRunning").GetBoolean());
        Assert.Equal(3, stored.GetProperty("priority").GetInt32());
        Assert.True(stored.GetProperty("hasSecret").GetBoolean());
    }

    [Fact]
    public async Task Hooks_answer_ignored_events_bad_bodies_and_unknown_repositories_clearly()
    {
        var ping = new HttpRequestMessage(HttpMethod.Post, "/hooks/github") { Content = new StringContent("{}") };
        ping.Headers.Add("X-GitHub-Event", "ping");
        var (pingStatus, pingBody) = await SendAsync(Http, ping);
        Assert.Equal(200, pingStatus);
        Assert.Contains("not a push", pingBody.GetProperty("ignored").GetString());

        var bad = new HttpRequestMessage(HttpMethod.Post, "/hooks/github") { Content = new StringContent("{\"ref\":\"refs/heads/main\"}") };
        bad.Headers.Add("X-GitHub-Event", "push");
        var (badStatus, badBody) = await SendAsync(Http, bad);
        Assert.Equal(400, badStatus);
        Assert.Contains("field 'repository' is missing", badBody.GetProperty("error").GetString());

        var (unknown, unknownBody) = await SendAsync(Http, GitHubPush("nobody/knows", "main", Commit, Secret));
        Assert.Equal(404, unknown);
        Assert.Contains("repository 'nobody/knows' is not registered", unknownBody.GetProperty("error").GetString());

        using var r = await Http.PostAsync("/hooks/svn", new StringContent("{}"));
        Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
    }

    [Fact]
    public async Task GitLab_and_Bitbucket_hooks_check_their_secret_and_deletions_and_tags_answer_a_note_and_queue_nothing()
    {
        const string repo = "team/providers";
        await RegisterAsync(Http, repo, Secret);

        var (wrongToken, wrongTokenBody) = await SendAsync(Http, GitLabPush(repo, "main", Commit, "not-the-secret"));
        Assert.Equal(401, wrongToken);
        Assert.Contains("X-Gitlab-Token", wrongTokenBody.GetProperty("error").GetString());
        var bitbucketBody = JsonSerializer.Serialize(new
        {
            repository = new { full_name = repo },
            push = new { changes = new[] { new { @new = new { type = "branch", name = "main", target = new { hash = Commit } }, old = (object?)null } } },
        });
        var bitbucket = new HttpRequestMessage(HttpMethod.Post, "/hooks/bitbucket") { Content = new StringContent(bitbucketBody) };
        bitbucket.Headers.Add("X-Event-Key", "repo:push");
        bitbucket.Headers.Add("X-Hub-Signature", "sha256=" + new string('0', 64));
        var (badSignature, badSignatureBody) = await SendAsync(Http, bitbucket);
        Assert.Equal(401, badSignature);
        Assert.Contains("X-Hub-Signature", badSignatureBody.GetProperty("error").GetString());
        var notJson = new HttpRequestMessage(HttpMethod.Post, "/hooks/github") { Content = new StringContent("ref=main") };
        notJson.Headers.Add("X-GitHub-Event", "push");
        notJson.Headers.Add("X-Hub-Signature-256", HookSignature.SignHmacSha256(Secret, Encoding.UTF8.GetBytes("ref=main")));
        var (notJsonStatus, _) = await SendAsync(Http, notJson);
        Assert.Equal(400, notJsonStatus);
        Assert.Empty(await BuildIdsAsync(Http, repo));

        var deleted = GitHubDelivery(new { @ref = "refs/heads/old", before = Commit, after = new string('0', 40), deleted = true, repository = new { full_name = repo } });
        var (deletedStatus, deletedBody) = await SendAsync(Http, deleted);
        Assert.Equal(200, deletedStatus);
        Assert.Empty(deletedBody.GetProperty("builds").EnumerateArray());
        Assert.Contains("'old' was deleted: nothing to build", Assert.Single(deletedBody.GetProperty("notes").EnumerateArray()).GetString());
        var tag = GitHubDelivery(new { @ref = "refs/tags/v1.0", before = new string('0', 40), after = Commit, created = true, repository = new { full_name = repo } });
        var (tagStatus, tagBody) = await SendAsync(Http, tag);
        Assert.Equal(200, tagStatus);
        Assert.Empty(tagBody.GetProperty("builds").EnumerateArray());
        Assert.Equal("tag 'v1.0': tag pushes start no build", Assert.Single(tagBody.GetProperty("notes").EnumerateArray()).GetString());
        Assert.Empty(await BuildIdsAsync(Http, repo));

        var (pushed, pushedBody) = await SendAsync(Http, GitLabPush(repo, "main", Commit, Secret));
        Assert.Equal(200, pushed);
        var id = Assert.Single(pushedBody.GetProperty("builds").EnumerateArray()).GetString()!;
        var build = await BuildAsync(Http, id);
        Assert.Equal("main", build.GetProperty("branch").GetString());
        Assert.Equal(Commit, build.GetProperty("commit").GetString());
        Assert.Equal([id], await BuildIdsAsync(Http, repo));
        await CancelAsync(id);
    }

    private static HttpRequestMessage GitHubDelivery(object payload)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(payload);
        var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/github") { Content = new ByteArrayContent(body) };
        request.Headers.Add("X-GitHub-Event", "push");
        request.Headers.Add("X-GitHub-Delivery", Guid.NewGuid().ToString());
        request.Headers.Add("X-Hub-Signature-256", HookSignature.SignHmacSha256(Secret, body));
        return request;
    }

    [Fact]
    public async Task Repository_shows_whether_it_has_a_secret_but_never_the_secret()
    {
        await RegisterAsync(Http, "team/shown", Secret);
        var text = await Http.GetStringAsync("/v1/repos/team/shown");
        Assert.DoesNotContain(Secret, text);
        Assert.True(JsonDocument.Parse(text).RootElement.GetProperty("hasSecret").GetBoolean());
    }

    private Task CancelAsync(string id) => BuildsHttp.CancelAsync(Http, id);
}
