using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Platform.Client;

namespace Platform.Cli.Commands;

/// <summary><c>platform build start|list|show|cancel|retry|log [-f]|run-local</c>: builds (scope build; docs/builds.md).</summary>
public static class BuildCommand
{
    public static Command Create(CliContext context, Option<string[]> url) => new("build", "Start, list, show, cancel and retry builds, and read their logs")
    {
        StartCommand(context, url),
        ListCommand(context, url),
        ShowCommand(context, url),
        ActionCommand(context, url, "cancel", "Cancel a build (its running jobs are stopped)"),
        ActionCommand(context, url, "retry", "Run the failed jobs of a finished build again"),
        LogCommand(context, url),
        BuildRunLocalCommand.Create(context),
    };

    private static Command StartCommand(CliContext context, Option<string[]> url)
    {
        var repo = new Argument<string>("repo") { Description = "The repository, as registered (owner/name)" };
        var branch = new Option<string>("--branch", "-branch") { Description = "The branch to build", DefaultValueFactory = _ => "main", HelpName = "branch" };
        var commit = new Option<string?>("--commit", "-commit") { Description = "The commit to build (default: the branch's head)", HelpName = "sha" };
        var format = CliOptions.Format();
        var command = new Command("start", "Start a build") { repo, branch, commit, format };
        command.SetAction(CommandAction.Run(context, "Error starting build", async (parse, cancellationToken) =>
        {
            using var client = context.Client(parse.GetValue(url));
            var build = await client.StartBuildAsync(parse.GetValue(repo)!, parse.GetValue(branch)!, parse.GetValue(commit), cancellationToken).ConfigureAwait(false);
            await WriteAsync(context, parse.GetValue(format) == "json", build, $"build {build.Id} {build.State}").ConfigureAwait(false);
            return CommandAction.Ok;
        }));
        return command;
    }

    private static Command ListCommand(CliContext context, Option<string[]> url)
    {
        var repo = new Option<string?>("--repo", "-repo") { Description = "Only builds of this repository", HelpName = "repo" };
        var branch = new Option<string?>("--branch", "-branch") { Description = "Only builds of this branch", HelpName = "branch" };
        var state = new Option<string?>("--state", "-state") { Description = "Only builds in this state (scheduled, running, passed, failed, canceled, skipped…)", HelpName = "state" };
        var format = CliOptions.Format();
        var command = new Command("list", "List the latest builds, newest first") { repo, branch, state, format };
        command.SetAction(CommandAction.Run(context, "Error listing builds", async (parse, cancellationToken) =>
        {
            using var client = context.Client(parse.GetValue(url));
            var builds = await client.ListBuildsAsync(parse.GetValue(repo), parse.GetValue(branch), parse.GetValue(state), null, cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(format) == "json")
            {
                await context.Out.WriteLineAsync(JsonSerializer.Serialize(builds, new JsonSerializerOptions(PlatformClient.Json) { WriteIndented = true })).ConfigureAwait(false);
                return CommandAction.Ok;
            }
            foreach (var b in builds)
                await context.Out.WriteLineAsync($"{b.Id,-30} {b.State,-10} {b.Branch,-20} {Short(b.Commit)} {b.Created.ToString("u", CultureInfo.InvariantCulture)}").ConfigureAwait(false);
            return CommandAction.Ok;
        }));
        return command;
    }

    private static Command ShowCommand(CliContext context, Option<string[]> url)
    {
        var id = new Argument<string>("id") { Description = "The build's id (owner/name/number)" };
        var format = CliOptions.Format();
        var command = new Command("show", "Show a build and its jobs") { id, format };
        command.SetAction(CommandAction.Run(context, "Error reading build", async (parse, cancellationToken) =>
        {
            using var client = context.Client(parse.GetValue(url));
            var build = await client.GetBuildAsync(parse.GetValue(id)!, cancellationToken).ConfigureAwait(false);
            await WriteAsync(context, parse.GetValue(format) == "json", build, Describe(build)).ConfigureAwait(false);
            return CommandAction.Ok;
        }));
        return command;
    }

    private static Command ActionCommand(CliContext context, Option<string[]> url, string action, string description)
    {
        var id = new Argument<string>("id") { Description = "The build's id (owner/name/number)" };
        var format = CliOptions.Format();
        var command = new Command(action, description) { id, format };
        command.SetAction(CommandAction.Run(context, $"Error in build {action}", async (parse, cancellationToken) =>
        {
            using var client = context.Client(parse.GetValue(url));
            var buildId = parse.GetValue(id)!;
            var build = action == "cancel"
                ? await client.CancelBuildAsync(buildId, cancellationToken).ConfigureAwait(false)
                : await client.RetryBuildAsync(buildId, cancellationToken).ConfigureAwait(false);
            await WriteAsync(context, parse.GetValue(format) == "json", build, $"build {build.Id} {build.State}").ConfigureAwait(false);
            return CommandAction.Ok;
        }));
        return command;
    }

    private static Command LogCommand(CliContext context, Option<string[]> url)
    {
        var id = new Argument<string>("id") { Description = "The build's id (owner/name/number)" };
        var job = new Argument<string>("job") { Description = "The job's key (the step's key; ~pipeline for the pipeline job)" };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing the log as it grows, until the job ends" };
        var attempt = new Option<int?>("--attempt", "-attempt") { Description = "An earlier attempt (default: the latest)", HelpName = "n" };
        var command = new Command("log", "Print a job's log") { id, job, follow, attempt };
        command.SetAction(CommandAction.Run(context, "Error reading log", async (parse, cancellationToken) =>
        {
            using var client = context.Client(parse.GetValue(url));
            var decoder = Encoding.UTF8.GetDecoder();
            var chars = new char[64 * 1024 + 4];
            await foreach (var chunk in client.StreamBuildLogAsync(parse.GetValue(id)!, parse.GetValue(job)!, parse.GetValue(follow), parse.GetValue(attempt), cancellationToken).ConfigureAwait(false))
            {
                // The decoder keeps a character split across chunks for the next one.
                var count = decoder.GetChars(chunk.Span, chars, flush: false);
                await context.Out.WriteAsync(chars.AsMemory(0, count), cancellationToken).ConfigureAwait(false);
                await context.Out.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            return CommandAction.Ok;
        }));
        return command;
    }

    private static async Task WriteAsync(CliContext context, bool json, BuildInfo build, string text)
        => await context.Out.WriteLineAsync(json ? JsonSerializer.Serialize(build, new JsonSerializerOptions(PlatformClient.Json) { WriteIndented = true }) : text).ConfigureAwait(false);

    private static string Describe(BuildInfo build)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"build {build.Id}: {build.State}, {build.Branch} at {build.Commit} ({build.Trigger}{(build.TriggeredBy is { } by ? " by " + by : "")})");
        if (build.Error is { } error) text.Append('\n').Append("  error: ").Append(error);
        foreach (var job in build.Jobs ?? [])
        {
            text.Append('\n').Append(CultureInfo.InvariantCulture, $"  {job.Key,-20} {job.State,-10} attempt {job.Attempt}");
            if (job.Agent is { } agent) text.Append(" on ").Append(agent);
            if (job.ExitStatus is { } exit) text.Append(CultureInfo.InvariantCulture, $" exit {exit}");
            if (job.Error is { } jobError) text.Append(": ").Append(jobError);
        }
        return text.ToString();
    }

    private static string Short(string commit) => commit.Length > 12 ? commit[..12] : commit;
}
