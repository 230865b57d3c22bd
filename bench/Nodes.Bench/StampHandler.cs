using System.Globalization;

namespace Platform.Nodes.Bench;

/// <summary>One line of the stamp file: when a handler ran, on which node, for which event, naming which members (or the user event / query name).</summary>
public sealed record Stamp(long Nanos, string Node, string Event, IReadOnlyList<string> Subjects);

/// <summary>
/// The handler every agent of a run gets, Serf's and Platform's alike: a bash script that appends one line (the time it
/// started in nanoseconds, the node, the event, the members or the event's name) to a file shared by the cluster.
/// Lines this short are appended whole by O_APPEND, so concurrent handlers do not interleave. It runs no other program
/// (bash's <c>EPOCHREALTIME</c>, <c>read</c> and parameter expansion): the former /bin/sh one started <c>date</c>,
/// <c>cut</c>, <c>tr</c> and <c>dirname</c>, about 24 ms a run, and 49 of them at once took 1.7 s of this machine's
/// 2 cores, more than the failure detection it was there to time.
/// </summary>
public sealed class StampHandler
{
    private const string Script = """
        #!/bin/bash
        now=${EPOCHREALTIME//[!0-9]/}000
        subjects=
        case "$SERF_EVENT" in
        member-*) while IFS=$'\t' read -r name _; do subjects+="$name "; done ;;
        *) subjects="$SERF_USER_EVENT$SERF_QUERY_NAME"; while read -r _; do :; done ;;
        esac
        echo "$now $SERF_SELF_NAME $SERF_EVENT $subjects" >> "${0%/*}/stamps"

        """;

    public StampHandler(string dir)
    {
        Directory.CreateDirectory(dir);
        ScriptPath = Path.Combine(dir, "stamp.sh");
        StampsPath = Path.Combine(dir, "stamps");
        File.WriteAllText(ScriptPath, Script.ReplaceLineEndings("\n"));
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(ScriptPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.WriteAllText(StampsPath, "");
    }

    public string ScriptPath { get; }
    public string StampsPath { get; }

    private long _offset;
    private readonly List<Stamp> _stamps = [];

    /// <summary>Every complete line so far (reads only what was appended since the last call).</summary>
    public IReadOnlyList<Stamp> Read()
    {
        using var file = new FileStream(StampsPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        file.Seek(_offset, SeekOrigin.Begin);
        var buffer = new byte[file.Length - _offset];
        var read = file.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        if (read == 0) return _stamps;
        var end = Array.LastIndexOf(buffer, (byte)'\n', read - 1);
        if (end < 0) return _stamps;
        _offset += end + 1;
        foreach (var line in System.Text.Encoding.UTF8.GetString(buffer, 0, end + 1).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 3 || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var nanos)) continue;
            _stamps.Add(new Stamp(nanos, parts[1], parts[2], parts[3..]));
        }
        return _stamps;
    }

    /// <summary>
    /// Waits until every one of <paramref name="nodes"/> has run member-join handlers naming every other one (coalesced
    /// joins name several): a freshly started cluster's join handlers, still queued or running, would otherwise be
    /// timed as part of the first measured round.
    /// </summary>
    public Task WaitForJoinsAsync(IReadOnlyList<string> nodes, TimeSpan timeout)
    {
        var seen = nodes.ToDictionary(n => n, _ => new HashSet<string>(StringComparer.Ordinal), StringComparer.Ordinal);
        List<string> Behind() => seen.Where(p => nodes.Any(n => n != p.Key && !p.Value.Contains(n))).Select(p => p.Key).ToList();
        return PollAsync(
            s => { if (s.Event == "member-join" && seen.TryGetValue(s.Node, out var names)) names.UnionWith(s.Subjects); },
            () => Behind().Count == 0, timeout, TimeSpan.FromMilliseconds(20),
            () => $"after {timeout.TotalSeconds:0} s, {Behind().Count} of {nodes.Count} nodes had not yet run member-join for every other node (e.g. {string.Join(", ", Behind().Take(3))})");
    }

    /// <summary>
    /// Waits until each of <paramref name="nodes"/> has a stamp after <paramref name="sinceNanos"/> matching
    /// <paramref name="match"/>; returns each node's first such stamp. Polls the file every 5 ms.
    /// </summary>
    public async Task<Dictionary<string, long>> WaitForAsync(IReadOnlyCollection<string> nodes, long sinceNanos, Func<Stamp, bool> match, TimeSpan timeout, string what, Func<string, string>? describe = null)
    {
        var found = new Dictionary<string, long>(StringComparer.Ordinal);
        var wanted = new HashSet<string>(nodes, StringComparer.Ordinal);
        await PollAsync(
            s => { if (s.Nanos >= sinceNanos && wanted.Contains(s.Node) && !found.ContainsKey(s.Node) && match(s)) found[s.Node] = s.Nanos; },
            () => found.Count == wanted.Count, timeout, TimeSpan.FromMilliseconds(5),
            () =>
            {
                var missing = wanted.Except(found.Keys).Take(3).ToList();
                return $"{what}: after {timeout.TotalSeconds:0} s only {found.Count} of {wanted.Count} handlers ran (missing e.g. {string.Join(", ", missing)})"
                    + (describe is null ? "" : string.Concat(missing.Select(m => $"\n--- {m}'s last lines:\n{describe(m)}")));
            });
        return found;
    }

    /// <summary>Feeds every new stamp to <paramref name="take"/> until <paramref name="done"/>; past the timeout, fails with <paramref name="failure"/>.</summary>
    private async Task PollAsync(Action<Stamp> take, Func<bool> done, TimeSpan timeout, TimeSpan every, Func<string> failure)
    {
        var deadline = DateTime.UtcNow + timeout;
        var scanned = 0;
        while (true)
        {
            var stamps = Read();
            for (; scanned < stamps.Count; scanned++) take(stamps[scanned]);
            if (done()) return;
            if (DateTime.UtcNow > deadline) throw new BenchFailure(failure());
            await Task.Delay(every);
        }
    }
}
