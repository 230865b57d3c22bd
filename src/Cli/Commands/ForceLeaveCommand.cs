using System.CommandLine;
using Platform.Cli.Output;

namespace Platform.Cli.Commands;

/// <summary><c>platform force-leave NAME</c>: a failed node becomes left; silent on success, as <c>serf force-leave</c>.</summary>
public static class ForceLeaveCommand
{
    public static Command Create(CliContext context, Option<string[]> url)
    {
        var name = new Argument<string>("name") { Description = "The failed node" };
        var format = CliOptions.Format();
        var command = new Command("force-leave", "Force a failed node into the left state") { format, name };
        command.SetAction(CommandAction.Run(context, "Error force leaving", async (parse, cancellationToken) =>
        {
            var nodeName = parse.GetValue(name)!;
            using var client = context.Client(parse.GetValue(url));
            await client.ForceLeaveAsync(nodeName, cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(format) == "json")
                await context.Out.WriteLineAsync(GoJson.Indent(GoObject.Of(("node", nodeName), ("left", true)))).ConfigureAwait(false);
            return CommandAction.Ok;
        }));
        return command;
    }
}
