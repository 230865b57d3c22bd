using System.Globalization;
using System.Text;

namespace Platform.Keys.Bench;

/// <summary>Which way a metric improves; <see cref="None"/> for context such as CPU use.</summary>
public enum Better { Higher, Lower, None }

/// <summary>
/// The side-by-side table: one row per metric, one column per target, and the ratio of the subject (Platform, or the
/// second of two targets) to each other target.
/// </summary>
public sealed class ResultTable(IReadOnlyList<string> targets)
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private sealed record Row(string Metric, Better Better, Dictionary<string, double> Values);

    private readonly List<Row> _rows = [];

    public void Add(string metric, Better better, string target, double value)
    {
        var row = _rows.Find(r => r.Metric == metric);
        if (row is null)
        {
            row = new Row(metric, better, []);
            _rows.Add(row);
        }
        row.Values[target] = value;
    }

    /// <summary>The target the ratios are of: Platform if it is one of them, else the second of two; null for none.</summary>
    public static string? Subject(IReadOnlyList<string> targets) =>
        targets.Count < 2 ? null : targets.FirstOrDefault(t => t.Equals("Platform", StringComparison.OrdinalIgnoreCase)) ?? (targets.Count == 2 ? targets[1] : null);

    /// <summary>A markdown table, aligned for reading in a terminal too.</summary>
    public string Render()
    {
        var subject = Subject(targets);
        var compare = subject is not null;
        var others = targets.Where(t => t != subject).ToList();
        var header = new List<string> { "metric" };
        header.AddRange(targets);
        if (compare)
        {
            foreach (var other in others) header.Add($"{subject}/{other}");
            header.Add("better");
        }
        var lines = new List<string[]> { header.ToArray() };
        foreach (var row in _rows)
        {
            var cells = new List<string> { row.Metric };
            foreach (var t in targets) cells.Add(row.Values.TryGetValue(t, out var v) ? Number(v) : "-");
            if (compare)
            {
                foreach (var other in others)
                    cells.Add(row.Values.TryGetValue(other, out var a) && row.Values.TryGetValue(subject!, out var b) && a != 0 && !double.IsNaN(a) && !double.IsNaN(b)
                        ? (b / a).ToString(b / a >= 10 ? "0" : "0.00", Inv) + "×" : "-");
                cells.Add(row.Better switch { Better.Higher => "higher", Better.Lower => "lower", _ => "" });
            }
            lines.Add(cells.ToArray());
        }
        var widths = new int[header.Count];
        foreach (var l in lines)
            for (var i = 0; i < l.Length; i++) widths[i] = Math.Max(widths[i], l[i].Length);
        var sb = new StringBuilder();
        for (var n = 0; n < lines.Count; n++)
        {
            var l = lines[n];
            sb.Append('|');
            for (var i = 0; i < l.Length; i++) sb.Append(' ').Append(i == 0 ? l[i].PadRight(widths[i]) : l[i].PadLeft(widths[i])).Append(" |");
            sb.AppendLine();
            if (n == 0)
            {
                sb.Append('|');
                for (var i = 0; i < widths.Length; i++) sb.Append(i == 0 ? " " + new string('-', widths[i]) + " |" : " " + new string('-', widths[i] - 1) + ": |");
                sb.AppendLine();
            }
        }
        return sb.ToString();
    }

    /// <summary>Three significant digits, thousands separated: 12,345 / 123 / 12.3 / 1.23 / 0.123.</summary>
    public static string Number(double v) =>
        double.IsNaN(v) ? "-"
        : Math.Abs(v) >= 100 ? v.ToString("#,0", Inv)
        : Math.Abs(v) >= 10 ? v.ToString("0.0", Inv)
        : Math.Abs(v) >= 1 ? v.ToString("0.00", Inv)
        : v.ToString("0.000", Inv);
}
