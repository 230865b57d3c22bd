using System.Text.RegularExpressions;

namespace Platform.Silo.Tests.Telemetry;

/// <summary>Every log call in src/ carries an event id of its own: a log shipper can then select lines by id, not by text.</summary>
public sealed partial class EventIdSourceTests
{
    private static string SourceRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Platform.sln"))) return Path.Combine(dir.FullName, "src");
        throw new DirectoryNotFoundException($"no Platform.sln above {AppContext.BaseDirectory}");
    }

    private static IEnumerable<(string File, string Text)> Sources()
    {
        var root = SourceRoot();
        foreach (var file in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(root, file);
            if (relative.Split(Path.DirectorySeparatorChar).Any(part => part is "obj" or "bin")) continue;
            yield return (relative, File.ReadAllText(file));
        }
    }

    private static int Line(string text, int index) => text.AsSpan(0, index).Count('\n') + 1;

    [Fact]
    public void No_direct_log_call_in_src_goes_without_an_event_id()
    {
        var missing = new List<string>();
        foreach (var (file, text) in Sources())
            foreach (Match call in DirectLogCall().Matches(text))
                if (!call.Groups["first"].Value.StartsWith("new EventId(", StringComparison.Ordinal))
                    missing.Add($"{file}:{Line(text, call.Index)}: {call.Value.Trim()}");
        Assert.True(missing.Count == 0, "log calls without an event id (EventId 0):\n" + string.Join('\n', missing));
    }

    [Fact]
    public void The_event_ids_given_to_direct_log_calls_are_each_used_once_and_by_no_logger_message()
    {
        var direct = new List<(int Id, string Where)>();
        var generated = new HashSet<int>();
        foreach (var (file, text) in Sources())
        {
            foreach (Match m in DirectEventId().Matches(text)) direct.Add((int.Parse(m.Groups[1].Value), $"{file}:{Line(text, m.Index)}"));
            foreach (Match m in LoggerMessageEventId().Matches(text)) generated.Add(int.Parse(m.Groups[1].Value));
        }
        Assert.NotEmpty(direct);
        var clashes = direct.GroupBy(d => d.Id).Where(g => g.Count() > 1 || generated.Contains(g.Key))
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(d => d.Where))}{(generated.Contains(g.Key) ? " and a [LoggerMessage]" : "")}").ToList();
        Assert.True(clashes.Count == 0, "event ids used more than once:\n" + string.Join('\n', clashes));
    }

    /// <summary><c>x.LogWarning(first, …</c> or <c>x.Log(LogLevel.Warning, first, …</c>, with the first argument after the level.</summary>
    [GeneratedRegex(@"\.Log(?:Trace|Debug|Information|Warning|Error|Critical)\(\s*(?<first>[^\s,)][^,)]*)|\.Log\(\s*LogLevel\.\w+\s*,\s*(?<first>[^\s,)][^,)]*)")]
    private static partial Regex DirectLogCall();

    [GeneratedRegex(@"new EventId\((\d+)")]
    private static partial Regex DirectEventId();

    [GeneratedRegex(@"EventId = (\d+)")]
    private static partial Regex LoggerMessageEventId();
}
