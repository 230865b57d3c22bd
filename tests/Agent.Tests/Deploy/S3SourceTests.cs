using Platform.Agent.Deploy;
using Platform.Agent.Tests.Deploy.Support;

namespace Platform.Agent.Tests.Deploy;

/// <summary>s3:// manifests and archives read with the AWS SDK from a real S3-compatible server (s3rver).</summary>
public sealed class S3SourceTests(S3Server s3) : IClassFixture<S3Server>, IAsyncLifetime
{
    private DeployHarness _h = null!;

    public async Task InitializeAsync()
    {
        _h = await DeployHarness.StartAsync();
        // The SDK's standard chain finds these first; s3rver accepts its own well-known key pair.
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", "S3RVER");
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", "S3RVER");
    }

    public async Task DisposeAsync() => await _h.DisposeAsync();

    private StretchOptions Options => new() { S3 = new S3SourceOptions { Endpoint = s3.Endpoint }, RetryWait = TimeSpan.Zero };

    [Fact]
    public async Task A_manifest_and_its_archive_on_s3_are_deployed()
    {
        var bytes = Tar.Create(_h.Root, new Dictionary<string, string> { ["index.html"] = "from s3" });
        var src = await s3.PutAsync("releases/app-1.tar.gz", bytes);
        var dest = _h.PathOf("dest");
        var manifest = await s3.PutAsync("releases/app-1.yml", System.Text.Encoding.UTF8.GetBytes($"src: {src}\nchecksum: {Tar.Sha256(bytes)}\ndest: {dest}\n"));
        var outcome = await _h.RunUrlAsync(manifest, Options, new Dictionary<string, string> { ["AWS_DEFAULT_REGION"] = "us-east-1" });
        Assert.True(outcome.Succeeded, outcome.Log);
        Assert.Equal("from s3", File.ReadAllText(Path.Combine(dest, "index.html")));
    }

    [Fact]
    public async Task A_missing_s3_object_names_the_url_and_the_status()
    {
        var outcome = await _h.RunUrlAsync($"s3://{S3Server.Bucket}/no/such.yml", Options);
        Assert.False(outcome.Succeeded);
        Assert.Contains($"Load manifest failed: GET s3://{S3Server.Bucket}/no/such.yml: S3 answered HTTP 404 NoSuchKey", outcome.Log, StringComparison.Ordinal);
    }
}
