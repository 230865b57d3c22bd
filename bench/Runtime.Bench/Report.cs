using System.Globalization;
using System.Text;

namespace Platform.Runtime.Bench;

/// <summary>One measured row.</summary>
public sealed record Row(
    string Suite,
    string Scenario,
    int Concurrency,
    double OpsPerSecond,
    long Operations,
    double Seconds,
    Percentiles? Latency,
    double? BytesPerOp = null,
    int? Gen0 = null,
    string Note = "",
    double? OpsMin = null,
    double? OpsMax = null,
    int Trials = 1,
    double OthersCpu = double.NaN);

public static class Report
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Rate(double perSecond) => perSecond >= 1_000_000
        ? (perSecond / 1_000_000).ToString("0.00", Inv) + " M"
        : perSecond >= 10_000 ? (perSecond / 1000).ToString("0.0", Inv) + " k" : perSecond.ToString("0", Inv);

    public static string Micros(double us) => double.IsNaN(us) ? "-"
        : us < 10 ? us.ToString("0.00", Inv) : us < 1000 ? us.ToString("0.0", Inv) : us.ToString("0", Inv);

    public static void PrintRow(Row r)
    {
        var lat = r.Latency is { } l ? $"p50 {Micros(l.P50),7} µs  p99 {Micros(l.P99),7} µs  p99.9 {Micros(l.P999),7} µs" : "";
        var alloc = r.BytesPerOp is { } b ? $"  {b,6:0.0} B/op  gen0 {r.Gen0}" : "";
        alloc += double.IsNaN(r.OthersCpu) ? "" : $"  others {r.OthersCpu:0}% CPU";
        Console.WriteLine($"  {r.Scenario,-58} {Rate(r.OpsPerSecond),9}/s{Range(r),-22}  {lat}{alloc}");
    }

    private static string Range(Row r) => r.Trials > 1 && r.OpsMin is { } lo && r.OpsMax is { } hi ? $" ({Rate(lo)}–{Rate(hi)})" : "";

    public static void PrintTable(IReadOnlyList<Row> rows)
    {
        Console.WriteLine();
        Console.WriteLine($"{"suite",-8} {"scenario",-58} {"conc",5} {"ops/s",10} {"min–max of trials",-20} {"p50 µs",8} {"p99 µs",8} {"p99.9 µs",9} {"B/op",7} {"others%",7}");
        foreach (var r in rows)
        {
            var l = r.Latency;
            Console.WriteLine($"{r.Suite,-8} {r.Scenario,-58} {r.Concurrency,5} {Rate(r.OpsPerSecond),10} {(r.Trials > 1 ? $"{Rate(r.OpsMin!.Value)}–{Rate(r.OpsMax!.Value)}" : ""),-20} {(l is { } a ? Micros(a.P50) : "-"),8} {(l is { } b ? Micros(b.P99) : "-"),8} {(l is { } c ? Micros(c.P999) : "-"),9} {(r.BytesPerOp is { } x ? x.ToString("0", Inv) : "-"),7} {Others(r),7}");
        }
    }

    private static string Others(Row r) => double.IsNaN(r.OthersCpu) ? "-" : r.OthersCpu.ToString("0", Inv);

    public static string Markdown(IReadOnlyList<Row> rows, string suite, string opsHeader)
    {
        var sb = new StringBuilder();
        var trials = rows.Any(r => r.Suite == suite && r.Trials > 1);
        sb.AppendLine($"| scenario | concurrency | {opsHeader}{(trials ? " (median) | min–max of trials" : "")} | p50 µs | p99 µs | p99.9 µs | alloc B/op | other processes' CPU % |");
        sb.AppendLine($"|---|---:|---:{(trials ? "|---:" : "")}|---:|---:|---:|---:|---:|");
        foreach (var r in rows.Where(r => r.Suite == suite))
        {
            var l = r.Latency;
            sb.AppendLine($"| {r.Scenario}{(r.Note.Length > 0 ? " — " + r.Note : "")} | {r.Concurrency:N0} | {r.OpsPerSecond.ToString("N0", Inv)}{(trials ? " | " + (r.Trials > 1 ? $"{r.OpsMin!.Value.ToString("N0", Inv)}–{r.OpsMax!.Value.ToString("N0", Inv)}" : "-") : "")} | {(l is { } a ? Micros(a.P50) : "-")} | {(l is { } b ? Micros(b.P99) : "-")} | {(l is { } c ? Micros(c.P999) : "-")} | {(r.BytesPerOp is { } x ? x.ToString("0", Inv) : "-")} | {Others(r)} |");
        }
        return sb.ToString();
    }
}
