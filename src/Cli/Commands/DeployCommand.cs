using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Platform.Client;
using Spectre.Console;

namespace Platform.Cli.Commands;

/// <summary><c>platform deploy start|list|show|cancel|logs|watch</c>: cluster deploys (docs/deploys.md, "Cluster deploys").</summary>
public static class DeployCommand
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    public static Command Create(CliContext context, Option<string[]> url)
        => new("deploy", "Roll a Stretcher manifest out over the fleet, and follow deploys")
        {
            StartCommand(context, url), ListCommand(context, url), ShowCommand(context, url), CancelCommand(context, url), LogsCommand(context, url), WatchCommand(context, url),
        };

    private static Command StartCommand(CliContext context, Option<string[]> url)
    {
        var manifestUrl = new Option<string>("--manifest-url", "-manifest-url") { Description = "The manifest's URL (http, https, file, s3)", HelpName = "URL" };
        var manifestFile = new Option<string>("--manifest-file", "-manifest-file") { Description = "A local manifest file, sent inline", HelpName = "path" };
        var nodes = new Option<string[]>("--node", "-node") { Description = "A node by name; repeatable", Arity = ArgumentArity.ZeroOrMore, HelpName = "name" };
        var tags = new Option<string[]>("--tag", "-tag") { Description = "tag=regexp the node's tag must match; repeatable", Arity = ArgumentArity.ZeroOrMore, HelpName = "tag=regexp" };
        var all = new Option<bool>("--all", "-all") { Description = "Every alive node" };
        var batch = new Option<string>("--batch", "-batch") { Description = "Batch size: 2, 25% or a ramp 1,5,25% (the last repeats)", HelpName = "sizes" };
        var maxParallel = new Option<int?>("--max-parallel", "-max-parallel") { Description = "Nodes running at once within a batch", HelpName = "n" };
        var threshold = new Option<string>("--failure-threshold", "-failure-threshold") { Description = "Stop starting nodes once failed+timed-out+lost exceeds this count or percentage (default 0)", HelpName = "n|n%" };
        var pause = new Option<string>("--pause", "-pause") { Description = "Wait between batches, such as 30s", HelpName = "duration" };
        var nodeTimeout = new Option<string>("--node-timeout", "-node-timeout") { Description = "Longest one node may run (default 10m)", HelpName = "duration" };
        var retry = new Option<int?>("--retry", "-retry") { Description = "Stretcher's -retry: try a failed download of src again this many times", HelpName = "n" };
        var retryWait = new Option<string>("--retry-wait", "-retry-wait") { Description = "Stretcher's -retry-wait: the wait before each retry (default 3s)", HelpName = "duration" };
        var randomDelay = new Option<string>("--random-delay", "-random-delay") { Description = "Stretcher's -random-delay: each node sleeps a random time below this first", HelpName = "duration" };
        var maxBandwidth = new Option<string>("--max-bandwidth", "-max-bandwidth") { Description = "Stretcher's -max-bandwidth: bytes/sec for the download and rsync (10M, 10MiB)", HelpName = "size" };
        var notifyKey = new Option<string>("--notify-key", "-notify-key") { Description = "Key to set when the deploy ends", HelpName = "key" };
        var notifyEvent = new Option<string>("--notify-event", "-notify-event") { Description = "User event to fire when the deploy ends", HelpName = "name" };
        var format = CliOptions.Format();
        var command = new Command("start", "Start a deploy; prints its id")
        {
            manifestUrl, manifestFile, nodes, tags, all, batch, maxParallel, threshold, pause, nodeTimeout, retry, retryWait, randomDelay, maxBandwidth, notifyKey, notifyEvent, format,
        };
        command.SetAction(CommandAction.Run(context, "Error starting deploy", async (parse, cancellationToken) =>
        {
            var file = parse.GetValue(manifestFile);
            var tagMap = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var t in parse.GetValue(tags) ?? [])
            {
                var eq = t.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0) throw new UsageException($"--tag '{t}': expected tag=regexp");
                tagMap[t[..eq]] = t[(eq + 1)..];
            }
            var start = new DeployStart
            {
                ManifestUrl = parse.GetValue(manifestUrl),
                Manifest = file is null ? null : await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false),
                Target = new DeployTargetSpec
                {
                    Nodes = parse.GetValue(nodes) is { Length: > 0 } n ? n : null,
                    Tags = tagMap.Count > 0 ? tagMap : null,
                    All = parse.GetValue(all) ? true : null,
                },
                Strategy = new DeployStrategySpec
                {
                    Batch = parse.GetValue(batch)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                    MaxParallel = parse.GetValue(maxParallel),
                    FailureThreshold = parse.GetValue(threshold),
                    Pause = parse.GetValue(pause),
                    NodeTimeout = parse.GetValue(nodeTimeout),
                },
                Stretch = parse.GetValue(retry) is null && parse.GetValue(retryWait) is null && parse.GetValue(randomDelay) is null && parse.GetValue(maxBandwidth) is null ? null : new DeployStretchSpec
                {
                    Retry = parse.GetValue(retry),
                    RetryWait = parse.GetValue(retryWait),
                    RandomDelay = parse.GetValue(randomDelay),
                    MaxBandwidth = parse.GetValue(maxBandwidth),
                },
                OnFinish = parse.GetValue(notifyKey) is null && parse.GetValue(notifyEvent) is null ? null : new DeployNotifySpec(parse.GetValue(notifyKey), parse.GetValue(notifyEvent)),
            };
            using var client = context.Client(parse.GetValue(url));
            var deploy = await client.StartDeployAsync(start, cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(format) == "json") await context.Out.WriteLineAsync(JsonSerializer.Serialize(deploy, s_json)).ConfigureAwait(false);
            else await context.Out.WriteLineAsync($"Deploy {deploy.Id} started: {deploy.Nodes.Count} node(s) in {deploy.Batches} batch(es)").ConfigureAwait(false);
            return CommandAction.Ok;
        }));
        return command;
    }

    private static Command ListCommand(CliContext context, Option<string[]> url)
    {
        var target = new Option<string>("--target", "-target") { Description = "Only deploys whose target contains this text", HelpName = "text" };
        var limit = new Option<int>("--limit", "-limit") { Description = "How many (newest first)", DefaultValueFactory = _ => 20, HelpName = "n" };
        var format = CliOptions.Format();
        var command = new Command("list", "The deploy history, newest first") { target, limit, format };
        command.SetAction(CommandAction.Run(context, "Error listing deploys", async (parse, cancellationToken) =>
        {
            using var client = context.Client(parse.GetValue(url));
            var list = await client.ListDeploysAsync(parse.GetValue(target), parse.GetValue(limit), cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(format) == "json")
            {
                await context.Out.WriteLineAsync(JsonSerializer.Serialize(list, s_json)).ConfigureAwait(false);
                return CommandAction.Ok;
            }
            var console = Console(context);
            var table = new Table().AddColumns("id", "status", "target", "created", "nodes");
            foreach (var d in list) table.AddRow(d.Id, d.Status, Markup.Escape(d.Target), When(d.Created), Markup.Escape(Counts(d.Counts)));
            console.Write(table);
            return CommandAction.Ok;
        }));
        return command;
    }

    private static Command ShowCommand(CliContext context, Option<string[]> url)
    {
        var id = new Argument<string>("id") { Description = "The deploy's id" };
        var format = CliOptions.Format();
        var command = new Command("show", "A deploy and every node's run") { id, format };
        command.SetAction(CommandAction.Run(context, "Error reading deploy", async (parse, cancellationToken) =>
        {
            using var client = context.Client(parse.GetValue(url));
            var d = await client.GetDeployAsync(parse.GetValue(id)!, cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(format) == "json")
            {
                await context.Out.WriteLineAsync(JsonSerializer.Serialize(d, s_json)).ConfigureAwait(false);
                return CommandAction.Ok;
            }
            await context.Out.WriteLineAsync($"id:      {d.Id}\nstatus:  {d.Status}{(d.StopReason is null ? "" : $" ({d.StopReason})")}\ntarget:  {d.Target}\nbatch:   {d.Batch}/{d.Batches}\ncreated: {When(d.Created)}").ConfigureAwait(false);
            var console = Console(context);
            var table = new Table().AddColumns("node", "batch", "status", "exit", "duration", "reason");
            foreach (var n in d.Nodes)
                table.AddRow(Markup.Escape(n.Node), n.Batch.ToString(CultureInfo.InvariantCulture), n.Status, n.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "",
                    n.DurationMs is { } ms ? $"{ms / 1000.0:0.0}s" : "", Markup.Escape(n.Reason ?? ""));
            console.Write(table);
            return CommandAction.Ok;
        }));
        return command;
    }

    private static Command CancelCommand(CliContext context, Option<string[]> url)
    {
        var id = new Argument<string>("id") { Description = "The deploy's id" };
        var stop = new Option<bool>("--stop", "-stop") { Description = "Stop the running nodes too (default: let them finish)" };
        var command = new Command("cancel", "Start no more nodes (and with --stop, stop the running ones)") { id, stop };
        command.SetAction(CommandAction.Run(context, "Error cancelling deploy", async (parse, cancellationToken) =>
        {
            using var client = context.Client(parse.GetValue(url));
            var d = await client.CancelDeployAsync(parse.GetValue(id)!, parse.GetValue(stop), cancellationToken).ConfigureAwait(false);
            await context.Out.WriteLineAsync($"Deploy {d.Id}: {d.Status}{(d.StopReason is null ? "" : $" ({d.StopReason})")}").ConfigureAwait(false);
            return CommandAction.Ok;
        }));
        return command;
    }

    private static Command LogsCommand(CliContext context, Option<string[]> url)
    {
        var id = new Argument<string>("id") { Description = "The deploy's id" };
        var node = new Option<string>("--node", "-node") { Description = "The node (may be left out for a one-node deploy)", HelpName = "name" };
        var follow = new Option<bool>("--follow", "-f") { Description = "Stream the output until the node ends" };
        var command = new Command("logs", "A node's deploy output") { id, node, follow };
        command.SetAction(CommandAction.Run(context, "Error reading deploy output", async (parse, cancellationToken) =>
        {
            using var client = context.Client(parse.GetValue(url));
            await using var stream = await client.OpenDeployLogAsync(parse.GetValue(id)!, parse.GetValue(node), parse.GetValue(follow), cancellationToken).ConfigureAwait(false);
            using var reader = new StreamReader(stream);
            var buffer = new char[4096];
            int n;
            while ((n = await reader.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                await context.Out.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                await context.Out.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            return CommandAction.Ok;
        }));
        return command;
    }

    private static Command WatchCommand(CliContext context, Option<string[]> url)
    {
        var id = new Argument<string>("id") { Description = "The deploy's id" };
        var command = new Command("watch", "Live progress bars per batch until the deploy ends; exits 1 unless it succeeded") { id };
        command.SetAction(CommandAction.Run(context, "Error watching deploy", async (parse, cancellationToken) =>
        {
            using var client = context.Client(parse.GetValue(url));
            var deployId = parse.GetValue(id)!;
            var d = await client.GetDeployAsync(deployId, cancellationToken).ConfigureAwait(false);
            await Console(context).Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn()).StartAsync(async progress =>
            {
                var bars = new Dictionary<int, ProgressTask>();
                foreach (var group in d.Nodes.GroupBy(x => x.Batch).OrderBy(g => g.Key))
                    bars[group.Key] = progress.AddTask($"batch {group.Key}", maxValue: group.Count());
                while (true)
                {
                    foreach (var group in d.Nodes.GroupBy(x => x.Batch))
                    {
                        var bar = bars[group.Key];
                        bar.Value = group.Count(x => x.Status is not ("pending" or "running"));
                        bar.Description = $"batch {group.Key} {Markup.Escape(Counts(group.GroupBy(x => x.Status).ToDictionary(g => g.Key, g => g.Count())))}";
                    }
                    if (d.Status != "running") return;
                    await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken).ConfigureAwait(false);
                    d = await client.GetDeployAsync(deployId, cancellationToken).ConfigureAwait(false);
                }
            }).ConfigureAwait(false);
            await context.Out.WriteLineAsync($"Deploy {d.Id}: {d.Status}{(d.StopReason is null ? "" : $" ({d.StopReason})")}").ConfigureAwait(false);
            return d.Status == "succeeded" ? CommandAction.Ok : CommandAction.Failed;
        }));
        return command;
    }

    private static IAnsiConsole Console(CliContext context)
    {
        var output = new AnsiConsoleOutput(context.Out);
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = output });
        if (!output.IsTerminal) console.Profile.Width = 200;
        return console;
    }

    private static string Counts(Dictionary<string, int> counts) => string.Join(' ', counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key}={c.Value}"));

    private static string When(DateTimeOffset at) => at.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
