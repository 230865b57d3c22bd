using System.CommandLine;
using Platform.Cli.Output;
using Platform.Client;

namespace Platform.Cli.Commands;

/// <summary><c>platform members</c>: the nodes, as <c>serf members</c> lists them.</summary>
public static class MembersCommand
{
    public static Command Create(CliContext context, Option<string[]> url)
    {
        var status = CliOptions.Regexp("--status", "-status", "Only nodes whose status matches this regexp (alive, leaving, left, failed)");
        var name = CliOptions.Regexp("--name", "-name", "Only nodes whose name matches this regexp (anchored: a full match)");
        var tags = CliOptions.TagFilters("Only nodes with tag key matching regexp (anchored); repeatable");
        var format = CliOptions.Format();
        var detailed = new Option<bool>("--detailed", "-detailed") { Description = "Also show protocol versions and health checks (text only)" };
        var command = new Command("members", "List the nodes of the fleet") { status, name, tags, format, detailed };
        command.SetAction(CommandAction.Run(context, "Error retrieving members", async (parse, cancellationToken) =>
        {
            using var client = context.Client(parse.GetValue(url));
            var filter = new NodeFilter
            {
                Status = parse.GetValue(status),
                Name = parse.GetValue(name),
                Tags = parse.GetValue(tags) ?? [],
            };
            var nodes = await client.ListNodesAsync(filter, cancellationToken).ConfigureAwait(false);
            var text = parse.GetValue(format) == "json" ? MembersOutput.Json(nodes) : MembersOutput.Text(nodes, parse.GetValue(detailed));
            await context.Out.WriteLineAsync(text).ConfigureAwait(false);
            return CommandAction.Ok;
        }));
        return command;
    }
}
