using System.CommandLine;
using Platform.Cli.Output;

namespace Platform.Cli.Commands;

/// <summary><c>platform monitor [-log-level L]</c>: member events, user events and queries as they happen, until Ctrl+C.</summary>
public static class MonitorCommand
{
    public static Command Create(CliContext context, Option<string[]> url)
    {
        var level = new Option<string>("--log-level", "-log-level")
        {
            Description = "Lowest level shown: trace, debug, info, warn or err (events are info)",
            DefaultValueFactory = _ => "INFO",
            HelpName = "level",
        };
        level.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string>();
            if (value is not null && Array.IndexOf(MonitorOutput.Levels, value.ToUpperInvariant()) < 0)
                result.AddError($"-log-level '{value}' is not a level; expected one of trace, debug, info, warn, err");
        });
        var format = CliOptions.Format();
        var command = new Command("monitor", "Stream member events, user events and queries as they happen") { level, format };
        command.SetAction(CommandAction.Run(context, "Error starting stream", async (parse, cancellationToken) =>
        {
            var minLevel = parse.GetValue(level)!.ToUpperInvariant();
            var json = parse.GetValue(format) == "json";
            using var client = context.Client(parse.GetValue(url));
            try
            {
                await foreach (var e in client.MonitorAsync(cancellationToken).ConfigureAwait(false))
                {
                    var line = json ? e.Json : MonitorOutput.Line(e, minLevel, DateTimeOffset.Now);
                    if (line is null) continue;
                    await context.Out.WriteLineAsync(line).ConfigureAwait(false);
                    await context.Out.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return CommandAction.Ok; // Ctrl+C ends a monitor normally
            }
            await context.Out.WriteLineAsync().ConfigureAwait(false);
            await context.Out.WriteLineAsync("Remote side ended the monitor! This usually means that the\nremote side has exited or crashed.").ConfigureAwait(false);
            return CommandAction.Failed;
        }));
        return command;
    }
}
