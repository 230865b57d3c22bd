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
            var json = parse.GetValue(format) == "json";
            if (!json && parse.GetValue(detailed)) nodes = await WithChecksAsync(client, nodes, cancellationToken).ConfigureAwait(false);
            var text = json ? MembersOutput.Json(nodes) : MembersOutput.Text(nodes, parse.GetValue(detailed));
            await context.Out.WriteLineAsync(text).ConfigureAwait(false);
            return CommandAction.Ok;
        }));
        return command;
    }

    /// <summary>The listing has no health checks; <c>-detailed</c> reads each node (a few at a time) for them.</summary>
    private static async Task<IReadOnlyList<Node>> WithChecksAsync(PlatformClient client, IReadOnlyList<Node> nodes, CancellationToken cancellationToken)
    {
        var detailed = new Node[nodes.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, nodes.Count), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var node = nodes[i];
            try
            {
                var detail = await client.GetNodeAsync(node.Name, ct).ConfigureAwait(false);
                detailed[i] = node with { Checks = detail.Checks };
            }
            catch (PlatformApiException e) when (e.Status == System.Net.HttpStatusCode.NotFound)
            {
                detailed[i] = node; // reaped since the listing
            }
        }).ConfigureAwait(false);
        return detailed;
    }
}
