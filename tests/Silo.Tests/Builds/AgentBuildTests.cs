using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Platform.Silo.Tests.Nodes.AgentApi;
using static Platform.Silo.Tests.Builds.BuildsHttp;
using static Platform.Silo.Tests.Support.GitCli;

namespace Platform.Silo.Tests.Builds;

/// <summary>
/// A real build end to end: a real silo process, a real <c>platform agent</c> with <c>build_slots</c> set, a bare git repository
/// served as file://, a signed GitHub push (or <c>POST /v1/builds</c>), and a pipeline of two dependent steps.
/// </summary>
public sealed class AgentBuildTests : IAsyncLifetime
{
    private const string Secret = "agent-build-hook";
    private AgentProcessFleet _fleet = null!;
    private readonly string _work = Path.Combine(Path.GetTempPath(), "platform-agent-build-" + Guid.NewGuid().ToString("N")[..8]);

    private string Bare => Path.Combine(_work, "app.git");

    private string Order => Path.Combine(_work, "order.log");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_work);
        _fleet = await AgentProcessFleet.StartAsync();
        await _fleet.StartAgentAsync("builder-" + _fleet.Suffix, new() { ["build_slots"] = 1 });
    }

    public async Task DisposeAsync()
    {
        if (_fleet is not null) await _fleet.DisposeAsync();
        try { Directory.Delete(_work, recursive: true); }
        catch (DirectoryNotFoundException) { /* nothing was made */ }
    }

    [Fact]
    public async Task GitHub_push_builds_both_steps_in_order_on_a_real_agent_and_the_log_is_readable()
    {
        var commit = MakeRepository();
        const string repo = "team/agent-built";
        await RegisterAsync(repo);

        var id = await PushAsync(_fleet.Http, repo, "main", Secret, commit);

        var build = await PassedAsync(id);
        Assert.Equal(["compile " + commit, "test " + commit], File.ReadAllLines(Order));
        Assert.Equal("passed", Job(build, "compile").GetProperty("state").GetString());
        Assert.Equal("passed", Job(build, "test").GetProperty("state").GetString());
        var log = await LogAsync(_fleet.Http, id, "test");
        Assert.Contains("testing in the checkout", log);
        Assert.Contains("~~~ platform: scripts/step.sh exited with status 0", log);
    }

    [Fact]
    public async Task Followed_build_sees_each_job_of_a_real_agent_run_then_pass()
    {
        var commit = MakeRepository();
        const string repo = "team/agent-followed";
        await RegisterAsync(repo);
        using var created = await _fleet.Http.PostAsJsonAsync("/v1/builds", new { repo, branch = "main", commit });
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;

        using var response = await _fleet.Http.GetAsync($"/v1/builds/{id}?follow=true", HttpCompletionOption.ResponseHeadersRead);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var seen = new List<string>();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        // Every state a job went through, in the order the pushed lines showed it.
        var states = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        while (await reader.ReadLineAsync(deadline.Token) is { } text)
        {
            seen.Add(text);
            var build = JsonDocument.Parse(text).RootElement.GetProperty("build");
            foreach (var job in build.GetProperty("jobs").EnumerateArray())
            {
                var list = states.TryGetValue(job.GetProperty("key").GetString()!, out var l) ? l : states[job.GetProperty("key").GetString()!] = [];
                var state = job.GetProperty("state").GetString()!;
                if (list.Count == 0 || list[^1] != state) list.Add(state);
            }
            if (build.GetProperty("state").GetString() is "passed" or "failed" or "canceled") break;
        }
        Assert.True(seen.Count > 0 && JsonDocument.Parse(seen[^1]).RootElement.GetProperty("build").GetProperty("state").GetString() == "passed",
            $"the followed build did not pass: {string.Join('\n', seen.TakeLast(3))}\n{_fleet.Diagnostics()}");
        Assert.Contains("running", states["compile"]);
        Assert.Equal("passed", states["compile"][^1]);
        Assert.Contains("running", states["test"]);
        Assert.Equal("passed", states["test"][^1]);
    }

    [Fact]
    public async Task Build_started_without_a_commit_builds_the_head_of_its_branch()
    {
        var commit = MakeRepository();
        const string repo = "team/agent-head";
        await RegisterAsync(repo);

        using var response = await _fleet.Http.PostAsJsonAsync("/v1/builds", new { repo, branch = "main" });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        var id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;

        await PassedAsync(id);
        Assert.Equal(["compile " + commit, "test " + commit], File.ReadAllLines(Order));
        Assert.Contains($"~~~ platform: branch main is at commit {commit}", await LogAsync(_fleet.Http, id, "~pipeline"));
    }

    [Fact]
    public async Task Build_of_a_branch_head_keeps_the_commit_its_pipeline_job_found_even_when_the_branch_moves()
    {
        // compile pushes a new commit to main before test runs: test must still build the commit the build started with.
        var commit = MakeRepository(advanceFrom: "compile");
        const string repo = "team/agent-pinned";
        await RegisterAsync(repo);
        await AddRuleAsync($$$"""{"name":"pinned","trigger":{"type":"build_finished","repo":"{{{repo}}}","status":"passed"},"actions":[{"type":"set_key","key":"/pinned","value":"{{commit}}"}]}""");

        using var response = await _fleet.Http.PostAsJsonAsync("/v1/builds", new { repo, branch = "main" });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        var id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;

        var build = await PassedAsync(id);
        Assert.Equal(commit, build.GetProperty("commit").GetString());
        Assert.Equal(["compile " + commit, "test " + commit], File.ReadAllLines(Order));
        var moved = Git(Bare, "rev-parse", "main").Trim();
        Assert.NotEqual(commit, moved);
        Assert.Contains($"~~~ platform: checking out file://{Bare} at {commit}", await LogAsync(_fleet.Http, id, "test"));
        // The rules see the exact commit too.
        await _fleet.UntilAsync(async () => await KeyAsync("/pinned") == commit, $"/pinned set to {commit}");
    }

    [Fact]
    public async Task Rules_hear_the_push_and_the_passed_build_of_a_real_agent()
    {
        var commit = MakeRepository();
        const string repo = "team/agent-ruled";
        await RegisterAsync(repo);
        await AddRuleAsync($$$"""{"name":"pushed","trigger":{"type":"push","repo":"{{{repo}}}"},"actions":[{"type":"set_key","key":"/pushed","value":"{{commit}}"}]}""");
        await AddRuleAsync($$$"""{"name":"notify","trigger":{"type":"build_finished","repo":"{{{repo}}}","status":"passed"},"actions":[{"type":"set_key","key":"/build_notify","value":"{{build_id}}"}]}""");

        var id = await PushAsync(_fleet.Http, repo, "main", Secret, commit);

        await PassedAsync(id);
        await _fleet.UntilAsync(async () => await KeyAsync("/build_notify") == id, $"/build_notify set to {id}");
        Assert.Equal(commit, await KeyAsync("/pushed"));
    }

    [Fact]
    public async Task Rule_start_build_runs_a_build_of_the_branch_head_on_a_real_agent()
    {
        var commit = MakeRepository();
        const string repo = "team/agent-started";
        await RegisterAsync(repo);
        await AddRuleAsync($$$"""{"name":"starter","trigger":{"type":"key_changed","key":"/release"},"actions":[{"type":"start_build","repo":"{{{repo}}}","branch":"main"}]}""");
        await AddRuleAsync($$$"""{"name":"notify","trigger":{"type":"build_finished","repo":"{{{repo}}}","status":"passed"},"actions":[{"type":"set_key","key":"/build_notify","value":"{{build_id}}"}]}""");

        using (var set = await _fleet.Http.PutAsync("/v2/keys/release", new FormUrlEncodedContent([new("value", "go")])))
            Assert.True(set.IsSuccessStatusCode, await set.Content.ReadAsStringAsync());

        await _fleet.UntilAsync(async () => (await KeyAsync("/build_notify"))?.StartsWith(repo + "/", StringComparison.Ordinal) == true, "/build_notify set");
        var id = (await KeyAsync("/build_notify"))!;
        var build = await BuildAsync(_fleet.Http, id);
        Assert.Equal("passed", build.GetProperty("state").GetString());
        Assert.Equal(["compile " + commit, "test " + commit], File.ReadAllLines(Order));
    }

    private async Task AddRuleAsync(string json)
    {
        using var response = await _fleet.Http.PostAsync("/v1/rules", new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>The key's value, or null while it does not exist.</summary>
    private async Task<string?> KeyAsync(string key)
    {
        using var response = await _fleet.Http.GetAsync("/v2/keys" + key);
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound) return null;
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonDocument.Parse(text).RootElement.GetProperty("node").GetProperty("value").GetString();
    }

    private async Task RegisterAsync(string repo)
    {
        using var r = await _fleet.Http.PutAsJsonAsync($"/v1/repos/{repo}", new { cloneUrl = "file://" + Bare, secret = Secret });
        Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
    }

    private async Task<JsonElement> PassedAsync(string id)
    {
        try
        {
            return await WaitForBuildAsync(_fleet.Http, id, b => b.GetProperty("state").GetString() is "passed" or "failed" or "canceled", "its end",
                TimeSpan.FromSeconds(120)) is var build && build.GetProperty("state").GetString() == "passed"
                ? build
                : throw new Xunit.Sdk.XunitException($"build {id} did not pass: {build}\n{_fleet.Diagnostics()}");
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}\n{_fleet.Diagnostics()}", e);
        }
    }

    /// <summary>
    /// A bare repository with one commit on main: a pipeline whose two steps append their key and commit to <see cref="Order"/>;
    /// the step <paramref name="advanceFrom"/> also pushes a new commit to main of the bare repository.
    /// </summary>
    private string MakeRepository(string? advanceFrom = null)
    {
        var source = Path.Combine(_work, "source");
        Directory.CreateDirectory(Path.Combine(source, ".platform"));
        Directory.CreateDirectory(Path.Combine(source, "scripts"));
        File.WriteAllText(Path.Combine(source, ".platform", "pipeline.yml"), $"""
            steps:
              - key: compile
                run: scripts/step.sh
                args: [{Order}, compile{(advanceFrom == "compile" ? ", " + Bare : "")}]
              - key: test
                run: scripts/step.sh
                args: [{Order}, test]
                depends_on: compile
            """);
        File.WriteAllText(Path.Combine(source, "scripts", "step.sh"), """
            #!/bin/sh
            set -e
            echo "$2ing in the checkout $PWD"
            echo "$2 $PLATFORM_COMMIT" >> "$1"
            if [ -n "$3" ]; then
              git clone --quiet "$3" "$1.next"
              git -C "$1.next" -c user.name=t -c user.email=t@example.org commit --quiet --allow-empty -m next
              git -C "$1.next" push --quiet origin HEAD:main
            fi

            """);
        Git(source, "init", "--quiet", "--initial-branch=main");
        Git(source, "add", ".");
        Git(source, "update-index", "--chmod=+x", "scripts/step.sh");
        Git(source, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "--quiet", "-m", "pipeline");
        Git(_work, "clone", "--quiet", "--bare", source, Bare);
        return Git(source, "rev-parse", "HEAD").Trim();
    }
}
