using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Platform.Cli.Tests.Support;

namespace Platform.Cli.Tests;

/// <summary>
/// <c>platform stretch</c> as the real binary: as a Serf-style <c>user:deploy</c> handler of a real <c>platform agent</c>
/// receiving <c>platform event deploy URL</c>, and fed a Consul event list on standard input as <c>consul watch</c> does.
/// </summary>
public sealed class StretchHandlerTests(FleetFixture fleet) : IClassFixture<FleetFixture>, IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string In(string name) => Path.Combine(_dir.Path, name);

    /// <summary>A tar.gz made by the real tar, and a manifest that syncs it into <paramref name="dest"/> and logs each run.</summary>
    private string Manifest(string version, string dest, string runs)
    {
        var tree = In("tree-" + version);
        Directory.CreateDirectory(tree);
        File.WriteAllText(Path.Combine(tree, "version.txt"), version);
        var archive = In($"app-{version}.tar.gz");
        using (var tar = Process.Start(new ProcessStartInfo("tar", ["-czf", archive, "-C", tree, "."]) { UseShellExecute = false })!) tar.WaitForExit();
        var sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(archive)));
        var manifest = In($"manifest-{version}.yml");
        File.WriteAllText(manifest, $"""
            src: file://{archive}
            checksum: {sha}
            dest: {dest}
            commands:
              post: ["echo {version} $SERF_USER_LTIME >> {runs}"]
            """);
        return "file://" + manifest;
    }

    [Fact]
    public async Task Platform_stretch_as_a_user_deploy_handler_deploys_each_event_fired_with_platform_event()
    {
        var dest = In("dest");
        var runs = In("runs");
        var platform = $"dotnet {Path.Combine(AppContext.BaseDirectory, "platform.dll")}";
        var handler = $"user:deploy={platform} stretch -state-file {In("state.json")} 2>>{In("stretch.log")}";
        var port = SerfCluster.FreePort();
        fleet.StartAgent("deploy-1", port, "-event-handler", handler);
        await fleet.WaitForAliveAsync("deploy-1");

        var (code, _, stderr) = await PlatformCommand.RunAsync("event", "deploy", Manifest("v1", dest, runs), "--url", fleet.Url);
        Assert.True(code == 0, stderr);
        await FleetFixture.PollAsync(() => Task.FromResult(File.Exists(runs) && File.ReadAllLines(runs).Length == 1), "the first deploy");
        Assert.Equal("v1", File.ReadAllText(Path.Combine(dest, "version.txt")));

        (code, _, stderr) = await PlatformCommand.RunAsync("event", "deploy", Manifest("v2", dest, runs), "--url", fleet.Url);
        Assert.True(code == 0, stderr);
        await FleetFixture.PollAsync(() => Task.FromResult(File.ReadAllLines(runs).Length == 2), "the second deploy");
        Assert.Equal("v2", File.ReadAllText(Path.Combine(dest, "version.txt")));
        var lines = File.ReadAllLines(runs);
        // Each run saw its own event's Lamport time, the newer one later.
        var first = ulong.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var second = ulong.Parse(lines[1].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(second > first, string.Join('\n', lines));
        Assert.Contains("Reading Serf user event: deploy", File.ReadAllText(In("stretch.log")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Platform_stretch_reads_a_consul_event_list_and_skips_it_when_handed_over_again()
    {
        var dest = In("dest");
        var runs = In("runs");
        var url = Manifest("v1", dest, runs);
        var events = $$"""[{"ID":"1d6731a8-833c-1aff-94e5-aa5e5a77da9f","Name":"deploy","Payload":"{{Convert.ToBase64String(Encoding.UTF8.GetBytes(url))}}","NodeFilter":"","ServiceFilter":"","TagFilter":"","Version":1,"LTime":2}]""";
        var (code, log) = await StretchAsync(events, ("CONSUL_INDEX", "17"));
        Assert.True(code == 0, log);
        Assert.Equal("v1", File.ReadAllText(Path.Combine(dest, "version.txt")));
        Assert.Single(File.ReadAllLines(runs));

        (code, log) = await StretchAsync(events, ("CONSUL_INDEX", "18"));
        Assert.True(code == 0, log);
        Assert.Contains("Event already applied (ID 1d6731a8-833c-1aff-94e5-aa5e5a77da9f, ltime 2", log, StringComparison.Ordinal);
        Assert.Single(File.ReadAllLines(runs));

        // echo URL | platform stretch: a failure exits 1, as stretcher does outside consul watch.
        (code, log) = await StretchAsync("file:///no/such/manifest.yml\n");
        Assert.Equal(1, code);
        Assert.Contains("Load manifest failed: cannot read file:///no/such/manifest.yml", log, StringComparison.Ordinal);
    }

    private async Task<(int Code, string Log)> StretchAsync(string stdin, params (string Name, string Value)[] environment)
    {
        var psi = PlatformCommand.StartInfo(["stretch", "-state-file", In("state.json")]);
        psi.RedirectStandardInput = true;
        foreach (var (name, value) in environment) psi.Environment[name] = value;
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(cts.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
