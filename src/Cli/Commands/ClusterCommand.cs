using System.CommandLine;
using System.Text.Json;
using Spectre.Console;

namespace Platform.Cli.Commands;

/// <summary><c>platform cluster</c>: the silos and their state (a table, or the API's JSON with <c>-format json</c>).</summary>
public static class ClusterCommand
{
    public static Command Create(CliContext context, Option<string[]> url)
    {
        var format = CliOptions.Format();
        var command = new Command("cluster", "Show the silos of the cluster") { format };
        command.SetAction(CommandAction.Run(context, "Error reading the cluster", async (parse, cancellationToken) =>
        {
            using var client = context.Client(parse.GetValue(url));
            using var cluster = await client.GetClusterAsync(cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(format) == "json")
            {
                await context.Out.WriteLineAsync(JsonSerializer.Serialize(cluster.RootElement, new JsonSerializerOptions { WriteIndented = true })).ConfigureAwait(false);
                return CommandAction.Ok;
            }
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(context.Out) });
            var root = cluster.RootElement;
            console.WriteLine($"cluster: {Text(root, "clusterId") ?? "(single silo)"}  storage: {Text(root, "storage") ?? "?"}");
            var table = new Table().AddColumns("silo", "address", "urls", "status", "started", "activations");
            if (root.TryGetProperty("silos", out var silos) && silos.ValueKind == JsonValueKind.Array)
            {
                foreach (var silo in silos.EnumerateArray())
                {
                    var self = silo.TryGetProperty("self", out var s) && s.ValueKind == JsonValueKind.True;
                    table.AddRow(
                        Markup.Escape((Text(silo, "name") ?? "") + (self ? " (this)" : "")),
                        Markup.Escape(Text(silo, "address") ?? "-"),
                        Markup.Escape(Text(silo, "urls") ?? "-"),
                        Markup.Escape(Text(silo, "status") ?? "?"),
                        Markup.Escape(Text(silo, "startedAt") ?? "?"),
                        silo.TryGetProperty("activations", out var a) && a.ValueKind == JsonValueKind.Number ? a.GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture) : "-");
                }
            }
            console.Write(table);
            return CommandAction.Ok;
        }));
        return command;
    }

    private static string? Text(JsonElement e, string name)
        => e.TryGetProperty(name, out var v) && v.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined) ? v.ToString() : null;
}
