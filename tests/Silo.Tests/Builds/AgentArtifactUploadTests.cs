using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Platform.Silo.Tests.Nodes.AgentApi;
using static Platform.Silo.Tests.Builds.BuildsHttp;
using static Platform.Silo.Tests.Support.GitCli;

namespace Platform.Silo.Tests.Builds;

/// <summary>
/// Artifacts uploaded with an agent's token on a silo with tokens (docs/artifacts.md, "Uploads by agents"): a real
/// <c>platform agent</c> connected with a token of scope <c>agent</c> uploads its step's artifacts under the build it runs;
/// the same token may not write under another build, outside any build, or after the job ended, and a token of scope
/// <c>agent</c> that no running job's agent connected with may not write at all.
/// </summary>
public sealed class AgentArtifactUploadTests : IAsyncLifetime
{
    private const string Secret = "agent-upload-hook";
    private AgentProcessFleet _fleet = null!;
    private string _agentToken = "";
    private readonly string _work = Path.Combine(Path.GetTempPath(), "platform-agent-upload-" + Guid.NewGuid().ToString("N")[..8]);

    private string Bare => Path.Combine(_work, "app.git");

    private string Started => Path.Combine(_work, "started");

    private string Release => Path.Combine(_work, "release");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_work);
        _fleet = await AgentProcessFleet.StartAsync();
        // The first token closes the silo; from then on the fleet's client is the admin.
        var admin = await CreateTokenAsync("admin", "admin");
        _fleet.Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", admin);
        _agentToken = await CreateTokenAsync("builders", "agent");
        await _fleet.StartAgentAsync("builder-" + _fleet.Suffix, new() { ["build_slots"] = 1, ["token"] = _agentToken });
    }

    public async Task DisposeAsync()
    {
        if (_fleet is not null) await _fleet.DisposeAsync();
        try { Directory.Delete(_work, recursive: true); }
        catch (DirectoryNotFoundException) { /* nothing was made */ }
    }

    [Fact]
    public async Task Agent_token_writes_only_under_a_build_its_agent_runs()
    {
        var stranger = await CreateTokenAsync("stranger", "agent");
        var commit = MakeRepository();
        const string repo = "team/uploads";
        using (var r = await _fleet.Http.PutAsJsonAsync($"/v1/repos/{repo}", new { cloneUrl = "file://" + Bare, secret = Secret }))
            Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
        var id = await PushAsync(_fleet.Http, repo, "main", Secret, commit);
        var other = repo + "/999";

        // The step holds until released: while it runs, its agent's token writes under its build and nowhere else.
        await UntilAsync(() => File.Exists(Started), "the step started");
        await WaitForBuildAsync(_fleet.Http, id, b => Job(b, "package").GetProperty("state").GetString() == "running", "package running");
        Assert.Equal(HttpStatusCode.Created, await PutAsync(_agentToken, $"{id}/direct.txt"));
        await RefusedAsync(_agentToken, $"{other}/dist/out.txt", "builders");
        await RefusedAsync(_agentToken, "team/uploads/dist/out.txt", "builders");
        await RefusedAsync(_agentToken, id, "builders");
        await RefusedAsync(stranger, $"{id}/dist/out.txt", "stranger");
        using (var delete = await SendAsync(HttpMethod.Delete, _agentToken, $"{id}/direct.txt"))
            Assert.Equal(HttpStatusCode.Forbidden, delete.StatusCode);

        File.WriteAllText(Release, "go");
        var build = await WaitForBuildAsync(_fleet.Http, id, b => b.GetProperty("state").GetString() is "passed" or "failed", "its end", TimeSpan.FromSeconds(120));
        Assert.True(build.GetProperty("state").GetString() == "passed", $"{build}\n{_fleet.Diagnostics()}");
        var artifact = Assert.Single(Job(build, "package").GetProperty("artifacts").EnumerateArray());
        Assert.Equal($"{id}/dist/out.txt", artifact.GetProperty("name").GetString());
        Assert.Equal($"built {commit}\n", await _fleet.Http.GetStringAsync($"/v1/artifacts/{id}/dist/out.txt"));

        // The job ended: its agent's token writes nothing more under the build.
        await RefusedAsync(_agentToken, $"{id}/late.txt", "builders");
        using var list = await _fleet.Http.GetAsync($"/v1/artifacts?prefix={Uri.EscapeDataString(repo + "/")}");
        var names = (await list.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().Select(a => a.GetProperty("name").GetString()!);
        Assert.Equal([$"{id}/direct.txt", $"{id}/dist/out.txt"], names.Order(StringComparer.Ordinal));
    }

    private async Task RefusedAsync(string token, string name, string tokenName)
    {
        using var response = await SendAsync(HttpMethod.Put, token, name, new ByteArrayContent([1, 2, 3]));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"PUT {name} with token {tokenName}: {(int)response.StatusCode} {body}");
        Assert.Contains($"token '{tokenName}' has scope 'agent', which may write artifacts only under a build", body);
        Assert.Contains($"'{name}' is not under such a build", body);
    }

    private async Task<HttpStatusCode> PutAsync(string token, string name)
    {
        using var response = await SendAsync(HttpMethod.Put, token, name, new ByteArrayContent([1, 2, 3]));
        Assert.True(response.IsSuccessStatusCode, $"PUT {name}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return response.StatusCode;
    }

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string token, string name, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, $"{_fleet.SiloUrl}/v1/artifacts/{name}") { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        // Not the fleet's client: its default header is the admin's token.
        return Plain.SendAsync(request);
    }

    private static readonly HttpClient Plain = new() { Timeout = TimeSpan.FromSeconds(30) };

    private async Task<string> CreateTokenAsync(string name, string scope)
    {
        using var response = await _fleet.Http.PostAsJsonAsync("/v1/access/tokens", new { name, scopes = new[] { scope } });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"creating token {name}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("secret").GetString()!;
    }

    private async Task UntilAsync(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(90)) throw new TimeoutException($"{what} did not happen within 90 s\n{_fleet.Diagnostics()}");
            await Task.Delay(50);
        }
    }

    /// <summary>A bare repository whose one step writes dist/out.txt, marks itself started and holds until released.</summary>
    private string MakeRepository()
    {
        var source = Path.Combine(_work, "source");
        Directory.CreateDirectory(Path.Combine(source, ".platform"));
        Directory.CreateDirectory(Path.Combine(source, "scripts"));
        File.WriteAllText(Path.Combine(source, ".platform", "pipeline.yml"), $"""
            steps:
              - key: package
                run: scripts/hold.sh
                args: [{Started}, {Release}]
                artifacts: [dist/out.txt]
            """);
        // The step's own wait is bounded, so a test that fails midway does not leave it running.
        File.WriteAllText(Path.Combine(source, "scripts", "hold.sh"), """
            #!/bin/sh
            set -e
            mkdir -p dist
            echo "built $PLATFORM_COMMIT" > dist/out.txt
            touch "$1"
            i=0
            while [ ! -e "$2" ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
            [ -e "$2" ]

            """);
        Git(source, "init", "--quiet", "--initial-branch=main");
        Git(source, "add", ".");
        Git(source, "update-index", "--chmod=+x", "scripts/hold.sh");
        Git(source, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "--quiet", "-m", "pipeline");
        Git(_work, "clone", "--quiet", "--bare", source, Bare);
        return Git(source, "rev-parse", "HEAD").Trim();
    }
}
