using System.Text.Json;
using Xunit.Abstractions;

namespace Platform.Silo.Tests.Deploy;

/// <summary>Stretcher's options set in a deploy's request reach the real agents that run it.</summary>
public sealed class StretchOptionsDeployTests(ITestOutputHelper output) : DeploySiloTest
{
    private async Task<JsonElement> RunAsync(object request)
    {
        var (status, body) = await DeployFleet.PostAsync(TestSilo.Http, request);
        Assert.True(status == 201, body.ToString());
        var id = body.GetProperty("id").GetString()!;
        JsonElement done = default;
        await Fleet.UntilAsync(async () => (done = await DeployFleet.GetAsync(TestSilo.Http, id)).GetProperty("status").GetString() != "running", "the deploy ending");
        output.WriteLine(done.ToString());
        return done;
    }

    [Fact]
    public async Task Retry_options_reach_the_node_so_a_src_that_fails_once_is_fetched_on_the_retry()
    {
        await Fleet.StartAgentsAsync(TestSilo.Http, [DeployFleet.Pass, DeployFleet.Pass, DeployFleet.Pass]);
        var n = Fleet.Names.Order(StringComparer.Ordinal).ToArray();

        // Stretcher's default is no retry: a src answering 503 once fails the node.
        Fleet.Server.FailFirst("app.tar.gz", 1);
        var plain = await RunAsync(new { manifest_url = Fleet.ManifestUrl, target = new { nodes = new[] { n[0] } } });
        Assert.Equal("failed", plain.GetProperty("status").GetString());
        Assert.Contains("HTTP 503", plain.GetProperty("nodes")[0].GetProperty("output_tail").GetString());
        Assert.Equal(1, Fleet.Server.Requests("app.tar.gz"));
        Assert.False(plain.TryGetProperty("stretch", out _));

        Fleet.Server.FailFirst("app.tar.gz", 1);
        var retried = await RunAsync(new { manifest_url = Fleet.ManifestUrl, target = new { nodes = new[] { n[1] } }, stretch = new { retry = 2, retry_wait = "1s" } });
        Assert.Equal("succeeded", retried.GetProperty("status").GetString());
        Assert.Equal(2, retried.GetProperty("stretch").GetProperty("retry").GetInt32());
        Assert.Equal("1s", retried.GetProperty("stretch").GetProperty("retry_wait").GetString());
        var tail = retried.GetProperty("nodes")[0].GetProperty("output_tail").GetString();
        Assert.Contains("Get src failed", tail);
        Assert.Contains("Try again. Waiting: 1s", tail);
        Assert.Equal(3, Fleet.Server.Requests("app.tar.gz"));
        Assert.Equal("release 1\n", File.ReadAllText(Path.Combine(Fleet.NodeDir(n[1]), "dest", "index.html")));

        // The same from the CLI's flags, named as platform stretch's.
        Fleet.Server.FailFirst("app.tar.gz", 1);
        var (code, text) = await Nodes.Serf.NodeProcess.RunAsync("platform deploy start", "dotnet",
            [Path.Combine(AppContext.BaseDirectory, "platform.dll"), "deploy", "start", "--manifest-url", Fleet.ManifestUrl, "--node", n[2],
                "--retry", "1", "--retry-wait", "0s", "--format", "json", "--url", $"http://127.0.0.1:{TestSilo.Port}"],
            TimeSpan.FromSeconds(60), new Dictionary<string, string> { ["PLATFORM_URL"] = "", ["PLATFORM_TOKEN"] = "", ["DOTNET_gcServer"] = "0" });
        output.WriteLine(text);
        Assert.True(code == 0, text);
        var id = JsonDocument.Parse(text[text.IndexOf('{')..]).RootElement.GetProperty("id").GetString()!;
        JsonElement cli = default;
        await Fleet.UntilAsync(async () => (cli = await DeployFleet.GetAsync(TestSilo.Http, id)).GetProperty("status").GetString() != "running", "the CLI's deploy ending");
        Assert.Equal("succeeded", cli.GetProperty("status").GetString());
        Assert.Equal("0s", cli.GetProperty("stretch").GetProperty("retry_wait").GetString());
        Assert.Equal(5, Fleet.Server.Requests("app.tar.gz"));
    }
    [Fact]
    public async Task Random_delay_makes_the_node_sleep_before_it_loads_the_manifest()
    {
        await Fleet.StartAgentsAsync(TestSilo.Http, [DeployFleet.Pass]);
        var node = Fleet.Names.Single();

        var done = await RunAsync(new { manifest_url = Fleet.ManifestUrl, target = new { nodes = new[] { node } }, stretch = new { random_delay = "3s" } });

        Assert.Equal("succeeded", done.GetProperty("status").GetString());
        Assert.Equal("3s", done.GetProperty("stretch").GetProperty("random_delay").GetString());
        var run = done.GetProperty("nodes")[0];
        var tail = run.GetProperty("output_tail").GetString()!;
        // The sleep is drawn from [0, random_delay); the node logs the one it drew, then sleeps it before any download.
        var line = tail.Split('\n').Single(l => l.Contains("Sleeping ", StringComparison.Ordinal));
        var drawn = line[(line.IndexOf("Sleeping ", StringComparison.Ordinal) + "Sleeping ".Length)..].Trim();
        Assert.True(Platform.Protocol.GoDuration.TryParse(drawn, out var sleep), $"'{drawn}' in '{line}' is not a duration");
        Assert.InRange(sleep, TimeSpan.Zero, TimeSpan.FromSeconds(3));
        Assert.True(tail.IndexOf(line, StringComparison.Ordinal) < tail.IndexOf("Loading manifest", StringComparison.Ordinal), tail);
        Assert.True(run.GetProperty("duration_ms").GetInt64() >= (long)sleep.TotalMilliseconds,
            $"the node ran {run.GetProperty("duration_ms").GetInt64()} ms, less than the {drawn} it says it slept");
        var started = run.GetProperty("started").GetDateTimeOffset();
        var finished = run.GetProperty("finished").GetDateTimeOffset();
        Assert.True(finished - started >= sleep, $"the silo saw the node run from {started:O} to {finished:O}, less than the {drawn} it says it slept");
        Assert.Equal(1, Fleet.Server.Requests("app.tar.gz"));
    }
}
