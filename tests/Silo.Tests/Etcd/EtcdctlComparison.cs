using System.Runtime.CompilerServices;
using System.Text;
using System.Text.RegularExpressions;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Platform.Silo.Tests.Etcd;

/// <summary>
/// The differential harness: each etcdctl command runs against the reference etcd and the subject at the same
/// time, and their exit codes, stdout and stderr must be identical once normalised (<see cref="OutputNormalizer"/>).
/// Command lines are split on spaces ('single quotes' keep spaces); <c>{k}</c> is the test's own key prefix and
/// <c>@N</c> an index relative to the store's index when the comparison started. The optional expectations
/// (<c>exit</c>, <c>stdout</c>, <c>stderr</c>, in normalised form) are checked against etcd first, so a sequence
/// that does not do what its test says fails as such rather than passing as "both agree".
/// </summary>
public sealed partial class EtcdctlComparison : IAsyncDisposable
{
    private static readonly TimeSpan WatchTimeout = TimeSpan.FromSeconds(30);

    private readonly IReadOnlyList<IKeysServer> _servers;
    private readonly long[] _base;
    private readonly ITestOutputHelper _output;
    private readonly List<WatchPair> _watches = [];

    private EtcdctlComparison(IReadOnlyList<IKeysServer> servers, long[] baseIndexes, string prefix, ITestOutputHelper output)
    {
        _servers = servers;
        _base = baseIndexes;
        Prefix = prefix;
        _output = output;
    }

    /// <summary>The test's key prefix, what <c>{k}</c> stands for.</summary>
    public string Prefix { get; }

    /// <summary>Starts a comparison whose keys live under /compat/<paramref name="test"/><paramref name="variant"/>.</summary>
    public static async Task<EtcdctlComparison> StartAsync(EtcdCompatFixture fixture, ITestOutputHelper output, string variant = "", [CallerMemberName] string test = "")
    {
        var servers = fixture.Servers;
        var baseIndexes = await Task.WhenAll(servers.Select(s => s.CurrentIndexAsync()));
        output.WriteLine($"comparing {servers[0].Name} (index {baseIndexes[0]}) with {servers[1].Name} (index {baseIndexes[1]})");
        return new EtcdctlComparison(servers, baseIndexes, $"/compat/{test}{variant}", output);
    }

    /// <summary>
    /// Runs one etcdctl command on both servers and compares; returns etcd's normalised result. <paramref name="unordered"/>
    /// sorts stdout lines first, for listings etcd prints in map order.
    /// </summary>
    public async Task<ProcessResult> Run(string commandLine, int? exit = null, string? stdout = null, string? stderr = null, bool noSync = false, bool unordered = false)
    {
        var results = await Task.WhenAll(_servers.Select((s, i) => Etcdctl.RunAsync(s.Url, Arguments(commandLine, i), noSync)));
        if (unordered) results = [.. results.Select(r => r with { StdOut = SortLines(r.StdOut) })];
        return Compare(commandLine, results, exit, stdout, stderr);
    }

    /// <summary>
    /// Starts the watch command on both servers through a <see cref="WatchTap"/> (with <c>--no-sync</c>, so it talks
    /// to the tap) and returns once each server answered the watch with headers, i.e. registered it.
    /// </summary>
    public async Task<WatchPair> Watch(string commandLine)
    {
        var taps = _servers.Select(s => new WatchTap(s.Url)).ToArray();
        var processes = taps.Select((t, i) => Etcdctl.Start(t.Url, Arguments(commandLine, i), noSync: true)).ToArray();
        var watch = new WatchPair(commandLine, taps, processes);
        _watches.Add(watch);
        for (var i = 0; i < _servers.Count; i++)
        {
            // A watch answered from history may print and exit before the test looks: that counts too.
            if (!await taps[i].WaitForWatchesAsync(1, WatchTimeout, processes[i].Exited) && !processes[i].Exited.IsCompleted)
                throw new XunitException($"{_servers[i].Name} did not answer `etcdctl {commandLine}` with headers within {WatchTimeout.TotalSeconds} s "
                    + "(etcd sends them as soon as the watch is registered)\n" + _servers[i].LogTail());
        }
        _output.WriteLine($"$ etcdctl --no-sync {commandLine} &   (registered)");
        return watch;
    }

    /// <summary>Waits for a one-shot watch to exit by itself on both servers, then compares.</summary>
    public async Task<ProcessResult> Exited(WatchPair watch, int? exit = null, string? stdout = null, string? stderr = null)
    {
        var results = await Task.WhenAll(watch.Processes.Select(p => p.WaitForExitAsync(WatchTimeout)));
        await watch.DisposeAsync();
        return Compare(watch.CommandLine, results, exit, stdout, stderr);
    }

