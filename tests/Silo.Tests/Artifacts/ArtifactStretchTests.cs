using System.Diagnostics;
using System.Net;
using System.Text;
using Platform.Silo.Tests.Access;
using Platform.Silo.Tests.Etcd;
using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests.Artifacts;

/// <summary><c>platform stretch</c> deploying a manifest and a tarball that are both artifacts of a silo with tokens.</summary>
public sealed class ArtifactStretchTests(AccessSilo silo) : IClassFixture<AccessSilo>
{
    [Fact]
    public async Task Stretch_fetches_manifest_and_src_from_the_silo_with_the_agent_token()
    {
        using var dir = new TempDir();
        var build = await silo.CreateAsync("ci-stretch", ["build"]);
        var agent = await silo.CreateAsync("node-stretch", ["agent"]);

        var tree = Directory.CreateDirectory(Path.Combine(dir.Path, "tree")).FullName;
        await File.WriteAllTextAsync(Path.Combine(tree, "index.html"), "release 42\n");
        var archive = Path.Combine(dir.Path, "site.tar.gz");
        await RunAsync("tar", "-czf", archive, "-C", tree, ".");
        var sha = await ArtifactBodies.Sha256SumAsync(archive);
        await using (var file = File.OpenRead(archive))
            Assert.Equal(HttpStatusCode.Created, (await silo.SendAsync(HttpMethod.Put, "/v1/artifacts/site/42/site.tar.gz", build, new StreamContent(file))).StatusCode);
        var dest = Path.Combine(dir.Path, "dest");
        var manifest = $"src: {silo.Url}v1/artifacts/site/42/site.tar.gz\nchecksum: {sha}\ndest: {dest}\n";
        Assert.Equal(HttpStatusCode.Created, (await silo.SendAsync(HttpMethod.Put, "/v1/artifacts/site/42/manifest.yml", build, new ByteArrayContent(Encoding.UTF8.GetBytes(manifest)))).StatusCode);
        var manifestUrl = $"{silo.Url}v1/artifacts/site/42/manifest.yml";

        // Without the token the silo refuses the manifest, and nothing is deployed.
        var refused = await StretchAsync(manifestUrl, Path.Combine(dir.Path, "state-1.json"), token: null);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("401", refused.StdErr);
        Assert.False(Directory.Exists(dest));

        // The token goes only to the silos in PLATFORM_URL: with another silo listed, this one never sees it.
        var elsewhere = await StretchAsync(manifestUrl, Path.Combine(dir.Path, "state-3.json"), agent, siloUrls: $"http://127.0.0.1:{silo.Silo.Port + 1}/");
        Assert.NotEqual(0, elsewhere.ExitCode);
        Assert.Contains("401", elsewhere.StdErr);
        Assert.False(Directory.Exists(dest));

        var deployed = await StretchAsync(manifestUrl, Path.Combine(dir.Path, "state-2.json"), agent);
        Assert.True(deployed.ExitCode == 0, deployed.ToString());
        Assert.Equal("release 42\n", await File.ReadAllTextAsync(Path.Combine(dest, "index.html")));
        Assert.DoesNotContain(agent, deployed.StdErr + deployed.StdOut);
    }

    private async Task<ProcessResult> StretchAsync(string manifestUrl, string stateFile, string? token, string? siloUrls = null)
    {
        var env = new Dictionary<string, string> { ["PLATFORM_URL"] = siloUrls ?? $"http://10.255.255.1:9/,{silo.Url}", ["DOTNET_gcServer"] = "0", ["PLATFORM_TOKEN"] = token ?? "" };
        var platform = Path.Combine(AppContext.BaseDirectory, "platform.dll");
        await using var process = CapturedProcess.Start("sh", ["-c", $"echo '{manifestUrl}' | dotnet '{platform}' stretch -state-file '{stateFile}'"], env);
        return await process.WaitForExitAsync(TimeSpan.FromSeconds(120));
    }

    private static async Task RunAsync(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{file}: {error}");
    }
}
