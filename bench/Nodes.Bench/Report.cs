using System.Text;

namespace Platform.Nodes.Bench;

/// <summary>The result rows of a run, printed as a markdown table at the end (and as each is measured).</summary>
public sealed class Report
{
    private readonly List<string[]> _rows = [];
    private static readonly string[] Header = ["measurement", "target", "agents", "rounds", "p50 ms", "p99 ms", "max ms", "note"];

    public void Add(string measurement, string target, int agents, int rounds, Latencies latencies, string note = "")
    {
        string[] row = [measurement, target, agents.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), rounds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Latencies.Ms(latencies.P50), Latencies.Ms(latencies.P99), Latencies.Ms(latencies.Max), note];
        _rows.Add(row);
        Console.WriteLine($"  {measurement}, {target}, {row[2]} agents: {latencies}{(note.Length > 0 ? "; " + note : "")}");
    }

    public void AddNote(string measurement, string target, int agents, string note)
    {
        _rows.Add([measurement, target, agents.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), "", "", "", "", note]);
        Console.WriteLine($"  {measurement}, {target}, {agents:N0} agents: {note}");
    }

    public string Render()
    {
        var text = new StringBuilder();
        text.Append("| ").AppendJoin(" | ", Header).Append(" |\n");
        text.Append("|---|---|---:|---:|---:|---:|---:|---|\n");
        foreach (var row in _rows) text.Append("| ").AppendJoin(" | ", row).Append(" |\n");
        return text.ToString();
    }
}