    /// <summary>
    /// Waits until a long-running watch printed <paramref name="lines"/> lines on both servers, interrupts it (Ctrl+C)
    /// and compares. <paramref name="unordered"/> sorts stdout lines first, for exec-watch, whose commands run concurrently.
    /// </summary>
    public async Task<ProcessResult> Interrupted(WatchPair watch, int lines, bool unordered = false, string? stdout = null, string? stderr = null)
    {
        for (var i = 0; i < _servers.Count; i++)
        {
            var process = watch.Processes[i];
            if (!await process.StdOut.WaitForLinesAsync(lines, WatchTimeout))
                throw new XunitException($"`etcdctl {watch.CommandLine}` on {_servers[i].Name} printed {process.StdOut.Lines} of {lines} lines "
                    + $"within {WatchTimeout.TotalSeconds} s:\nstdout: {process.StdOut.Text}\nstderr: {process.StdErr.Text}\n{_servers[i].LogTail()}");
        }
        var results = await Task.WhenAll(watch.Processes.Select(p => p.InterruptAsync()));
        await watch.DisposeAsync();
        if (unordered) results = [.. results.Select(r => r with { StdOut = SortLines(r.StdOut) })];
        return Compare(watch.CommandLine, results, exit: 0, stdout, stderr);
    }

    /// <summary>Makes <paramref name="count"/> changes on both servers over HTTP, to keys under {k}/load, some at a time.</summary>
    public async Task Load(int count)
    {
        const int Concurrency = 8;
        await Task.WhenAll(_servers.Select(server => Parallel.ForEachAsync(Enumerable.Range(0, count),
            new ParallelOptions { MaxDegreeOfParallelism = Concurrency },
            async (i, ct) =>
            {
                using var body = new FormUrlEncodedContent([new("value", "load")]);
                using var response = await server.Http.PutAsync($"/v2/keys{Prefix}/load/k{i % 50}", body, ct);
                if (!response.IsSuccessStatusCode)
                    throw new XunitException($"{server.Name}: PUT {Prefix}/load/k{i % 50} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
            })));
        _output.WriteLine($"(made {count} changes under {Prefix}/load on each server)");
    }

    private ProcessResult Compare(string commandLine, ProcessResult[] raw, int? exit, string? stdout, string? stderr)
    {
        var normalized = raw.Select((r, i) => new ProcessResult(r.ExitCode, OutputNormalizer.Normalize(r.StdOut, _base[i]), OutputNormalizer.Normalize(r.StdErr, _base[i]))).ToArray();
        var (reference, subject) = (normalized[0], normalized[1]);
        _output.WriteLine($"$ etcdctl {commandLine}\n  {reference}");

        var expected = new StringBuilder();
        if (exit is { } e && e != reference.ExitCode) expected.AppendLine($"  exit code: expected {e}, etcd exited {reference.ExitCode}");
        if (stdout is not null && Expand(stdout) != reference.StdOut.TrimEnd('\n'))
            expected.AppendLine($"  stdout: expected\n{Indent(Expand(stdout))}\n  etcd printed\n{Indent(reference.StdOut)}");
        if (stderr is not null && Expand(stderr) != reference.StdErr.TrimEnd('\n'))
            expected.AppendLine($"  stderr: expected\n{Indent(Expand(stderr))}\n  etcd printed\n{Indent(reference.StdErr)}");
        if (expected.Length > 0)
            throw new XunitException($"`etcdctl {commandLine}`: etcd itself does not answer as the test expects (the test is wrong):\n{expected}");

        if (reference != subject)
        {
            throw new XunitException(
                $"`etcdctl {commandLine}` differs (normalised):\n{_servers[0].Name}: {reference}\n{_servers[1].Name}: {subject}\n"
                + $"raw:\n{_servers[0].Name}: {raw[0]}\n{_servers[1].Name}: {raw[1]}");
        }
        return reference;
    }

    private IEnumerable<string> Arguments(string commandLine, int server) =>
        Split(Expand(commandLine)).Select(a => OutputNormalizer.Absolute(a, _base[server]));

    private string Expand(string text) => text.Replace("{k}", Prefix, StringComparison.Ordinal);

    /// <summary>Splits on spaces; 'single quotes' group words (no escapes inside).</summary>
    public static List<string> Split(string commandLine)
    {
        var args = new List<string>();
        foreach (Match m in Word().Matches(commandLine))
            args.Add(m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value);
        return args;
    }

    [GeneratedRegex(@"'([^']*)'|(\S+)")]
    private static partial Regex Word();

    private static string SortLines(string text) =>
        string.Concat(text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal).Select(l => l + "\n"));

    private static string Indent(string text) => "    " + text.TrimEnd('\n').Replace("\n", "\n    ");

    public async ValueTask DisposeAsync()
    {
        foreach (var watch in _watches) await watch.DisposeAsync();
    }
}

/// <summary>One watch command running against both servers, each through its own tap.</summary>
public sealed class WatchPair(string commandLine, WatchTap[] taps, CapturedProcess[] processes) : IAsyncDisposable
{
    private bool _disposed;

    public string CommandLine { get; } = commandLine;
    public CapturedProcess[] Processes { get; } = processes;

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var p in Processes) await p.DisposeAsync();
        foreach (var t in taps) await t.DisposeAsync();
    }
}
