using System.CommandLine;
using System.Text;
using Platform.Cli.Output;
using Platform.Client;

namespace Platform.Cli.Commands;

/// <summary><c>platform query</c>: runs a query and prints acks and responses as they stream in, as <c>serf query</c> does.</summary>
public static class QueryCommand
{
    public static Command Create(CliContext context, Option<string[]> url)
    {
        var nodes = new Option<string[]>("--node", "-node") { Description = "Only this node; repeatable", Arity = ArgumentArity.ZeroOrMore, HelpName = "name" };
        var tags = CliOptions.TagFilters("Only nodes with tag key matching regexp; repeatable");
        var timeout = CliOptions.Timeout("How long to wait for responses (Go duration, such as 15s; default: the silo's)");
        var noAck = new Option<bool>("--no-ack", "-no-ack") { Description = "Nodes do not acknowledge the query" };
        var format = CliOptions.Format();
        var name = new Argument<string>("name") { Description = "The query's name" };
        var payload = new Argument<string?>("payload") { Description = "The query's payload", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("query", "Send a query to the nodes and show their acks and responses") { nodes, tags, timeout, noAck, format, name, payload };
        command.SetAction(CommandAction.Run(context, "Error sending query", async (parse, cancellationToken) =>
        {
            var queryName = parse.GetValue(name)!;
            if (queryName.Length == 0) throw new UsageException("the query name is empty; expected a name such as 'uptime'");
            var options = new QueryOptions
            {
                Nodes = parse.GetValue(nodes) ?? [],
                Tags = parse.GetValue(tags) ?? [],
                Timeout = parse.GetValue(timeout),
                RequestAck = !parse.GetValue(noAck),
            };
            IQueryOutput output = parse.GetValue(format) == "json"
                ? new QueryJsonOutput(context.Out)
                : new QueryTextOutput(context.Out, queryName, !options.RequestAck);
            using var client = context.Client(parse.GetValue(url));
            using var stream = await client.StartQueryAsync(queryName, Encoding.UTF8.GetBytes(parse.GetValue(payload) ?? ""), options, cancellationToken).ConfigureAwait(false);
            output.Started();
            await context.Out.FlushAsync(cancellationToken).ConfigureAwait(false);
            await foreach (var message in stream.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                switch (message.Type)
                {
                    case QueryMessage.Ack:
                        output.Ack(message.From ?? "");
                        break;
                    case QueryMessage.Response:
                        output.Response(message.From ?? "", message.Payload);
                        break;
                }
            }
            output.Finished();
            return CommandAction.Ok;
        }));
        return command;
    }
}
