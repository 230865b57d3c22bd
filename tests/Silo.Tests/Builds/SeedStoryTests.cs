using System.Diagnostics;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Platform.Builds.Hooks;
using Platform.Silo.Tests.Nodes.AgentApi;
using Xunit.Abstractions;
using static Platform.Silo.Tests.Builds.BuildsHttp;
using static Platform.Silo.Tests.Support.GitCli;

namespace Platform.Silo.Tests.Builds;

/// <summary>
/// The seed's whole story on real parts: a Bitbucket push hook (the captured delivery, signed as Bitbucket signs it) builds
/// the repository's pipeline on a real build agent, whose step makes a tarball with <c>tar</c> and a Stretcher manifest and
/// uploads both to the silo's artifact store; the build's end sets <c>/v2/keys/build_notify</c>, waking an etcd watch that
/// was waiting before the push, and deploys the uploaded manifest to three real deploy agents, each with its own dest.
/// </summary>
public sealed class SeedStoryTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Secret = "seed-story-hook";

    /// <summary>The repository the captured delivery names: registered under that name, cloned from a local bare repository.</summary>
    private const string Repo = "takitake/mysidia";

    /// <summary>The captured delivery's commit, replaced by the local repository's real one.</summary>
    private const string CapturedCommit = "8fb0eefc6a340d57598ca553a07fade1a10f2c30";

    private const string Page = "<h1>mysidia, built from its repository</h1>\n";

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    private AgentProcessFleet _fleet = null!;
    private readonly string _work = Path.Combine(Path.GetTempPath(), "platform-seed-story-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly List<string> _web = [];

    private string Bare => Path.Combine(_work, "mysidia.git");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_work);
        _fleet = await AgentProcessFleet.StartAsync();
        await _fleet.StartAgentAsync("builder-" + _fleet.Suffix, new() { ["build_slots"] = 1, ["tags"] = new Dictionary<string, string> { ["role"] = "builder" } });
        for (var i = 1; i <= 3; i++)
        {
            var node = $"web{i}-{_fleet.Suffix}";
            var dir = _fleet.NodeDir(node);
            // The release before this one, with a file the new one no longer has: rsync --delete must remove it.
            Directory.CreateDirectory(Path.Combine(dir, "dest"));
            File.WriteAllText(Path.Combine(dir, "dest", "index.html"), "the previous release\n");
            File.WriteAllText(Path.Combine(dir, "dest", "stale.txt"), "gone after the deploy\n");
            await _fleet.StartAgentAsync(node, new()
            {
                ["enable_deploys"] = true,
                ["tags"] = new Dictionary<string, string> { ["role"] = "web", ["fleet"] = _fleet.Suffix },
            }, new Dictionary<string, string> { ["NODE_DIR"] = dir });
            _web.Add(node);
        }
    }

    public async Task DisposeAsync()
    {
        if (_fleet is not null) await _fleet.DisposeAsync();
        try { Directory.Delete(_work, recursive: true); }
        catch (DirectoryNotFoundException) { /* nothing was made */ }
    }

    private HttpClient Http => _fleet.Http;

    private string Artifacts => $"{_fleet.SiloUrl}/v1/artifacts";

    [Fact]
    public async Task Bitbucket_push_builds_uploads_notifies_and_deploys_the_build_to_three_agents()
    {
        var commit = MakeRepository();
        using (var r = await Http.PutAsJsonAsync($"/v1/repos/{Repo}", new { cloneUrl = "file://" + Bare, secret = Secret }))
            Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
        await AddRuleAsync($$$"""
            {"name":"seed-story","trigger":{"type":"build_finished","repo":"{{{Repo}}}","status":"passed"},
             "actions":[
               {"type":"set_key","key":"/build_notify","value":"{{build_id}}"},
               {"type":"start_deploy","manifestUrl":"{{{Artifacts}}}/{{build_id}}/dist/manifest.yml",
                "target":{"tags":{"role":"^web$","fleet":"^{{{_fleet.Suffix}}}$"}} }]}
            """);

        // The seed's watcher: an etcd long poll on build_notify, registered (its headers came) before the push.
        using var watcher = new HttpClient { BaseAddress = Http.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        using var watchCancel = new CancellationTokenSource(Deadline * 2);
        using var watch = await watcher.GetAsync("/v2/keys/build_notify?wait=true", HttpCompletionOption.ResponseHeadersRead, watchCancel.Token);
        Assert.True(watch.IsSuccessStatusCode, $"the watch was answered {(int)watch.StatusCode}");
        var woken = watch.Content.ReadAsStringAsync(watchCancel.Token);
        var clock = Stopwatch.StartNew();

        var id = await PushAsync(commit);
        output.WriteLine($"hook answered build {id} after {clock.ElapsedMilliseconds} ms");

        // The watch wakes with the build's id: the build passed and its rule ran.
        var change = JsonDocument.Parse(await woken.WaitAsync(Deadline)).RootElement;
        Assert.Equal("set", change.GetProperty("action").GetString());
        Assert.Equal(id, change.GetProperty("node").GetProperty("value").GetString());
        output.WriteLine($"build_notify watcher woke after {clock.ElapsedMilliseconds} ms");

        var build = await BuildAsync(Http, id);
        Assert.Equal("passed", build.GetProperty("state").GetString());
        Assert.Equal(commit, build.GetProperty("commit").GetString());
        Assert.Equal("master", build.GetProperty("branch").GetString());
        var uploaded = Job(build, "package").GetProperty("artifacts").EnumerateArray()
            .ToDictionary(a => a.GetProperty("name").GetString()!, a => a.GetProperty("sha256").GetString()!);
        Assert.Equal([$"{id}/dist/app.tar.gz", $"{id}/dist/manifest.yml"], uploaded.Keys.Order(StringComparer.Ordinal));
        var tarball = await Http.GetByteArrayAsync($"/v1/artifacts/{id}/dist/app.tar.gz");
        Assert.Equal(uploaded[$"{id}/dist/app.tar.gz"], Convert.ToHexStringLower(SHA256.HashData(tarball)));

        // The rule's deploy of that build's manifest ends with every web node holding the new build.
        var deploy = await DeployOfAsync();
        Assert.Equal("succeeded", deploy.GetProperty("status").GetString());
        Assert.Equal(_web.Order(StringComparer.Ordinal), deploy.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("node").GetString()!).Order(StringComparer.Ordinal));
        output.WriteLine($"deploy {deploy.GetProperty("id").GetString()} succeeded after {clock.ElapsedMilliseconds} ms");
        foreach (var node in _web)
        {
            var dest = Path.Combine(_fleet.NodeDir(node), "dest");
            Assert.Equal(Page, File.ReadAllText(Path.Combine(dest, "index.html")));
            Assert.Equal(commit + "\n", File.ReadAllText(Path.Combine(dest, "COMMIT")));
            Assert.False(File.Exists(Path.Combine(dest, "stale.txt")), $"{node}: the previous release's stale.txt is still in dest");
            Assert.Equal([commit], File.ReadAllLines(Path.Combine(_fleet.NodeDir(node), "deployed.log")));
        }
        Assert.False(Directory.Exists(Path.Combine(_fleet.NodeDir("builder-" + _fleet.Suffix), "dest")), "the build agent is not a web node");

        // Each node's history says what ran on it: the builder the build's two jobs, each web node its part of the deploy.
        var builder = "builder-" + _fleet.Suffix;
        var jobs = await NodeHistoryAsync(builder, "jobs", list => list.GetArrayLength() == 2 && list.EnumerateArray().All(j => j.GetProperty("state").GetString() == "passed"));
        Assert.Equal(["package", "~pipeline"], jobs.EnumerateArray().Select(j => j.GetProperty("job").GetString()!).Order(StringComparer.Ordinal));
        Assert.All(jobs.EnumerateArray(), j =>
        {
            Assert.Equal(id, j.GetProperty("build").GetString());
            Assert.Equal(Repo, j.GetProperty("repository").GetString());
            Assert.Equal(0, j.GetProperty("exitStatus").GetInt32());
            Assert.True(j.GetProperty("finished").GetDateTimeOffset() >= j.GetProperty("started").GetDateTimeOffset());
        });
        // Newest first: the package step started after the pipeline job that expanded it.
        Assert.Equal("package", jobs[0].GetProperty("job").GetString());
        Assert.Equal(0, (await Http.GetFromJsonAsync<JsonElement>($"/v1/nodes/{builder}/deploys")).GetArrayLength());
        var deployId = deploy.GetProperty("id").GetString();
        foreach (var node in _web)
        {
            var runs = await NodeHistoryAsync(node, "deploys", list => list.GetArrayLength() == 1 && list[0].GetProperty("status").GetString() == "succeeded");
            Assert.Equal(deployId, runs[0].GetProperty("deploy").GetString());
            Assert.Equal(0, runs[0].GetProperty("exitCode").GetInt32());
            Assert.Equal(0, (await Http.GetFromJsonAsync<JsonElement>($"/v1/nodes/{node}/jobs")).GetArrayLength());
        }
        using var unknown = await Http.GetAsync($"/v1/nodes/nobody-{_fleet.Suffix}/deploys");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, unknown.StatusCode);
        using var badLimit = await Http.GetAsync($"/v1/nodes/{builder}/jobs?limit=0");
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, badLimit.StatusCode);
        Assert.Contains("limit '0'", await badLimit.Content.ReadAsStringAsync());
    }

    /// <summary>A node's history (<paramref name="part"/>: deploys or jobs) once <paramref name="done"/> holds: it is told after the deploy or build stores its change.</summary>
    private async Task<JsonElement> NodeHistoryAsync(string node, string part, Func<JsonElement, bool> done)
    {
        var clock = Stopwatch.StartNew();
        JsonElement last = default;
        while (clock.Elapsed < Deadline)
        {
            last = await Http.GetFromJsonAsync<JsonElement>($"/v1/nodes/{node}/{part}");
            if (done(last)) return last;
            await Task.Delay(50);
        }
        throw new TimeoutException($"{node}'s {part} did not come to the expected state within {Deadline.TotalSeconds} s; last {last}");
    }

    /// <summary>The captured Bitbucket delivery, its commit replaced by <paramref name="commit"/>, signed as Bitbucket signs it; the one build it started.</summary>
    private async Task<string> PushAsync(string commit)
    {
        var captured = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Builds", "bitbucket-push.json"));
        Assert.Contains(CapturedCommit, captured);
        var body = Encoding.UTF8.GetBytes(captured.Replace(CapturedCommit, commit, StringComparison.Ordinal));
        var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/bitbucket") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.Add("X-Event-Key", "repo:push");
        request.Headers.Add("X-Request-UUID", Guid.NewGuid().ToString());
        request.Headers.Add("X-Hub-Signature", HookSignature.SignHmacSha256(Secret, body));
        var (status, answer) = await SendAsync(Http, request);
        Assert.True(status == 200, answer.ToString());
        return Assert.Single(answer.GetProperty("builds").EnumerateArray()).GetString()!;
    }

    /// <summary>Waits for the one deploy of this fleet to end; that deploy.</summary>
    private async Task<JsonElement> DeployOfAsync()
    {
        var clock = Stopwatch.StartNew();
        JsonElement? last = null;
        while (clock.Elapsed < Deadline)
        {
            var list = await Http.GetFromJsonAsync<JsonElement>($"/v1/deploys?target={_fleet.Suffix}");
            if (list.GetArrayLength() > 1) throw new Xunit.Sdk.XunitException($"more than one deploy: {list}");
            if (list.GetArrayLength() == 1)
            {
                var deploy = await Http.GetFromJsonAsync<JsonElement>($"/v1/deploys/{list[0].GetProperty("id").GetString()}");
                last = deploy;
                if (deploy.GetProperty("status").GetString() != "running") return deploy;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"no deploy of the build ended within {Deadline.TotalSeconds} s; last seen {last}\n{_fleet.Diagnostics()}");
    }

    private async Task AddRuleAsync(string json)
    {
        using var response = await Http.PostAsync("/v1/rules", new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// A bare repository with one commit on master: a site, and a pipeline whose one step packs it (with the commit it
    /// builds) into <c>dist/app.tar.gz</c> with <c>tar</c> and writes a Stretcher manifest naming that artifact and its SHA-256.
    /// </summary>
    private string MakeRepository()
    {
        var source = Path.Combine(_work, "source");
        Directory.CreateDirectory(Path.Combine(source, ".platform"));
        Directory.CreateDirectory(Path.Combine(source, "scripts"));
        Directory.CreateDirectory(Path.Combine(source, "site"));
        File.WriteAllText(Path.Combine(source, "site", "index.html"), Page);
        File.WriteAllText(Path.Combine(source, ".platform", "pipeline.yml"), $"""
            env:
              ARTIFACTS_URL: {Artifacts}
            steps:
              - key: package
                label: Pack the site and its manifest
                run: scripts/package.sh
                agents:
                  role: builder
                timeout: 5m
                artifacts: [dist/app.tar.gz, dist/manifest.yml]
            """);
        // The manifest's dest is each node's own ({{ env "NODE_DIR" }} is read on the node); post records what was deployed.
        File.WriteAllText(Path.Combine(source, "scripts", "package.sh"), """
            #!/bin/sh
            set -e
            rm -rf dist
            mkdir -p dist/app
            cp -R site/. dist/app/
            echo "$PLATFORM_COMMIT" > dist/app/COMMIT
            tar -czf dist/app.tar.gz -C dist/app .
            sum=$(sha256sum dist/app.tar.gz | cut -d' ' -f1)
            cat > dist/manifest.yml <<EOF
            src: $ARTIFACTS_URL/$PLATFORM_BUILD_ID/dist/app.tar.gz
            checksum: $sum
            dest: {{ env "NODE_DIR" }}/dest/
            commands:
              post:
                - echo $PLATFORM_COMMIT >> "\$NODE_DIR/deployed.log"
            EOF
            echo "packed $PLATFORM_COMMIT as $sum"

            """);
        Git(source, "init", "--quiet", "--initial-branch=master");
        Git(source, "add", ".");
        Git(source, "update-index", "--chmod=+x", "scripts/package.sh");
        Git(source, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "--quiet", "-m", "site and pipeline");
        Git(_work, "clone", "--quiet", "--bare", source, Bare);
        return Git(source, "rev-parse", "HEAD").Trim();
    }
}
