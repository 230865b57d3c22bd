using System.Text;

namespace Platform.Cli.Output;

/// <summary>
/// Aligned columns as Serf prints them (ryanuber/columnize's defaults): each cell trimmed, every column but a line's
/// last padded to the widest cell, columns glued with two spaces. Rows may have different numbers of cells.
/// </summary>
public static class Columns
{
    /// <summary>The rows, one line each, without a final newline.</summary>
    public static string Format(IReadOnlyList<IReadOnlyList<string>> rows)
    {
        var widths = new List<int>();
        foreach (var row in rows)
        {
            for (var i = 0; i < row.Count; i++)
            {
                var length = row[i].Trim().Length;
                if (widths.Count <= i) widths.Add(length);
                else if (widths[i] < length) widths[i] = length;
            }
        }
        var sb = new StringBuilder();
        foreach (var row in rows)
        {
            for (var i = 0; i < row.Count; i++)
            {
                var cell = row[i].Trim();
                sb.Append(cell);
                if (i == row.Count - 1) sb.Append('\n');
                else sb.Append(' ', widths[i] - cell.Length).Append("  ");
            }
        }
        if (sb.Length > 0 && sb[^1] == '\n') sb.Length--;
        return sb.ToString();
    }
}
