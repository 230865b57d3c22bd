using System.CommandLine;
using Platform.Cli.Output;

namespace Platform.Cli.Commands;

/// <summary><c>platform ready</c>: exit 0 and <c>ready</c> when a silo answers ready, else 1.</summary>
public static class ReadyCommand
{
    public static Command Create(CliContext context, Option<string[]> url)
    {
        var format = CliOptions.Format();
        var command = new Command("ready", "Check that a silo is ready to serve (exit 0 when it is)") { format };
        command.SetAction(CommandAction.Run(context, "Error checking readiness", async (parse, cancellationToken) =>
        {
            using var client = context.Client(parse.GetValue(url));
            var ready = await client.IsReadyAsync(cancellationToken).ConfigureAwait(false);
            var text = parse.GetValue(format) == "json" ? GoJson.Indent(GoObject.Of(("ready", ready))) : ready ? "ready" : "not ready";
            await context.Out.WriteLineAsync(text).ConfigureAwait(false);
            return ready ? CommandAction.Ok : CommandAction.Failed;
        }));
        return command;
    }
}
