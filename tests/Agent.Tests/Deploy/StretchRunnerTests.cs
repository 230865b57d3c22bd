using System.Security.Cryptography;
using Platform.Agent.Deploy;
using Platform.Agent.Tests.Deploy.Support;

namespace Platform.Agent.Tests.Deploy;

/// <summary>Stretcher's procedure with real parts: tar archives made by tar, a real HTTP server, real rsync and /bin/sh.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class StretchRunnerTests : IAsyncLifetime
{
    private DeployHarness _h = null!;

    public async Task InitializeAsync() => _h = await DeployHarness.StartAsync();

    public async Task DisposeAsync() => await _h.DisposeAsync();

    private static readonly Dictionary<string, string> s_app = new() { ["index.html"] = "v2", ["bin/run.sh"] = "#!/bin/sh\necho run\n" };

    private static UnixFileMode Octal(string mode) => (UnixFileMode)Convert.ToInt32(mode, 8);

    [Theory]
    [InlineData("md5")]
    [InlineData("sha1")]
    [InlineData("sha256")]
    [InlineData("sha512")]
    public async Task Each_checksum_kind_is_chosen_by_hex_length_and_compared_ignoring_case(string kind)
    {
        var (url, _, bytes) = _h.Archive("app.tar.gz", s_app);
        var digest = Convert.ToHexString(kind switch
        {
            "md5" => MD5.HashData(bytes),
            "sha1" => SHA1.HashData(bytes),
            "sha256" => SHA256.HashData(bytes),
            _ => SHA512.HashData(bytes),
        }); // upper case on purpose
        var dest = _h.PathOf("dest");
        var outcome = await _h.RunAsync($"src: {url}\nchecksum: {digest}\ndest: {dest}\n");
        Assert.True(outcome.Succeeded, outcome.Log);
        Assert.Equal("v2", File.ReadAllText(Path.Combine(dest, "index.html")));
        Assert.Contains($"Checksum ok: {digest.ToLowerInvariant()}", outcome.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Checksum_mismatch_leaves_dest_untouched_skips_pre_and_runs_failure_with_the_log_on_stdin()
    {
        var (url, sha, _) = _h.Archive("app.tar.gz", s_app);
        var dest = _h.PathOf("dest");
        Directory.CreateDirectory(dest);
        File.WriteAllText(Path.Combine(dest, "index.html"), "v1");
        var wrong = new string('0', sha.Length);
        var outcome = await _h.RunAsync($"""
            src: {url}
            checksum: {wrong}
            dest: {dest}
            commands:
              pre: ["touch {_h.PathOf("pre-ran")}"]
              failure: ["cat > {_h.PathOf("failure.log")}"]
              success: ["touch {_h.PathOf("success-ran")}"]
            """);
        Assert.False(outcome.Succeeded);
        Assert.Contains($"checksum mismatch. expected:{wrong} got:{sha}", outcome.Log, StringComparison.Ordinal);
        Assert.Equal(["index.html"], Directory.GetFileSystemEntries(dest).Select(Path.GetFileName));
        Assert.Equal("v1", File.ReadAllText(Path.Combine(dest, "index.html")));
        Assert.False(File.Exists(_h.PathOf("pre-ran")));
        Assert.False(File.Exists(_h.PathOf("success-ran")));
        var failureStdin = File.ReadAllText(_h.PathOf("failure.log"));
        Assert.Contains("checksum mismatch", failureStdin, StringComparison.Ordinal);
        Assert.Contains("Deploy manifest failed", failureStdin, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rsync_deletes_what_the_archive_lacks_and_keeps_what_excludes_and_exclude_from_protect()
    {
        var (url, sha, _) = _h.Archive("app.tar.gz", new Dictionary<string, string>
        {
            ["index.html"] = "v2",
            ["exclude.txt"] = "logs/\n",
        });
        var dest = _h.PathOf("dest");
        Directory.CreateDirectory(Path.Combine(dest, "logs"));
        File.WriteAllText(Path.Combine(dest, "stale.txt"), "old");
        File.WriteAllText(Path.Combine(dest, "app.pid"), "123");
        File.WriteAllText(Path.Combine(dest, "logs", "app.log"), "log");
        var outcome = await _h.RunAsync($"""
            src: {url}
            checksum: {sha}
            dest: {dest}
            excludes: ["*.pid"]
            exclude_from: exclude.txt
            """);
        Assert.True(outcome.Succeeded, outcome.Log);
        Assert.Equal("v2", File.ReadAllText(Path.Combine(dest, "index.html")));
        Assert.False(File.Exists(Path.Combine(dest, "stale.txt")));
        Assert.Equal("123", File.ReadAllText(Path.Combine(dest, "app.pid")));
        Assert.Equal("log", File.ReadAllText(Path.Combine(dest, "logs", "app.log")));
        Assert.Contains("rsync -a --delete -v --exclude-from", outcome.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rsync_verbosity_is_the_option_given()
    {
        var (url, sha, _) = _h.Archive("app.tar.gz", s_app);
        var outcome = await _h.RunAsync($"src: {url}\nchecksum: {sha}\ndest: {_h.PathOf("dest")}\n", new StretchOptions { RsyncVerbose = "", MaxBandwidth = 10 << 20 });
        Assert.True(outcome.Succeeded, outcome.Log);
        Assert.Contains("rsync -a --delete --bwlimit=10240 /", outcome.Log, StringComparison.Ordinal);
        Assert.DoesNotContain("index.html", outcome.Log.Split("rsync -a")[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mv_strategy_renames_the_extracted_tree_into_a_new_dest()
    {
        var (url, sha, _) = _h.Archive("app.tar.gz", s_app);
        var dest = _h.PathOf("releases/r1");
        Directory.CreateDirectory(_h.PathOf("releases"));
        var outcome = await _h.RunAsync($"src: {url}\nchecksum: {sha}\ndest: {dest}\nsync_strategy: mv\n");
        Assert.True(outcome.Succeeded, outcome.Log);
        Assert.Equal("v2", File.ReadAllText(Path.Combine(dest, "index.html")));
        Assert.Equal(["r1"], Directory.GetFileSystemEntries(_h.PathOf("releases")).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Mv_strategy_fails_on_a_dest_that_is_not_empty_and_leaves_it_as_it_was()
    {
        var (url, sha, _) = _h.Archive("app.tar.gz", s_app);
        var dest = _h.PathOf("releases/r1");
        Directory.CreateDirectory(dest);
        File.WriteAllText(Path.Combine(dest, "index.html"), "v1");
        var outcome = await _h.RunAsync($"src: {url}\nchecksum: {sha}\ndest: {dest}\nsync_strategy: mv\n");
        Assert.False(outcome.Succeeded);
        Assert.Contains("already exists and is not empty", outcome.Log, StringComparison.Ordinal);
        Assert.Equal("v1", File.ReadAllText(Path.Combine(dest, "index.html")));
        Assert.Equal(["r1"], Directory.GetFileSystemEntries(_h.PathOf("releases")).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData("", "755")]
    [InlineData("dest_mode: 0711\n", "711")]
    public async Task Dest_mode_is_the_mode_of_dest_after_the_sync(string line, string expected)
    {
        var (url, sha, _) = _h.Archive("app.tar.gz", s_app);
        var dest = _h.PathOf("dest");
        var outcome = await _h.RunAsync($"src: {url}\nchecksum: {sha}\ndest: {dest}\n{line}");
        Assert.True(outcome.Succeeded, outcome.Log);
        Assert.Equal(Octal(expected), File.GetUnixFileMode(dest));
    }

    [Fact]
    public async Task Tar_modes_times_and_symbolic_links_are_kept()
    {
        var tree = _h.PathOf("tree");
        Directory.CreateDirectory(Path.Combine(tree, "bin"));
        File.WriteAllText(Path.Combine(tree, "bin", "run.sh"), "#!/bin/sh\n");
        File.SetUnixFileMode(Path.Combine(tree, "bin", "run.sh"), Octal("750"));
        File.SetLastWriteTimeUtc(Path.Combine(tree, "bin", "run.sh"), new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc));
        File.CreateSymbolicLink(Path.Combine(tree, "current"), "bin/run.sh");
        File.CreateSymbolicLink(Path.Combine(tree, "logs"), "/var/log");
        Tar.Run(tree, "-czf", _h.PathOf("app.tar.gz"), ".");
        var bytes = File.ReadAllBytes(_h.PathOf("app.tar.gz"));
        var url = _h.Server.Put("modes.tar.gz", bytes);
        var dest = _h.PathOf("dest");
        var outcome = await _h.RunAsync($"src: {url}\nchecksum: {Tar.Sha256(bytes)}\ndest: {dest}\n");
        Assert.True(outcome.Succeeded, outcome.Log);
        var umask = Environment.IsPrivilegedProcess ? 0 : Convert.ToInt32(File.ReadLines("/proc/self/status").First(l => l.StartsWith("Umask:", StringComparison.Ordinal))[6..].Trim(), 8);
        Assert.Equal(Octal("750") & ~(UnixFileMode)umask, File.GetUnixFileMode(Path.Combine(dest, "bin", "run.sh")));
        Assert.Equal(new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc), File.GetLastWriteTimeUtc(Path.Combine(dest, "bin", "run.sh")));
        Assert.Equal("bin/run.sh", new FileInfo(Path.Combine(dest, "current")).LinkTarget);
        Assert.Equal("/var/log", new FileInfo(Path.Combine(dest, "logs")).LinkTarget);
    }

    [Theory]
    [InlineData("dotdot")]
    [InlineData("absolute")]
    public async Task Archive_entries_that_leave_the_extraction_directory_are_refused_and_dest_is_untouched(string kind)
    {
        var outside = _h.PathOf("outside-target");
        File.WriteAllText(_h.PathOf("f"), "evil");
        var archive = _h.PathOf("evil.tar");
        if (kind == "dotdot") Tar.Run(_h.Root, "-cf", archive, "-P", "--transform", "s,^f$,../../../outside-target,", "f");
        else Tar.Run(_h.Root, "-cf", archive, "-P", outside.Replace("outside-target", "f", StringComparison.Ordinal));
        var bytes = File.ReadAllBytes(archive);
        var url = _h.Server.Put("evil.tar", bytes);
        var dest = _h.PathOf("dest");
        Directory.CreateDirectory(dest);
        File.WriteAllText(Path.Combine(dest, "index.html"), "v1");
        var outcome = await _h.RunAsync($"src: {url}\nchecksum: {Tar.Sha256(bytes)}\ndest: {dest}\ncommands:\n  failure: [\"cat > {_h.PathOf("failure.log")}\"]\n");
        Assert.False(outcome.Succeeded);
        Assert.Contains(kind == "dotdot" ? "has a '..' component" : "has an absolute path", outcome.Log, StringComparison.Ordinal);
        Assert.False(File.Exists(outside));
        Assert.Equal("v1", File.ReadAllText(Path.Combine(dest, "index.html")));
        Assert.Contains("Deploy manifest failed", File.ReadAllText(_h.PathOf("failure.log")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_entry_written_through_a_symbolic_link_is_refused_and_nothing_lands_where_the_link_points()
    {
        var outside = _h.PathOf("outside");
        Directory.CreateDirectory(outside);
        var a = _h.PathOf("a");
        var b = _h.PathOf("b");
        Directory.CreateDirectory(a);
        Directory.CreateDirectory(Path.Combine(b, "link"));
        File.CreateSymbolicLink(Path.Combine(a, "link"), outside);
        File.WriteAllText(Path.Combine(b, "link", "evil"), "evil");
        Tar.Run(_h.Root, "-cf", _h.PathOf("sym.tar"), "-C", a, "link", "-C", b, "link/evil");
        var bytes = File.ReadAllBytes(_h.PathOf("sym.tar"));
        var url = _h.Server.Put("sym.tar", bytes);
        var outcome = await _h.RunAsync($"src: {url}\nchecksum: {Tar.Sha256(bytes)}\ndest: {_h.PathOf("dest")}\n");
        Assert.False(outcome.Succeeded);
        Assert.Contains("would be written through the symbolic link 'link'", outcome.Log, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(outside));
        Assert.False(Directory.Exists(_h.PathOf("dest")));
    }

    [Fact]
    public async Task Commands_run_with_sh_in_order_and_success_gets_the_deploy_log_on_stdin()
    {
        var (url, sha, _) = _h.Archive("app.tar.gz", s_app);
        var dest = _h.PathOf("dest");
        var order = _h.PathOf("order");
        var outcome = await _h.RunAsync($"""
            src: {url}
            checksum: {sha}
            dest: {dest}
            commands:
              pre: ["test ! -e {dest}/index.html && echo pre >> {order}"]
              post: ["test -f {dest}/index.html && echo post | tr a-z A-Z >> {order}"]
              success: ["cat > {_h.PathOf("success.log")}", "echo second >> {order}"]
              failure: ["touch {_h.PathOf("failure-ran")}"]
            """);
        Assert.True(outcome.Succeeded, outcome.Log);
        Assert.Equal("pre\nPOST\nsecond\n", File.ReadAllText(order));
        var stdin = File.ReadAllText(_h.PathOf("success.log"));
        Assert.Contains("Checksum ok", stdin, StringComparison.Ordinal);
        Assert.Contains("Deploy manifest succeeded.", stdin, StringComparison.Ordinal);
        Assert.False(File.Exists(_h.PathOf("failure-ran")));
    }

    [Fact]
    public async Task A_failing_post_command_fails_the_deploy_and_runs_failure()
    {
        var (url, sha, _) = _h.Archive("app.tar.gz", s_app);
        var outcome = await _h.RunAsync($"""
            src: {url}
            checksum: {sha}
            dest: {_h.PathOf("dest")}
            commands:
              post: ["exit 3"]
              failure: ["cat > {_h.PathOf("failure.log")}"]
            """);
        Assert.False(outcome.Succeeded);
        Assert.Contains("failed: exit 3 exit status 3", File.ReadAllText(_h.PathOf("failure.log")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failing_success_command_is_only_logged_and_the_deploy_stands()
    {
        var outcome = await _h.RunAsync($"""
            commands:
              pre: ["echo pre-out"]
              post: ["true"]
              success: ["echo to-stdout; exit 4", "touch {_h.PathOf("not-reached")}"]
            """);
        Assert.True(outcome.Succeeded, outcome.Log);
        Assert.Contains("success command failed: echo to-stdout; exit 4 exit status 4", outcome.Log, StringComparison.Ordinal);
        Assert.Contains("pre-out", outcome.Log, StringComparison.Ordinal);
        Assert.Equal("to-stdout\n", outcome.Output);
        Assert.False(File.Exists(_h.PathOf("not-reached")));
    }

    [Fact]
    public async Task Templates_fill_the_manifest_from_the_environment()
    {
        var (url, sha, _) = _h.Archive("app.tar.gz", s_app);
        var outcome = await _h.RunAsync($$$"""
            src: {{{url}}}
            checksum: {{{sha}}}
            dest: {{ env "DEPLOY_ROOT" "/nonexistent" }}/app
            commands:
              post: ["echo {{ must_env "RELEASE" }} > {{ env "DEPLOY_ROOT" }}/release"]
            """, environment: new Dictionary<string, string> { ["DEPLOY_ROOT"] = _h.Root, ["RELEASE"] = "r42" });
        Assert.True(outcome.Succeeded, outcome.Log);
        Assert.Equal("v2", File.ReadAllText(_h.PathOf("app/index.html")));
        Assert.Equal("r42\n", File.ReadAllText(_h.PathOf("release")));
    }

    [Fact]
    public async Task Must_env_of_an_undefined_variable_fails_the_load_and_changes_nothing()
    {
        var outcome = await _h.RunAsync($$$"""
            dest: {{ must_env "DEPLOY_ROOT" }}
            commands:
              pre: ["touch {{{_h.PathOf("pre-ran")}}}"]
            """);
        Assert.False(outcome.Succeeded);
        Assert.Contains("Load manifest failed: manifest line 1: environment variable DEPLOY_ROOT is not defined (must_env)", outcome.Log, StringComparison.Ordinal);
        Assert.False(File.Exists(_h.PathOf("pre-ran")));
    }

    [Fact]
    public async Task A_failed_download_is_retried_after_the_wait_until_it_succeeds()
    {
        var (url, sha, _) = _h.Archive("app.tar.gz", s_app);
        var manifest = _h.Server.Put("m.yml", $"src: {url}\nchecksum: {sha}\ndest: {_h.PathOf("dest")}\n");
        var before = _h.Server.Requests;
        var outcome = await RunWithFailuresAsync(manifest, failures: 2, retry: 2);
        Assert.True(outcome.Succeeded, outcome.Log);
        Assert.Equal(2, CountOf(outcome.Log, "Get src failed: GET"));
        Assert.Contains("HTTP 503", outcome.Log, StringComparison.Ordinal);
        Assert.Contains("Try again. Waiting: 10ms", outcome.Log, StringComparison.Ordinal);
        Assert.Equal("v2", File.ReadAllText(_h.PathOf("dest/index.html")));
        Assert.Equal(before + 1 + 3, _h.Server.Requests); // the manifest read by the test, then three tries
    }

    [Fact]
    public async Task A_download_that_fails_after_every_retry_names_the_url_and_status_and_runs_failure()
    {
        var (url, sha, _) = _h.Archive("app.tar.gz", s_app);
        var manifest = _h.Server.Put("m.yml", $"src: {url}\nchecksum: {sha}\ndest: {_h.PathOf("dest")}\ncommands:\n  failure: [\"touch {_h.PathOf("failure-ran")}\"]\n");
        var outcome = await RunWithFailuresAsync(manifest, failures: 3, retry: 1);
        Assert.False(outcome.Succeeded);
        Assert.Contains($"get src failed: GET {url}: HTTP 503", outcome.Log, StringComparison.Ordinal);
        Assert.True(File.Exists(_h.PathOf("failure-ran")));
        Assert.False(Directory.Exists(_h.PathOf("dest")));
    }

    [Theory]
    [InlineData("refused")]
    [InlineData("unresolvable")]
    public async Task A_source_that_cannot_be_reached_after_every_retry_names_the_url_and_the_reason_and_runs_failure(string kind)
    {
        string url, reason;
        if (kind == "refused")
        {
            // A port just bound and released: nothing listens there, so each connection is refused.
            var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
            listener.Start();
            var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            url = $"http://127.0.0.1:{port}/app.tar.gz";
            reason = "Connection refused";
        }
        else
        {
            // .invalid never resolves (RFC 2606); the resolver's wording varies, the host name is always in it.
            url = "http://no-such-host.invalid/app.tar.gz";
            reason = "no-such-host.invalid";
        }
        var outcome = await _h.RunAsync($"src: {url}\nchecksum: {new string('a', 64)}\ndest: {_h.PathOf("dest")}\ncommands:\n  failure: [\"touch {_h.PathOf("failure-ran")}\"]\n",
            new StretchOptions { Retry = 2, RetryWait = TimeSpan.FromMilliseconds(10), Timeout = TimeSpan.FromSeconds(60) });
        Assert.False(outcome.Succeeded);
        Assert.Equal(2, CountOf(outcome.Log, $"Get src failed: GET {url}: "));
        var last = outcome.Log.Split('\n').Single(l => l.Contains($"get src failed: GET {url}: ", StringComparison.Ordinal));
        Assert.Contains(reason, last, StringComparison.Ordinal);
        Assert.True(File.Exists(_h.PathOf("failure-ran")));
        Assert.False(Directory.Exists(_h.PathOf("dest")));
    }

    [Fact]
    public async Task A_download_that_outlasts_the_timeout_fails_the_deploy()
    {
        var url = _h.Server.BaseUrl + "/stall/app.tar.gz";
        var outcome = await _h.RunAsync($"src: {url}\nchecksum: {new string('a', 64)}\ndest: {_h.PathOf("dest")}\n", new StretchOptions { Timeout = TimeSpan.FromSeconds(3) });
        Assert.False(outcome.Succeeded);
        Assert.Contains($"timeout 3s reached while fetching src {url}", outcome.Log, StringComparison.Ordinal);
        Assert.True(_h.Server.Stalled.IsCompleted);
        Assert.False(Directory.Exists(_h.PathOf("dest")));
    }

    [Fact]
    public async Task An_unreadable_manifest_names_the_url_and_the_http_status()
    {
        var outcome = await _h.RunUrlAsync(_h.Server.BaseUrl + "/missing.yml");
        Assert.False(outcome.Succeeded);
        Assert.Contains($"Load manifest failed: GET {_h.Server.BaseUrl}/missing.yml: HTTP 404 Not Found", outcome.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_gs_source_is_a_clear_not_supported_error()
    {
        var outcome = await _h.RunAsync($"src: gs://bucket/app.tar.gz\nchecksum: {new string('a', 32)}\ndest: {_h.PathOf("dest")}\n");
        Assert.False(outcome.Succeeded);
        Assert.Contains("gs:// (Google Cloud Storage) sources are not supported", outcome.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_source_and_a_plain_tar_are_deployed()
    {
        var bytes = Tar.Create(_h.Root, s_app, gzip: false);
        var path = _h.PathOf("app.tar");
        File.WriteAllBytes(path, bytes);
        var outcome = await _h.RunAsync($"src: file://{path}\nchecksum: {Tar.Sha256(bytes)}\ndest: {_h.PathOf("dest")}\n");
        Assert.True(outcome.Succeeded, outcome.Log);
        Assert.Equal("v2", File.ReadAllText(_h.PathOf("dest/index.html")));
    }

    [Fact]
    public async Task A_manifest_with_src_but_no_checksum_is_refused()
    {
        var (url, _, _) = _h.Archive("app.tar.gz", s_app);
        var outcome = await _h.RunAsync($"src: {url}\ndest: {_h.PathOf("dest")}\n");
        Assert.False(outcome.Succeeded);
        Assert.Contains("checksum is required when src is set", outcome.Log, StringComparison.Ordinal);
    }

    private async Task<DeployOutcome> RunWithFailuresAsync(string manifestUrl, int failures, int retry)
    {
        // The manifest itself must load: fetch it once so the failures hit the archive's requests.
        using var http = new HttpClient();
        var yaml = await http.GetStringAsync(manifestUrl);
        var local = _h.PathOf($"manifest-{Guid.NewGuid():N}.yml");
        await File.WriteAllTextAsync(local, yaml);
        _h.Server.FailNext(failures);
        return await _h.RunUrlAsync("file://" + local, new StretchOptions { Retry = retry, RetryWait = TimeSpan.FromMilliseconds(10) });
    }

    private static int CountOf(string text, string what)
    {
        var count = 0;
        for (var i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + 1, StringComparison.Ordinal)) count++;
        return count;
    }
}
