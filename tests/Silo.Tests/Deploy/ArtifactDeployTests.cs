using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Platform.Silo.Tests.Access;
using Xunit.Abstractions;

namespace Platform.Silo.Tests.Deploy;

/// <summary>
/// A cluster deploy whose manifest and archive are artifacts of a silo with tokens, on a real agent configured by its file
/// alone (its environment has no PLATFORM_TOKEN or PLATFORM_URL): the agent fetches them with its configured token.
/// </summary>
public sealed class ArtifactDeployTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly AccessSilo _silo = new();
    private DeployFleet _fleet = null!;
    private HttpClient _admin = null!;

    public async Task InitializeAsync()
    {
        await _silo.InitializeAsync();
        _admin = new HttpClient { BaseAddress = _silo.Url };
        _admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _silo.Admin);
        _fleet = new DeployFleet($"http://127.0.0.1:{_silo.Silo.Port}");
    }

    public async Task DisposeAsync()
    {
        await _fleet.DisposeAsync();
        _admin.Dispose();
        await _silo.DisposeAsync();
    }

    [Fact]
    public async Task An_agent_configured_by_file_fetches_the_silos_artifacts_with_its_configured_token()
    {
        var agentToken = await _silo.CreateAsync("deploy-nodes", ["agent"]);
        _fleet.AgentConfig["token"] = agentToken;
        await _fleet.StartAgentsAsync(_admin, [DeployFleet.Pass]);
        var node = _fleet.Names.Single();

        var build = await _silo.CreateAsync("deploy-ci", ["build"]);
        var prefix = $"v1/artifacts/{_fleet.Prefix}/1";
        using (var fetch = new HttpClient())
        using (var put = await _silo.SendAsync(HttpMethod.Put, $"/{prefix}/app.tar.gz", build, new ByteArrayContent(await fetch.GetByteArrayAsync(_fleet.Server.Url("app.tar.gz")))))
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        var manifest = $$$"""
            src: {{{_silo.Url}}}{{{prefix}}}/app.tar.gz
            checksum: {{{_fleet.Checksum}}}
            dest: {{ env "NODE_DIR" }}/dest/
            commands:
              post:
                - echo ran >> "$NODE_DIR/ran.log"
            """;
        using (var put = await _silo.SendAsync(HttpMethod.Put, $"/{prefix}/manifest.yml", build, new ByteArrayContent(Encoding.UTF8.GetBytes(manifest))))
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        using (var anonymous = await _silo.SendAsync(HttpMethod.Get, $"/{prefix}/manifest.yml", bearer: null))
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        var (status, body) = await DeployFleet.PostAsync(_admin, new { manifest_url = $"{_silo.Url}{prefix}/manifest.yml", target = new { nodes = new[] { node } } });
        Assert.True(status == 201, body.ToString());
        var id = body.GetProperty("id").GetString()!;
        System.Text.Json.JsonElement done = default;
        await _fleet.UntilAsync(async () => (done = await DeployFleet.GetAsync(_admin, id)).GetProperty("status").GetString() != "running", "the deploy ending");
        output.WriteLine(done.ToString());
        Assert.Equal("succeeded", done.GetProperty("status").GetString());
        Assert.Equal("release 1\n", File.ReadAllText(Path.Combine(_fleet.NodeDir(node), "dest", "index.html")));
        Assert.Equal(1, _fleet.Runs(node));
        Assert.DoesNotContain(agentToken, _fleet.Agent(node).Output, StringComparison.Ordinal);
    }
}
