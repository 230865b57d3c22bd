using System.CommandLine;
using System.Text;
using Platform.Cli.Output;
using Platform.Protocol;

namespace Platform.Cli.Commands;

/// <summary><c>platform event [-coalesce=false] NAME [PAYLOAD]</c>: fires a user event, as <c>serf event</c> does.</summary>
public static class EventCommand
{
    public static Command Create(CliContext context, Option<string[]> url)
    {
        var coalesce = new Option<bool>("--coalesce", "-coalesce")
        {
            Description = "Whether events of this name arriving close together may run the handler once, with the last (-coalesce=false to turn off)",
            DefaultValueFactory = _ => true,
        };
        var format = CliOptions.Format();
        var name = new Argument<string>("name") { Description = "The event's name" };
        var payload = new Argument<string?>("payload") { Description = "The event's payload", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("event", "Fire a user event to the nodes") { coalesce, format, name, payload };
        command.SetAction(CommandAction.Run(context, "Error sending event", async (parse, cancellationToken) =>
        {
            var eventName = parse.GetValue(name)!;
            var body = Encoding.UTF8.GetBytes(parse.GetValue(payload) ?? "");
            // The name's rules are Serf's everywhere; the size limit is the silo's setting, so the silo checks it.
            if (UserEvents.Validate(eventName, body, int.MaxValue) is { } invalid) throw new UsageException(invalid);
            var coalescing = parse.GetValue(coalesce);
            using var client = context.Client(parse.GetValue(url));
            var fired = await client.FireEventAsync(eventName, body, coalescing, cancellationToken).ConfigureAwait(false);
            var text = parse.GetValue(format) == "json"
                ? GoJson.Indent(GoObject.Of(("id", fired.Id), ("name", fired.Name), ("ltime", fired.LTime), ("coalesce", coalescing)))
                : SerfMessages.EventDispatched(eventName, coalescing);
            await context.Out.WriteLineAsync(text).ConfigureAwait(false);
            return CommandAction.Ok;
        }));
        return command;
    }
}
