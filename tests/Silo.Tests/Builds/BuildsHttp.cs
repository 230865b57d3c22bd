using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Platform.Builds.Hooks;

namespace Platform.Silo.Tests.Builds;

/// <summary>The builds API as the tests use it: repositories, signed hook deliveries, builds and their jobs.</summary>
internal static class BuildsHttp
{
    public const string Commit = "0123456789abcdef0123456789abcdef01234567";

    public static async Task RegisterAsync(HttpClient http, string repo, string secret, bool cancelRunning = false)
    {
        using var r = await http.PutAsJsonAsync($"/v1/repos/{repo}", new { cloneUrl = $"git://127.0.0.1/{repo}.git", secret, cancelRunning });
        Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
    }

    /// <summary>Registers <paramref name="repo"/> cloned from <paramref name="cloneUrl"/> and starts a build of main at <paramref name="commit"/> through the API; its id.</summary>
    public static async Task<string> StartBuildAsync(HttpClient http, string repo, string cloneUrl, string commit)
    {
        using (var r = await http.PutAsJsonAsync($"/v1/repos/{repo}", new { cloneUrl, secret = "unused" }))
            Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
        using var created = await http.PostAsJsonAsync("/v1/builds", new { repo, branch = "main", commit });
        var body = await created.Content.ReadAsStringAsync();
        Assert.True(created.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
    }

    /// <summary>A GitHub push delivery of <paramref name="branch"/> at <paramref name="commit"/>, signed with <paramref name="secret"/> (null: unsigned).</summary>
    public static HttpRequestMessage GitHubPush(string repo, string branch, string commit, string? secret, string? delivery = null)
    {
        var body = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
        {
            @ref = $"refs/heads/{branch}",
            before = "1111111111111111111111111111111111111111",
            after = commit,
            repository = new { full_name = repo },
            pusher = new { name = "ann" },
        }));
        var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/github") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.Add("X-GitHub-Event", "push");
        request.Headers.Add("X-GitHub-Delivery", delivery ?? Guid.NewGuid().ToString());
        if (secret is not null) request.Headers.Add("X-Hub-Signature-256", HookSignature.SignHmacSha256(secret, body));
        return request;
    }

    /// <summary>A GitLab push delivery of <paramref name="branch"/> at <paramref name="commit"/>, carrying <paramref name="token"/> in X-Gitlab-Token as GitLab does.</summary>
    public static HttpRequestMessage GitLabPush(string repo, string branch, string commit, string token)
    {
        var body = JsonSerializer.Serialize(new
        {
            object_kind = "push",
            @ref = $"refs/heads/{branch}",
            before = "1111111111111111111111111111111111111111",
            after = commit,
            user_username = "ann",
            project = new { path_with_namespace = repo },
        });
        var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/gitlab") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Gitlab-Event", "Push Hook");
        request.Headers.Add("X-Gitlab-Event-UUID", Guid.NewGuid().ToString());
        request.Headers.Add("X-Gitlab-Token", token);
        return request;
    }

    /// <summary>Sends a delivery; answers the status and the body.</summary>
    public static async Task<(int Status, JsonElement Body)> SendAsync(HttpClient http, HttpRequestMessage request)
    {
        using (request)
        using (var r = await http.SendAsync(request))
        {
            var text = await r.Content.ReadAsStringAsync();
            return ((int)r.StatusCode, JsonDocument.Parse(text.Length == 0 ? "{}" : text).RootElement.Clone());
        }
    }

    /// <summary>Pushes and answers the one build it started.</summary>
    public static async Task<string> PushAsync(HttpClient http, string repo, string branch, string secret, string commit = Commit)
    {
        var (status, body) = await SendAsync(http, GitHubPush(repo, branch, commit, secret));
        Assert.True(status == 200, body.ToString());
        return body.GetProperty("builds").EnumerateArray().Single().GetString()!;
    }

    public static async Task<JsonElement> BuildAsync(HttpClient http, string id)
    {
        using var r = await http.GetAsync($"/v1/builds/{id}");
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public static JsonElement Job(JsonElement build, string key) => build.GetProperty("jobs").EnumerateArray().Single(j => j.GetProperty("key").GetString() == key);

    /// <summary>Polls the build until <paramref name="condition"/> holds.</summary>
    public static async Task<JsonElement> WaitForBuildAsync(HttpClient http, string id, Func<JsonElement, bool> condition, string what, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        JsonElement? last = null;
        while (clock.Elapsed < (timeout ?? TimeSpan.FromSeconds(60)))
        {
            try
            {
                var build = await BuildAsync(http, id);
                last = build;
                if (condition(build)) return build;
            }
            catch (HttpRequestException)
            {
                // A silo of the cluster just died: retry until the grain has moved.
            }
            catch (Xunit.Sdk.XunitException)
            {
                // A 503 while the build's grain moves.
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"build {id}: {what} did not happen; last seen {last}");
    }

    public static async Task<string> LogAsync(HttpClient http, string id, string job, string query = "")
    {
        using var r = await http.GetAsync($"/v1/builds/{id}/jobs/{job}/log{query}");
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, text);
        return text;
    }

    public static async Task<List<string>> BuildIdsAsync(HttpClient http, string repo)
    {
        var list = await http.GetFromJsonAsync<JsonElement>($"/v1/builds?repo={repo}");
        return [.. list.EnumerateArray().Select(b => b.GetProperty("id").GetString()!)];
    }

    /// <summary>Cancels build <paramref name="id"/>, asserting the silo took the cancel.</summary>
    public static async Task CancelAsync(HttpClient http, string id)
    {
        using var r = await http.PostAsync($"/v1/builds/{id}/cancel", null);
        Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
    }
}
