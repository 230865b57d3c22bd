using System.Net;
using Platform.Client.Tls;
using Platform.Silo.Tests.Tls;
using Xunit.Abstractions;

namespace Platform.Silo.Tests.Deploy;

/// <summary>
/// A cluster deploy whose archive (and manifest) is an artifact of a silo serving HTTPS with a certificate from a private CA: the real
/// agent, trusting that CA through its <c>ca_file</c>, fetches it as it connects.
/// </summary>
public sealed class TlsArtifactDeployTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly TestCertificates _certs = new();
    private TlsSiloProcess _silo = null!;
    private HttpClient _http = null!;
    private DeployFleet _fleet = null!;

    public async Task InitializeAsync()
    {
        _silo = await TlsSiloProcess.StartAsync(_certs.Server, _certs.CaFile);
        _http = _silo.CreateHttpClient(new TlsClientSettings { CaFile = _certs.CaFile });
        _fleet = new DeployFleet(_silo.BaseAddress.ToString().TrimEnd('/'));
    }

    public async Task DisposeAsync()
    {
        await _fleet.DisposeAsync();
        _http.Dispose();
        await _silo.DisposeAsync();
        _certs.Dispose();
    }

    /// <summary>Starts one agent trusting the CA and uploads the archive to the silo; the node and an inline manifest of the artifact.</summary>
    private async Task<(string Node, string Manifest)> StartAsync()
    {
        _fleet.AgentConfig["ca_file"] = _certs.CaFile;
        await _fleet.StartAgentsAsync(_http, [DeployFleet.Pass]);
        using (var fetch = new HttpClient())
        using (var put = await _http.PutAsync($"/v1/artifacts/{_fleet.Prefix}/app.tar.gz", new ByteArrayContent(await fetch.GetByteArrayAsync(_fleet.Server.Url("app.tar.gz")))))
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        var manifest = $$$"""
            src: {{{_silo.BaseAddress}}}v1/artifacts/{{{_fleet.Prefix}}}/app.tar.gz
            checksum: {{{_fleet.Checksum}}}
            dest: {{ env "NODE_DIR" }}/dest/
            """;
        return (_fleet.Names.Single(), manifest);
    }

    /// <summary>Posts the deploy, waits for its end and checks that it succeeded and wrote the node's dest.</summary>
    private async Task<System.Text.Json.JsonElement> DeployAsync(string node, object request)
    {
        var (status, body) = await DeployFleet.PostAsync(_http, request);
        Assert.True(status == 201, body.ToString());
        var id = body.GetProperty("id").GetString()!;
        System.Text.Json.JsonElement done = default;
        await _fleet.UntilAsync(async () => (done = await DeployFleet.GetAsync(_http, id)).GetProperty("status").GetString() != "running", "the deploy ending");
        output.WriteLine(done.ToString());
        Assert.Equal("succeeded", done.GetProperty("status").GetString());
        Assert.Equal("release 1\n", File.ReadAllText(Path.Combine(_fleet.NodeDir(node), "dest", "index.html")));
        return done;
    }

    [Fact]
    public async Task An_agent_with_ca_file_fetches_an_artifact_from_its_https_silo()
    {
        var (node, manifest) = await StartAsync();
        await DeployAsync(node, new { manifest, target = new { nodes = new[] { node } } });
    }

    [Fact]
    public async Task A_manifest_url_on_the_https_silo_is_loaded_by_an_agent_with_ca_file()
    {
        var (node, manifest) = await StartAsync();
        using (var put = await _http.PutAsync($"/v1/artifacts/{_fleet.Prefix}/manifest.yml", new StringContent(manifest)))
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        var manifestUrl = $"{_silo.BaseAddress}v1/artifacts/{_fleet.Prefix}/manifest.yml";
        Assert.StartsWith("https://", manifestUrl);

        var done = await DeployAsync(node, new { manifest_url = manifestUrl, target = new { nodes = new[] { node } } });
        Assert.Contains($"Loading manifest: {manifestUrl}", done.GetProperty("nodes")[0].GetProperty("output_tail").GetString());
    }
}
