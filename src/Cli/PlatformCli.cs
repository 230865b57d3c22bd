using System.CommandLine;
using Platform.Cli.Commands;

namespace Platform.Cli;

/// <summary>The <c>platform</c> command line: Serf's commands and spellings on the silos' HTTP API, and the node agent.</summary>
public static class PlatformCli
{
    /// <summary>The command tree.</summary>
    public static RootCommand Build(CliContext context)
    {
        var url = CliOptions.Url();
        var token = CliOptions.Token();
        var agent = new Command("agent", "Run the node agent on this machine; every argument after 'agent' is the agent's")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        agent.Arguments.Add(new Argument<string[]>("args") { Arity = ArgumentArity.ZeroOrMore, Description = "The agent's arguments" });
        agent.SetAction((parse, cancellationToken) =>
        {
            var tokens = parse.Tokens.Select(t => t.Value).ToList();
            return AgentCommand.RunAsync([.. tokens.Skip(tokens.IndexOf("agent") + 1)], cancellationToken);
        });
        var stretch = new Command("stretch", "Deploy the Stretcher manifest whose URL comes on standard input (a drop-in for stretcher)")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        stretch.Arguments.Add(new Argument<string[]>("args") { Arity = ArgumentArity.ZeroOrMore, Description = "Stretcher's flags (-retry, -timeout, ...; see 'platform stretch -help')" });
        stretch.SetAction((parse, cancellationToken) =>
        {
            var tokens = parse.Tokens.Select(t => t.Value).ToList();
            return StretchCommand.RunAsync([.. tokens.Skip(tokens.IndexOf("stretch") + 1)], cancellationToken);
        });
        var root = new RootCommand("platform: the fleet's members, events and queries (Serf's commands), and the node agent")
        {
            url,
            token,
            agent,
            stretch,
            MembersCommand.Create(context, url),
            EventCommand.Create(context, url),
            QueryCommand.Create(context, url),
            TagsCommand.Create(context, url),
            LeaveCommand.Create(context, url),
            ForceLeaveCommand.Create(context, url),
            MonitorCommand.Create(context, url),
            ClusterCommand.Create(context, url),
            ReadyCommand.Create(context, url),
            TokenCommand.Create(context, url),
            ArtifactCommand.Create(context, url),
            BuildCommand.Create(context, url),
            RuleCommand.Create(context, url),
            DeployCommand.Create(context, url),
        };
        return root;
    }

    /// <summary>Parses and runs <paramref name="args"/>; returns the exit code (0 ok, 1 error from or reaching a silo, 2 usage).</summary>
    public static async Task<int> RunAsync(string[] args, CliContext context, CancellationToken cancellationToken)
    {
        // The agent takes its own arguments, whatever they look like.
        if (args.Length > 0 && args[0] == "agent") return await AgentCommand.RunAsync(args[1..], cancellationToken).ConfigureAwait(false);
        // So does stretch: its flags are Stretcher's, Go-style.
        if (args.Length > 0 && args[0] == "stretch") return await StretchCommand.RunAsync(args[1..], cancellationToken).ConfigureAwait(false);
        var parse = Parse(args, context);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors) await context.Error.WriteLineAsync($"Error: {Describe(error, parse)}").ConfigureAwait(false);
            var command = string.Join(' ', parse.CommandResult.Command is RootCommand ? ["platform"] : new[] { "platform", parse.CommandResult.Command.Name });
            await context.Error.WriteLineAsync($"Run '{command} --help' for usage.").ConfigureAwait(false);
            return CommandAction.Usage;
        }
        if (parse.CommandResult.Command is RootCommand && !parse.Tokens.Any())
        {
            await context.Error.WriteLineAsync("Error: a command is needed, such as members, event, query or agent. Run 'platform --help' for usage.").ConfigureAwait(false);
            return CommandAction.Usage;
        }
        context.Token = parse.GetValue<string>("--token");
        var invocation = new InvocationConfiguration
        {
            Output = context.Out,
            Error = context.Error,
            ProcessTerminationTimeout = null, // Ctrl+C cancels the token given here; the caller owns it
        };
        return await parse.InvokeAsync(invocation, cancellationToken).ConfigureAwait(false);
    }

    private static string Describe(System.CommandLine.Parsing.ParseError error, ParseResult parse)
    {
        // "Required argument missing for command: 'event'." names neither the argument nor the form expected.
        var command = parse.CommandResult.Command;
        if (error.Message.StartsWith("Required argument missing", StringComparison.Ordinal) && command.Arguments.Count > 0)
        {
            var form = string.Join(' ', command.Arguments.Select(a => a.Arity.MinimumNumberOfValues > 0 ? $"<{a.Name}>" : $"[{a.Name}]"));
            return $"'{command.Name}' needs a {command.Arguments[0].Name}; expected: platform {command.Name} [options] {form}";
        }
        return error.Message;
    }

    /// <summary>Parses without running: Serf's single-dash long options stay whole (no POSIX bundling) and @ is not a response file.</summary>
    public static ParseResult Parse(string[] args, CliContext context)
        => Build(context).Parse(args, new ParserConfiguration { EnablePosixBundling = false, ResponseFileTokenReplacer = null });
}
