using System.Globalization;
using System.Net;
using System.Text;

namespace Platform.Silo.Tests.Nodes.Serf;

/// <summary>
/// Renders what the handlers saw, step by step and node by node, in a form where only what a handler can rely on
/// remains, so that Serf's and Platform's renderings are compared line by line:
/// <list type="bullet">
/// <item>addresses in standard input become <c>&lt;addr&gt;</c> (Serf's line carries the IP alone, no port); Lamport times (SERF_USER_LTIME, SERF_QUERY_LTIME) become <c>&lt;ltime&gt;</c>;</item>
/// <item>member lines are sorted, and tags within a line (<c>k=v,k=v</c>), since Go iterates maps in random order; so are a step's invocations on one node;</item>
/// <item>a member-update that repeats, line for line, the last update the node's handler already saw for that member is dropped: Serf 0.8.2's coalescer
/// re-sends the last member-update with every later flush of member events (newer Serf compares updates and does not);</item>
/// <item>a node that leaves or is killed is shown up to the step before (what its own handler runs while it goes is a race in Serf);</item>
/// <item>the query command's Ack and Response lines are sorted (they come in arrival order).</item>
/// </list>
/// User event and query payloads are shown byte for byte, with \t, \n and non-ASCII bytes escaped.
/// </summary>
public static class ScenarioTranscript
{
    public static IReadOnlyList<string> Render(IReadOnlyList<StepRecord> records)
    {
        var lines = new List<string>();
        var lastUpdates = new Dictionary<(string Node, string Member), string>();
        foreach (var record in records)
        {
            lines.Add($"== {record.Step.Title}");
            if (record.CommandOutput is not null)
                foreach (var line in NormalizeQueryOutput(record.CommandOutput)) lines.Add("  | " + line);
            foreach (var (node, invocations) in record.Invocations.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                if (node == record.Step.Departs) continue;
                var blocks = new List<string>();
                foreach (var invocation in invocations)
                {
                    var block = RenderInvocation(node, invocation, lastUpdates);
                    if (block is not null) blocks.Add(block);
                }
                blocks.Sort(StringComparer.Ordinal);
                foreach (var block in blocks) lines.AddRange(block.Split('\n'));
            }
            if (record.Failure is not null) lines.Add("!! " + record.Failure);
        }
        return lines;
    }

    private static string? RenderInvocation(string node, HandlerInvocation invocation, Dictionary<(string, string), string> lastUpdates)
    {
        var text = new StringBuilder();
        text.Append(node).Append(": ").Append(invocation.Event);
        foreach (var (key, value) in invocation.Environment)
        {
            var shown = key is "SERF_USER_LTIME" or "SERF_QUERY_LTIME" && ulong.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out _) ? "<ltime>" : value;
            text.Append("\n    ").Append(key).Append('=').Append(shown);
        }
        if (invocation.Event.StartsWith("member-", StringComparison.Ordinal))
        {
            var members = MemberLines(invocation.StdIn);
            if (invocation.Event == "member-update")
            {
                members = [.. members.Where(m => !IsRepeatedUpdate(node, m, lastUpdates))];
                if (members.Count == 0) return null;
            }
            members.Sort(StringComparer.Ordinal);
            foreach (var member in members) text.Append("\n    stdin| ").Append(member);
        }
        else
        {
            text.Append("\n    stdin: \"").Append(Escape(invocation.StdIn)).Append('"');
        }
        return text.ToString();
    }

    private static bool IsRepeatedUpdate(string node, string line, Dictionary<(string, string), string> lastUpdates)
    {
        var key = (node, line.Split("\\t")[0]);
        if (lastUpdates.TryGetValue(key, out var last) && last == line) return true;
        lastUpdates[key] = line;
        return false;
    }

    /// <summary>Member lines, normalised and escaped (a line's missing final newline shows as a missing \n).</summary>
    private static List<string> MemberLines(byte[] stdin)
    {
        var result = new List<string>();
        var text = Encoding.UTF8.GetString(stdin);
        var start = 0;
        while (start < text.Length)
        {
            var end = text.IndexOf('\n', start);
            var line = end < 0 ? text[start..] : text[start..end];
            var fields = line.Split('\t');
            if (fields.Length > 1 && IPAddress.TryParse(fields[1], out _)) fields[1] = "<addr>";
            if (fields.Length > 3) fields[3] = string.Join(',', fields[3].Split(',').Order(StringComparer.Ordinal));
            result.Add(Escape(Encoding.UTF8.GetBytes(string.Join('\t', fields) + (end < 0 ? "" : "\n"))));
            start = end < 0 ? text.Length : end + 1;
        }
        return result;
    }

    private static IEnumerable<string> NormalizeQueryOutput(string output)
    {
        var lines = output.TrimEnd('\n').Split('\n');
        var replies = lines.Where(l => l.StartsWith("Ack from ", StringComparison.Ordinal) || l.StartsWith("Response from ", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToList();
        var placed = false;
        foreach (var line in lines)
        {
            if (line.StartsWith("Ack from ", StringComparison.Ordinal) || line.StartsWith("Response from ", StringComparison.Ordinal))
            {
                if (placed) continue;
                placed = true;
                foreach (var reply in replies) yield return reply;
                continue;
            }
            yield return line;
        }
    }

    private static string Escape(byte[] bytes)
    {
        var text = new StringBuilder();
        foreach (var b in bytes)
        {
            text.Append(b switch
            {
                (byte)'\t' => "\\t",
                (byte)'\n' => "\\n",
                (byte)'\\' => "\\\\",
                (byte)'"' => "\\\"",
                >= 0x20 and < 0x7f => ((char)b).ToString(),
                _ => $"\\x{b:x2}",
            });
        }
        return text.ToString();
    }
}
