using System.CommandLine;
using Platform.Cli.Output;

namespace Platform.Cli.Commands;

/// <summary><c>platform tags [-node N] -set k=v … -delete k …</c>: changes a node's tags, as <c>serf tags</c> does.</summary>
public static class TagsCommand
{
    public static Command Create(CliContext context, Option<string[]> url)
    {
        var node = CliOptions.Node(context, "The node whose tags change (default: this machine's host name)");
        var set = new Option<string[]>("--set", "-set") { Description = "Create or change a tag; repeatable", Arity = ArgumentArity.ZeroOrMore, HelpName = "key=value" };
        set.Validators.Add(result =>
        {
            foreach (var token in result.Tokens)
            {
                if (token.Value.IndexOf('=') <= 0)
                    result.AddError($"-set '{token.Value}' is not valid; expected key=value, such as role=web");
            }
        });
        var delete = new Option<string[]>("--delete", "-delete") { Description = "Remove a tag, if present; repeatable", Arity = ArgumentArity.ZeroOrMore, HelpName = "key" };
        var format = CliOptions.Format();
        var command = new Command("tags", "Change a node's tags") { node, set, delete, format };
        command.SetAction(CommandAction.Run(context, "Error setting tags", async (parse, cancellationToken) =>
        {
            var pairs = parse.GetValue(set) ?? [];
            var keys = parse.GetValue(delete) ?? [];
            if (pairs.Length == 0 && keys.Length == 0)
                throw new UsageException("tags needs at least one -set key=value or -delete key");
            var tags = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var pair in pairs)
            {
                var eq = pair.IndexOf('=');
                tags[pair[..eq]] = pair[(eq + 1)..];
            }
            var nodeName = parse.GetValue(node)!;
            using var client = context.Client(parse.GetValue(url));
            await client.SetTagsAsync(nodeName, tags, keys, cancellationToken).ConfigureAwait(false);
            var text = parse.GetValue(format) == "json"
                ? GoJson.Indent(GoObject.Of(("node", nodeName), ("set", tags), ("delete", keys)))
                : SerfMessages.TagsUpdated;
            await context.Out.WriteLineAsync(text).ConfigureAwait(false);
            return CommandAction.Ok;
        }));
        return command;
    }
}
