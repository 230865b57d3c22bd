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
    public void Within_a_logging_class_no_two_log_messages_share_an_event_id()
    {
        // A class's log lines share its category: one id per message within it is what lets a shipper tell them apart.
        var ids = new Dictionary<string, List<(int Id, string Where)>>();
        foreach (var (file, text) in Sources())
        {
            if (ClassName().Match(text) is not { Success: true } declared) continue;
            var type = $"{Namespace().Match(text).Groups[1].Value}.{declared.Groups[1].Value}";
            foreach (Match m in EventIdOf().Matches(text))
            {
                if (!ids.TryGetValue(type, out var list)) ids[type] = list = [];
                list.Add((int.Parse(m.Groups[1].Value), $"{file}:{Line(text, m.Index)}"));
            }
        }
        Assert.True(ids.Count > 10, $"only {ids.Count} classes with log messages found");
        var clashes = ids.SelectMany(t => t.Value.GroupBy(e => e.Id).Where(g => g.Count() > 1)
            .Select(g => $"{t.Key} event {g.Key}: {string.Join(", ", g.Select(e => e.Where))}")).ToList();
        Assert.True(clashes.Count == 0, "event ids used twice in one class:\n" + string.Join('\n', clashes));
    }

    /// <summary><c>x.LogWarning(first, …</c> or <c>x.Log(LogLevel.Warning, first, …</c>, with the first argument after the level.</summary>
    [GeneratedRegex(@"\.Log(?:Trace|Debug|Information|Warning|Error|Critical)\(\s*(?<first>[^\s,)][^,)]*)|\.Log\(\s*LogLevel\.\w+\s*,\s*(?<first>[^\s,)][^,)]*)")]
    private static partial Regex DirectLogCall();

    [GeneratedRegex(@"(?:EventId = |new EventId\()(\d+)")]
    private static partial Regex EventIdOf();

    [GeneratedRegex(@"^(?:public|internal)[^(\n{:]*?\bclass (\w+)", RegexOptions.Multiline)]
    private static partial Regex ClassName();

    [GeneratedRegex(@"^namespace ([\w.]+);", RegexOptions.Multiline)]
    private static partial Regex Namespace();
}
