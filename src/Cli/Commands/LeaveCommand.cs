using System.CommandLine;
using Platform.Cli.Output;

namespace Platform.Cli.Commands;

/// <summary><c>platform leave [-node N]</c>: the node's agent leaves gracefully, as <c>serf leave</c> does.</summary>
public static class LeaveCommand
{
    public static Command Create(CliContext context, Option<string[]> url)
    {
        var node = CliOptions.Node(context, "The node that leaves (default: this machine's host name)");
        var format = CliOptions.Format();
        var command = new Command("leave", "Make a node's agent leave the fleet gracefully") { node, format };
        command.SetAction(CommandAction.Run(context, "Error leaving", async (parse, cancellationToken) =>
        {
            var nodeName = parse.GetValue(node)!;
            using var client = context.Client(parse.GetValue(url));
            await client.LeaveAsync(nodeName, cancellationToken).ConfigureAwait(false);
            var text = parse.GetValue(format) == "json" ? GoJson.Indent(GoObject.Of(("node", nodeName), ("left", true))) : SerfMessages.LeaveComplete;
            await context.Out.WriteLineAsync(text).ConfigureAwait(false);
            return CommandAction.Ok;
        }));
        return command;
    }
}
