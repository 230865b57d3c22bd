using System.Text;
using Platform.Agent.Deploy;
using Platform.Agent.Tests.Support;

namespace Platform.Agent.Tests.Deploy;

/// <summary><c>platform stretch</c>'s input forms, exit codes and its memory of applied events, with a commands-only manifest run by /bin/sh.</summary>
public sealed class StretchProgramTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Manifest(string name, string yaml) => "file://" + _dir.File(name, yaml);

    private string Counter => Path.Combine(_dir.Path, "runs");

    private int Runs => File.Exists(Counter) ? File.ReadAllLines(Counter).Length : 0;

    private async Task<(int Code, string Log)> RunAsync(string stdin, Dictionary<string, string>? environment = null, params string[] args)
    {
        var error = new StringWriter();
        var env = environment ?? [];
        var code = await StretchProgram.RunAsync(
            ["-state-file", Path.Combine(_dir.Path, "state.json"), .. args],
            new StringReader(stdin), new StringWriter(), TextWriter.Synchronized(error), env.GetValueOrDefault, TimeProvider.System, CancellationToken.None);
        return (code, error.ToString());
    }

    private static string ConsulEvents(params (string Id, ulong LTime, string Url)[] events)
        => "[" + string.Join(",", events.Select(e => $$"""{"ID":"{{e.Id}}","Name":"deploy","Payload":"{{Convert.ToBase64String(Encoding.UTF8.GetBytes(e.Url))}}","NodeFilter":"","ServiceFilter":"","TagFilter":"","Version":1,"LTime":{{e.LTime}}}""")) + "]";

    [Fact]
    public async Task A_consul_event_list_and_a_plain_line_deploy_the_same_manifest()
    {
        var url = Manifest("m.yml", $"commands:\n  post: [\"echo run >> {Counter}\"]\n");
        var (code, log) = await RunAsync(ConsulEvents(("old-id", 1, "file:///nonexistent.yml"), ("new-id", 2, url)));
        Assert.Equal(0, code);
        Assert.Contains("Reading Consul event: ID new-id name deploy ltime 2", log, StringComparison.Ordinal);
        Assert.Equal(1, Runs);
        (code, log) = await RunAsync(url + "\n");
        Assert.Equal(0, code);
        Assert.Contains("Reading manifest URL from standard input", log, StringComparison.Ordinal);
        Assert.Equal(2, Runs);
    }

    [Fact]
    public async Task The_same_consul_event_handed_over_again_is_not_applied_twice()
    {
        var url = Manifest("m.yml", $"commands:\n  post: [\"echo run >> {Counter}\"]\n");
        var consul = new Dictionary<string, string> { ["CONSUL_INDEX"] = "5" };
        Assert.Equal(0, (await RunAsync(ConsulEvents(("e1", 3, url)), consul)).Code);
        var (code, log) = await RunAsync(ConsulEvents(("e1", 3, url)), consul);
        Assert.Equal(0, code);
        Assert.Contains("Event already applied (ID e1, ltime 3", log, StringComparison.Ordinal);
        Assert.Equal(1, Runs);
        // A newer event is applied.
        Assert.Equal(0, (await RunAsync(ConsulEvents(("e1", 3, url), ("e2", 4, url)), consul)).Code);
        Assert.Equal(2, Runs);
    }

    [Fact]
    public async Task A_serf_user_event_is_applied_once_per_lamport_time()
    {
        var url = Manifest("m.yml", $"commands:\n  pre: [\"echo run >> {Counter}\"]\n");
        Dictionary<string, string> Serf(string ltime) => new() { ["SERF_EVENT"] = "user", ["SERF_USER_EVENT"] = "deploy", ["SERF_USER_LTIME"] = ltime };
        Assert.Equal(0, (await RunAsync(url, Serf("7"))).Code);
        Assert.Equal(0, (await RunAsync(url, Serf("7"))).Code);
        Assert.Equal(0, (await RunAsync(url, Serf("6"))).Code);
        Assert.Equal(1, Runs);
        Assert.Equal(0, (await RunAsync(url, Serf("8"))).Code);
        Assert.Equal(2, Runs);
        // Without an identity (echo URL | platform stretch) every run applies.
        Assert.Equal(0, (await RunAsync(url)).Code);
        Assert.Equal(3, Runs);
    }

    [Fact]
    public async Task A_failed_deploy_exits_1_but_0_under_consul_watch_as_Stretcher_does()
    {
        var url = Manifest("bad.yml", "commands:\n  pre: [\"exit 9\"]\n");
        var (code, log) = await RunAsync(url);
        Assert.Equal(StretchProgram.Failed, code);
        Assert.Contains("Deploy manifest failed: failed: exit 9 exit status 9", log, StringComparison.Ordinal);
        (code, _) = await RunAsync(ConsulEvents(("x", 1, url)), new Dictionary<string, string> { ["CONSUL_INDEX"] = "1" });
        Assert.Equal(StretchProgram.Ok, code);
        (code, log) = await RunAsync("");
        Assert.Equal(StretchProgram.Failed, code);
        Assert.Contains("standard input: expected a manifest URL", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_manifest_url_outside_the_allowed_prefixes_is_not_deployed()
    {
        var url = Manifest("m.yml", $"commands:\n  pre: [\"echo run >> {Counter}\"]\n");
        var (code, log) = await RunAsync(url, null, "-allow-url", "https://artifacts.example.com/");
        Assert.Equal(StretchProgram.Failed, code);
        Assert.Contains($"manifest URL {url} does not start with an allowed prefix (-allow-url https://artifacts.example.com/)", log, StringComparison.Ordinal);
        Assert.Equal(0, Runs);
        Assert.Equal(0, (await RunAsync(url, null, "-allow-url", "https://artifacts.example.com/", "-allow-url", "file://" + _dir.Path + "/")).Code);
        Assert.Equal(1, Runs);
    }

    [Theory]
    [InlineData("-retry", "x", "flag -retry: expected a retry count")]
    [InlineData("-max-bandwidth", "fast", "flag -max-bandwidth: expected bytes per second")]
    [InlineData("-nope", "1", "flag provided but not defined: -nope")]
    public async Task A_bad_flag_exits_2_naming_it(string flag, string value, string expected)
    {
        var (code, log) = await RunAsync("", null, flag, value);
        Assert.Equal(StretchProgram.Usage, code);
        Assert.Contains(expected, log, StringComparison.Ordinal);
    }

    [Fact]
    public void Stretchers_flags_are_read_go_style()
    {
        var c = StretchCommandLine.Parse(["-random-delay", "2.5", "--retry=3", "-retry-wait", "1", "-timeout=30", "-max-bandwidth", "10MiB", "-rsync-verbose=", "-s3-endpoint", "http://127.0.0.1:9000", "-s3-force-path-style=false"]);
        Assert.Equal(TimeSpan.FromSeconds(2.5), c.Options.RandomDelay);
        Assert.Equal(3, c.Options.Retry);
        Assert.Equal(TimeSpan.FromSeconds(1), c.Options.RetryWait);
        Assert.Equal(TimeSpan.FromSeconds(30), c.Options.Timeout);
        Assert.Equal(10L << 20, c.Options.MaxBandwidth);
        Assert.Equal("", c.Options.RsyncVerbose);
        Assert.Equal(new Uri("http://127.0.0.1:9000"), c.Options.S3.Endpoint);
        Assert.False(c.Options.S3.ForcePathStyle);
        var defaults = StretchCommandLine.Parse([]).Options;
        Assert.Equal(TimeSpan.FromSeconds(3), defaults.RetryWait);
        Assert.Equal("-v", defaults.RsyncVerbose);
        Assert.Null(defaults.Timeout);
        Assert.True(ByteSize.TryParse("10 MB", out var mb) && mb == 10_000_000);
    }
}
