using System.Text;
using System.Text.Json;
using Platform.Cli.Output;
using Platform.Cli.Tests.Support;
using Platform.Client;

namespace Platform.Cli.Tests;

/// <summary>
/// Our Serf-style output against the real <c>serf</c>'s, byte for byte: the same members (read from <c>serf members
/// -format json</c>) or the same acks and responses, in the order serf printed them, must give the same text.
/// Serf prints a member's tags in its map's order, which varies; we sort them, so serf's tags are sorted before comparing.
/// </summary>
public sealed class SerfOutputTests(SerfCluster serf) : IClassFixture<SerfCluster>
{
    [Fact]
    public async Task Members_text_is_serf_members_output()
    {
        var (code, text, _) = await serf.RunAsync("members");
        Assert.Equal(0, code);
        var nodes = InOrderOf(text, await SerfNodesAsync());
        Assert.Equal(SortTags(text), MembersOutput.Text(nodes, detailed: false) + "\n");
    }

    [Fact]
    public async Task Members_detailed_text_is_serf_members_detailed_output()
    {
        var (code, text, _) = await serf.RunAsync("members", "-detailed");
        Assert.Equal(0, code);
        var nodes = InOrderOf(text, await SerfNodesAsync());
        Assert.Equal(SortTags(text), MembersOutput.Text(nodes, detailed: true) + "\n");
    }

    [Fact]
    public async Task Members_json_is_serf_members_format_json_output()
    {
        var (code, json, _) = await serf.RunAsync("members", "-format", "json");
        Assert.Equal(0, code);
        Assert.Equal(json, MembersOutput.Json(NodesFromSerfJson(json)) + "\n");
        Assert.Contains("\"tags\": {}", json); // c has no tags: an empty object, not null
    }

    [Fact]
    public async Task No_members_prints_what_serf_prints_for_none()
    {
        var (_, text, _) = await serf.RunAsync("members", "-name", "nobody");
        var (_, json, _) = await serf.RunAsync("members", "-name", "nobody", "-format", "json");
        Assert.Equal(text, MembersOutput.Text([], detailed: false) + "\n");
        Assert.Equal(json, MembersOutput.Json([]) + "\n");
    }

    [Fact]
    public async Task Query_text_is_serf_query_output()
    {
        var (code, text, _) = await serf.RunAsync("query", "-timeout", "1500ms", "greet", "x");
        Assert.Equal(0, code);
        Assert.Contains("Response from 'a': hello from a\n", text);
        Assert.Equal(text, Replay(text, w => new QueryTextOutput(w, "greet", noAck: false)));
    }

    [Fact]
    public async Task Query_no_ack_text_is_serf_query_no_ack_output()
    {
        var (code, text, _) = await serf.RunAsync("query", "-no-ack", "-timeout", "1500ms", "greet");
        Assert.Equal(0, code);
        Assert.DoesNotContain("Ack", text);
        Assert.Equal(text, Replay(text, w => new QueryTextOutput(w, "greet", noAck: true)));
    }

    [Fact]
    public async Task Query_json_is_serf_query_format_json_output()
    {
        var (code, json, _) = await serf.RunAsync("query", "-format", "json", "-timeout", "1500ms", "greet");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(json);
        var writer = new StringWriter { NewLine = "\n" };
        var ours = new QueryJsonOutput(writer);
        ours.Started();
        foreach (var ack in doc.RootElement.GetProperty("Acks").EnumerateArray()) ours.Ack(ack.GetString()!);
        foreach (var response in doc.RootElement.GetProperty("Responses").EnumerateObject())
            ours.Response(response.Name, Encoding.UTF8.GetBytes(response.Value.GetString()!));
        ours.Finished();
        Assert.Equal(3, doc.RootElement.GetProperty("Acks").GetArrayLength());
        Assert.Equal(json, writer.ToString());
    }

