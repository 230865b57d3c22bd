using System.Diagnostics;
using System.Globalization;
using Platform.Agent.Deploy;
using Platform.Agent.Tests.Deploy.Support;

namespace Platform.Agent.Tests.Deploy;

/// <summary>
/// A deploy's commands run in a process group of their own: a cancel or the deploy's timeout sends SIGTERM to the whole
/// group and SIGKILL after the grace period, so nothing a command started survives it (real /bin/sh, real processes).
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class CommandProcessGroupTests : IAsyncLifetime
{
    private readonly HttpClient _http = new();
    private DeployHarness _h = null!;
    private ArtifactSource _source = null!;

    public async Task InitializeAsync()
    {
        _h = await DeployHarness.StartAsync();
        _source = new ArtifactSource(_http, new S3SourceOptions(), _ => null);
    }

    public async Task DisposeAsync()
    {
        _source.Dispose();
        _http.Dispose();
        await _h.DisposeAsync();
    }

    /// <summary>
    /// A pre command whose shell starts a plain child (sleep), a child that traps SIGTERM and keeps going (with its own
    /// children, the sleeps of its loop), records the group's id, then waits for them.
    /// </summary>
    private string Tree => $$"""
        commands:
          pre:
            - |
              cut -d' ' -f5 /proc/$$/stat > {{_h.PathOf("pgid")}}
              sleep 300 &
              sh -c 'trap "echo term ignored" TERM; while true; do sleep 0.2; done' &
              touch {{_h.PathOf("ready")}}
              wait
          post:
            - touch {{_h.PathOf("post-ran")}}
        """;

    private async Task<(Task<bool> Run, StringWriter Log)> StartAsync(StretchOptions options, CancellationToken cancellationToken)
    {
        var log = new StringWriter();
        var synced = TextWriter.Synchronized(log);
        var runner = new StretchRunner(options, _source, new DeployLog(synced, TimeProvider.System, streamCommands: true), synced, synced, _ => null, TimeProvider.System);
        var run = Task.Run(() => runner.RunTextAsync(Tree, cancellationToken));
        var clock = Stopwatch.StartNew();
        while (!File.Exists(_h.PathOf("ready")) || new FileInfo(_h.PathOf("pgid")).Length == 0)
        {
            if (run.IsCompleted) Assert.Fail($"the deploy ended before its command started its children:\n{log}");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"the pre command did not start its children within 30 s:\n{log}");
            await Task.Delay(20);
        }
        return (run, log);
    }

    /// <summary>The live processes whose process group is <paramref name="group"/> (from /proc/PID/stat's fifth field).</summary>
    private static List<int> Members(int group)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) continue;
            string stat;
            try { stat = File.ReadAllText(Path.Combine(dir, "stat")); }
            catch (IOException) { continue; }
            catch (UnauthorizedAccessException) { continue; }
            // pid (comm) state ppid pgrp …: comm may hold spaces, so read after its closing parenthesis.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // A zombie (Z) is dead, only not reaped yet by whoever inherited it.
            if (fields.Length > 2 && fields[2] == group.ToString(CultureInfo.InvariantCulture) && fields[0] is not ("Z" or "X")) found.Add(pid);
        }
        return found;
    }

    private async Task AssertTreeGoneAsync(Task<bool> run, StringWriter log)
    {
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(TimeSpan.FromSeconds(60)));
        var group = int.Parse(File.ReadAllText(_h.PathOf("pgid")).Trim(), CultureInfo.InvariantCulture);
        Assert.NotEqual(Environment.ProcessId, group);
        // The run returns after SIGKILL went to the group; the kernel reaps the killed processes right after.
        var clock = Stopwatch.StartNew();
        List<int> left;
        while ((left = Members(group)).Count != 0 && clock.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(20);
        Assert.True(left.Count == 0, $"processes of the command's group {group} remain: {string.Join(", ", left)}\n{log}");
        Assert.False(File.Exists(_h.PathOf("post-ran")), "post must not run after the deploy was stopped");
    }

    [Fact]
    public async Task A_cancel_stops_the_whole_tree_of_a_command_including_a_child_that_traps_SIGTERM()
    {
        using var cancel = new CancellationTokenSource();
        var options = new StretchOptions { CancelGrace = TimeSpan.FromSeconds(1) };
        var (run, log) = await StartAsync(options, cancel.Token);
        var clock = Stopwatch.StartNew();
        await cancel.CancelAsync();
        await AssertTreeGoneAsync(run, log);
        // The child that traps SIGTERM outlived the SIGTERM: it went with the SIGKILL after the grace period.
        Assert.True(clock.Elapsed >= options.CancelGrace, $"the run ended after {clock.Elapsed}, before the grace period");
    }

    [Fact]
    public async Task The_deploys_timeout_stops_the_whole_tree_as_a_cancel_does()
    {
        // The agent bounds a cluster deploy with a token that fires at its node timeout: the same path.
        using var timeout = new CancellationTokenSource();
        var (run, log) = await StartAsync(new StretchOptions { CancelGrace = TimeSpan.FromSeconds(1) }, timeout.Token);
        timeout.CancelAfter(TimeSpan.FromMilliseconds(200));
        await AssertTreeGoneAsync(run, log);
    }

    [Fact]
    public async Task A_command_that_ends_by_itself_leaves_a_service_it_started_in_the_background_running()
    {
        var pidFile = _h.PathOf("service.pid");
        var yaml = $"commands:\n  post:\n    - sleep 300 > /dev/null 2>&1 & echo $! > {pidFile}\n";
        var log = new StringWriter();
        var runner = new StretchRunner(new StretchOptions(), _source, new DeployLog(log, TimeProvider.System), log, log, _ => null, TimeProvider.System);
        Assert.True(await runner.RunTextAsync(yaml, CancellationToken.None), log.ToString());
        var pid = int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture);
        try
        {
            Assert.True(Directory.Exists($"/proc/{pid}"), "the service a post command started must outlive the command");
        }
        finally
        {
            Process.GetProcessById(pid).Kill();
        }
    }
}
