using Platform.Silo.Tests.Access;
using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests.Artifacts;

/// <summary>The real <c>platform artifact</c> command against a silo with tokens.</summary>
public sealed class ArtifactCliTests(AccessSilo silo) : IClassFixture<AccessSilo>
{
    [Fact]
    public async Task Put_get_list_and_rm_round_trip_a_file()
    {
        using var dir = new TempDir();
        var deploy = await silo.CreateAsync("deploy-cli", ["deploy"]);
        var file = ArtifactBodies.RandomFile(dir.Path, "app.tar.gz", 3 << 20);
        var sha = await ArtifactBodies.Sha256SumAsync(file);

        var put = await silo.PlatformAsync(deploy, "artifact", "put", "cli/1/app.tar.gz", file, "--sha256", sha);
        Assert.True(put.ExitCode == 0, put.ToString());
        Assert.Contains($"sha256:  {sha}", put.StdOut);

        var wrong = await silo.PlatformAsync(deploy, "artifact", "put", "cli/2/app.tar.gz", file, "--sha256", new string('c', 64));
        Assert.Equal(1, wrong.ExitCode);
        Assert.Contains("HTTP 400", wrong.StdErr);

        var target = Path.Combine(dir.Path, "fetched.tar.gz");
        var get = await silo.PlatformAsync(deploy, "artifact", "get", "cli/1/app.tar.gz", target);
        Assert.True(get.ExitCode == 0, get.ToString());
        Assert.Equal(sha, await ArtifactBodies.Sha256SumAsync(target));

        var list = await silo.PlatformAsync(deploy, "artifact", "list", "cli/");
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains("cli/1/app.tar.gz", list.StdOut);
        Assert.DoesNotContain("cli/2/", list.StdOut);

        var badName = await silo.PlatformAsync(deploy, "artifact", "get", "cli/../etc/passwd", target);
        Assert.Equal(2, badName.ExitCode);
        Assert.Contains("'..'", badName.StdErr);

        var rm = await silo.PlatformAsync(deploy, "artifact", "rm", "cli/1/app.tar.gz");
        Assert.True(rm.ExitCode == 0, rm.ToString());
        var missing = await silo.PlatformAsync(deploy, "artifact", "get", "cli/1/app.tar.gz", Path.Combine(dir.Path, "gone"));
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("does not exist", missing.StdErr);
        Assert.False(File.Exists(Path.Combine(dir.Path, "gone")));
    }
}