    [Fact]
    public async Task Query_json_with_no_acks_and_no_responses_is_serf_output()
    {
        var (_, json, _) = await serf.RunAsync("query", "-format", "json", "-no-ack", "-node", "nobody", "-timeout", "300ms", "greet");
        var writer = new StringWriter { NewLine = "\n" };
        var ours = new QueryJsonOutput(writer);
        ours.Finished();
        Assert.Equal(json, writer.ToString());
    }

    [Fact]
    public async Task Event_answer_is_serf_event_output()
    {
        var (code, text, _) = await serf.RunAsync("event", "deploy", "v1");
        Assert.Equal(0, code);
        Assert.Equal(text, SerfMessages.EventDispatched("deploy", coalesce: true) + "\n");
        (code, text, _) = await serf.RunAsync("event", "-coalesce=false", "deploy");
        Assert.Equal(0, code);
        Assert.Equal(text, SerfMessages.EventDispatched("deploy", coalesce: false) + "\n");
    }

    [Fact]
    public async Task Tags_answer_is_serf_tags_output()
    {
        var (code, text, _) = await serf.RunAsync("tags", "-delete", "not-a-tag");
        Assert.Equal(0, code);
        Assert.Equal(SerfMessages.TagsUpdated + "\n", text);
    }

    /// <summary>Feeds serf's acks and responses, in serf's order, to our text output.</summary>
    private static string Replay(string serfText, Func<TextWriter, IQueryOutput> create)
    {
        var writer = new StringWriter { NewLine = "\n" };
        var ours = create(writer);
        ours.Started();
        foreach (var line in serfText.Split('\n'))
        {
            if (line.StartsWith("Ack from '", StringComparison.Ordinal))
            {
                ours.Ack(line["Ack from '".Length..^1]);
            }
            else if (line.StartsWith("Response from '", StringComparison.Ordinal))
            {
                var rest = line["Response from '".Length..];
                var end = rest.IndexOf("': ", StringComparison.Ordinal);
                // The handler's echo ended with a newline, which serf dropped; ours must drop it too.
                ours.Response(rest[..end], Encoding.UTF8.GetBytes(rest[(end + 3)..] + "\n"));
            }
        }
        ours.Finished();
        return writer.ToString();
    }

    private async Task<List<Node>> SerfNodesAsync()
    {
        var (code, json, _) = await serf.RunAsync("members", "-format", "json");
        Assert.Equal(0, code);
        return NodesFromSerfJson(json);
    }

    private static List<Node> NodesFromSerfJson(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var nodes = new List<Node>();
        foreach (var m in doc.RootElement.GetProperty("members").EnumerateArray())
        {
            var addr = m.GetProperty("addr").GetString()!;
            var tags = m.GetProperty("tags").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
            nodes.Add(new Node(m.GetProperty("name").GetString()!, addr[..addr.LastIndexOf(':')], m.GetProperty("port").GetInt32(), tags,
                m.GetProperty("status").GetString()!, m.GetProperty("protocol").GetProperty("version").GetInt32()));
        }
        return nodes;
    }

    /// <summary>The nodes in the order of serf's text lines (serf lists members in its map's order).</summary>
    private static List<Node> InOrderOf(string serfText, List<Node> nodes)
    {
        var names = serfText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l[..l.IndexOf(' ')]).ToList();
        Assert.Equal(SerfCluster.Names.Order(), names.Order());
        return [.. names.Select(n => nodes.Single(x => x.Name == n))];
    }

    /// <summary>serf's lines with each tags cell's k=v pairs sorted by key (the same length, so the columns stay put).</summary>
    private static string SortTags(string serfText)
    {
        var lines = serfText.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var cells = lines[i].Split("  ", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (cells.Length < 4 || !cells[3].Contains('=') || cells[3].StartsWith("Protocol", StringComparison.Ordinal)) continue;
            var sorted = string.Join(",", cells[3].Split(',').OrderBy(p => p[..p.IndexOf('=')], StringComparer.Ordinal));
            lines[i] = lines[i].Replace(cells[3], sorted, StringComparison.Ordinal);
        }
        return string.Join('\n', lines);
    }
}
