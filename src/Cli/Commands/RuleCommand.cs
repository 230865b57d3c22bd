using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.Client;
using Spectre.Console;
using Rule = Platform.Client.Rule;

namespace Platform.Cli.Commands;

/// <summary><c>platform rule add|list|show|rm|enable|disable</c>: "if this then that" rules, as data (docs/rules.md).</summary>
public static class RuleCommand
{
    public static Command Create(CliContext context, Option<string[]> url)
    {
        var command = new Command("rule", "Add, list, show, enable, disable and remove rules (if this then that)")
        {
            AddCommand(context, url),
            ListCommand(context, url),
            ShowCommand(context, url),
            RemoveCommand(context, url),
            EnableCommand(context, url, true),
            EnableCommand(context, url, false),
        };
        return command;
    }

    private static Option<string> Text(string name, string description, string helpName) => new(name, "-" + name.TrimStart('-')) { Description = description, HelpName = helpName };

    private static Option<string[]> Many(string name, string description, string helpName) => new(name, "-" + name.TrimStart('-'))
    {
        Description = description,
        HelpName = helpName,
        Arity = ArgumentArity.ZeroOrMore,
    };

    private static Command AddCommand(CliContext context, Option<string[]> url)
    {
        var file = Text("--file", "A rule as JSON (docs/rules.md); flags given too override its name and trigger and add an action", "path");
        var name = Text("--name", "The rule's name (letters, digits, '.', '_', '-')", "name");
        var disabled = new Option<bool>("--disabled", "-disabled") { Description = "Store the rule turned off" };
        var on = Text("--on", "The trigger: push, build (a build finished), key (a key changed) or event (a user event)", "trigger");
        var repo = Text("--repo", "push and build: the repository, such as team/app", "repo");
        var branches = Text("--branches", "push and build: branch patterns, such as 'main release/*' ('!' excludes; default: every branch)", "patterns");
        var status = Text("--status", "build: passed, failed, canceled or any (default any)", "status");
        var key = Text("--key", "key: the key whose changes trigger, such as /build_notify", "key");
        var prefix = Text("--prefix", "key: a directory whose keys' changes trigger, such as /build/", "prefix");
        var eventName = Text("--event", "event: the user event that triggers", "name");
        var then = Text("--then", "The action: build, deploy, set-key or event", "action");
        var buildRepo = Text("--build-repo", "build: the repository to build (default: the trigger's)", "repo");
        var buildBranch = Text("--build-branch", "build: the branch (default: the trigger's)", "branch");
        var manifestUrl = Text("--manifest-url", "deploy: the Stretcher manifest's URL (placeholders allowed, such as {{commit}})", "url");
        var manifestFile = Text("--manifest-file", "deploy: a Stretcher manifest to send inline", "path");
        var targetNode = Many("--target-node", "deploy: a node to deploy to; repeatable", "name");
        var targetTag = Many("--target-tag", "deploy: nodes whose tag matches, key=regexp; repeatable", "key=regexp");
        var targetAll = new Option<bool>("--target-all", "-target-all") { Description = "deploy: every node" };
        var strategy = Text("--strategy", "deploy: the deploy API's strategy as JSON, such as '{\"batch\":\"25%\"}'", "json");
        var setKey = Text("--set", "set-key: the key to set (placeholders allowed)", "key");
        var value = Text("--value", "set-key: the value (placeholders allowed, such as {{commit}})", "value");
        var fire = Text("--fire", "event: the user event to fire", "name");
        var payload = Text("--payload", "event: the payload (placeholders allowed)", "text");
        var format = CliOptions.Format();
        var command = new Command("add", "Add a rule, from flags or from a JSON file")
        {
            file, name, disabled, on, repo, branches, status, key, prefix, eventName, then, buildRepo, buildBranch,
            manifestUrl, manifestFile, targetNode, targetTag, targetAll, strategy, setKey, value, fire, payload, format,
        };
        command.SetAction(CommandAction.Run(context, "Error adding rule", async (parse, cancellationToken) =>
        {
            JsonObject rule;
            if (parse.GetValue(file) is { } path)
            {
                string text;
                try
                {
                    text = await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new UsageException($"-file '{path}' cannot be read: {e.Message}");
                }
                try
                {
                    rule = JsonNode.Parse(text) as JsonObject ?? throw new UsageException($"-file '{path}' does not hold a JSON object; expected a rule such as {{\"name\":…,\"trigger\":{{…}},\"actions\":[…]}}");
                }
                catch (JsonException e)
                {
                    throw new UsageException($"-file '{path}' is not JSON: {e.Message}");
                }
            }
            else rule = [];
            if (parse.GetValue(name) is { } n) rule["name"] = n;
            if (parse.GetValue(disabled)) rule["enabled"] = false;
            if (parse.GetValue(on) is { } trigger)
            {
                var t = new JsonObject { ["type"] = TriggerType(trigger) };
                Put(t, "repo", parse.GetValue(repo));
                Put(t, "branches", parse.GetValue(branches));
                Put(t, "status", parse.GetValue(status));
                Put(t, "key", parse.GetValue(key));
                Put(t, "prefix", parse.GetValue(prefix));
                Put(t, "name", parse.GetValue(eventName));
                rule["trigger"] = t;
            }
            if (parse.GetValue(then) is { } action)
            {
                var a = new JsonObject { ["type"] = ActionType(action) };
                Put(a, "repo", parse.GetValue(buildRepo) ?? (ActionType(action) == "start_build" && parse.GetValue(repo) is not null ? "{{repo}}" : null));
                Put(a, "branch", parse.GetValue(buildBranch));
                Put(a, "manifestUrl", parse.GetValue(manifestUrl));
                if (parse.GetValue(manifestFile) is { } manifestPath)
                {
                    try
                    {
                        a["manifest"] = await File.ReadAllTextAsync(manifestPath, cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        throw new UsageException($"-manifest-file '{manifestPath}' cannot be read: {e.Message}");
                    }
                }
                var nodes = parse.GetValue(targetNode) ?? [];
                var tags = parse.GetValue(targetTag) ?? [];
                if (nodes.Length != 0 || tags.Length != 0 || parse.GetValue(targetAll))
                {
                    var target = new JsonObject();
                    if (nodes.Length != 0) target["nodes"] = new JsonArray([.. nodes.Select(x => (JsonNode)x!)]);
                    if (tags.Length != 0)
                    {
                        var map = new JsonObject();
                        foreach (var tag in tags)
                        {
                            var eq = tag.IndexOf('=');
                            if (eq <= 0) throw new UsageException($"-target-tag '{tag}' is not key=regexp, such as role=web");
                            map[tag[..eq]] = tag[(eq + 1)..];
                        }
                        target["tags"] = map;
                    }
                    if (parse.GetValue(targetAll)) target["all"] = true;
                    a["target"] = target;
                }
                if (parse.GetValue(strategy) is { } s)
                {
                    try
                    {
                        a["strategy"] = JsonNode.Parse(s);
                    }
                    catch (JsonException e)
                    {
                        throw new UsageException($"-strategy '{s}' is not JSON: {e.Message}");
                    }
                }
                Put(a, "key", parse.GetValue(setKey));
                Put(a, "value", parse.GetValue(value));
                Put(a, "name", parse.GetValue(fire));
                Put(a, "payload", parse.GetValue(payload));
                if (rule["actions"] is not JsonArray actions) rule["actions"] = actions = [];
                actions.Add(a);
            }
            if (rule.Count == 0) throw new UsageException("rule add needs -file or flags (-name, -on …, -then …); see 'platform rule add --help'");
            using var client = context.Client(parse.GetValue(url));
            var added = await client.AddRuleJsonAsync(rule.ToJsonString(), cancellationToken).ConfigureAwait(false);
            await context.Out.WriteLineAsync(parse.GetValue(format) == "json" ? Json(added) : $"Rule '{added.Name}' added as {added.Id}: {Describe(added)}").ConfigureAwait(false);
            return CommandAction.Ok;
        }));
        return command;
    }

    private static Command ListCommand(CliContext context, Option<string[]> url)
    {
        var format = CliOptions.Format();
        var command = new Command("list", "List the rules") { format };
        command.SetAction(CommandAction.Run(context, "Error listing rules", async (parse, cancellationToken) =>
        {
            using var client = context.Client(parse.GetValue(url));
            var rules = await client.ListRulesAsync(cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(format) == "json")
            {
                await context.Out.WriteLineAsync(Json(rules)).ConfigureAwait(false);
                return CommandAction.Ok;
            }
            var output = new AnsiConsoleOutput(context.Out);
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = output });
            if (!output.IsTerminal) console.Profile.Width = 200;
            var table = new Table().AddColumns("id", "name", "enabled", "if", "then");
            foreach (var r in rules)
                table.AddRow(r.Id, Markup.Escape(r.Name), r.Enabled ? "yes" : "no", Markup.Escape(If(r.Trigger)), Markup.Escape(string.Join("; ", r.Actions.Select(Then))));
            console.Write(table);
            return CommandAction.Ok;
        }));
        return command;
    }

    private static Command ShowCommand(CliContext context, Option<string[]> url)
    {
        var id = new Argument<string>("rule") { Description = "The rule's id or name" };
        var runs = new Option<int>("--runs", "-runs") { Description = "How many of its latest runs to show", DefaultValueFactory = _ => 10, HelpName = "count" };
        var format = CliOptions.Format();
        var command = new Command("show", "Show a rule and its latest runs") { id, runs, format };
        command.SetAction(CommandAction.Run(context, "Error showing rule", async (parse, cancellationToken) =>
        {
            var count = parse.GetValue(runs);
            if (count is < 0 or > 1000) throw new UsageException($"-runs {count} is not a number of runs from 0 to 1000");
            using var client = context.Client(parse.GetValue(url));
            var rule = await client.GetRuleAsync(parse.GetValue(id)!, cancellationToken).ConfigureAwait(false);
            var latest = count == 0 ? [] : await client.ListRuleRunsAsync(rule.Id, count, cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(format) == "json")
            {
                await context.Out.WriteLineAsync(Json(new { rule, runs = latest })).ConfigureAwait(false);
                return CommandAction.Ok;
            }
            var text = new System.Text.StringBuilder();
            text.AppendLine(CultureInfo.InvariantCulture, $"id:      {rule.Id}");
            text.AppendLine(CultureInfo.InvariantCulture, $"name:    {rule.Name}");
            text.AppendLine(CultureInfo.InvariantCulture, $"enabled: {(rule.Enabled ? "yes" : "no")}");
            text.AppendLine(CultureInfo.InvariantCulture, $"if:      {If(rule.Trigger)}");
            foreach (var a in rule.Actions) text.AppendLine(CultureInfo.InvariantCulture, $"then:    {Then(a)}");
            text.AppendLine(CultureInfo.InvariantCulture, $"runs:    {(latest.Count == 0 ? "none" : "")}");
            foreach (var run in latest)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  {When(run.At)}  {run.Outcome,-9}  {run.Trigger} {run.Occurrence}{(run.Error is null ? "" : "  " + run.Error)}");
                foreach (var a in run.Actions) text.AppendLine(CultureInfo.InvariantCulture, $"      {a.Type}: {a.Outcome}{(a.Detail is null ? "" : " " + a.Detail)}{(a.Error is null ? "" : " " + a.Error)}");
            }
            await context.Out.WriteAsync(text.ToString()).ConfigureAwait(false);
            return CommandAction.Ok;
        }));
        return command;
    }

    private static Command RemoveCommand(CliContext context, Option<string[]> url)
    {
        var id = new Argument<string>("rule") { Description = "The rule's id or name" };
        var command = new Command("rm", "Remove a rule") { id };
        command.SetAction(CommandAction.Run(context, "Error removing rule", async (parse, cancellationToken) =>
        {
            using var client = context.Client(parse.GetValue(url));
            var removed = await client.RemoveRuleAsync(parse.GetValue(id)!, cancellationToken).ConfigureAwait(false);
            await context.Out.WriteLineAsync($"Rule '{removed.Name}' ({removed.Id}) removed").ConfigureAwait(false);
            return CommandAction.Ok;
        }));
        return command;
    }

    private static Command EnableCommand(CliContext context, Option<string[]> url, bool enabled)
    {
        var id = new Argument<string>("rule") { Description = "The rule's id or name" };
        var command = new Command(enabled ? "enable" : "disable", enabled ? "Turn a rule on" : "Turn a rule off (it stays stored)") { id };
        command.SetAction(CommandAction.Run(context, enabled ? "Error enabling rule" : "Error disabling rule", async (parse, cancellationToken) =>
        {
            using var client = context.Client(parse.GetValue(url));
            var rule = await client.SetRuleEnabledAsync(parse.GetValue(id)!, enabled, cancellationToken).ConfigureAwait(false);
            await context.Out.WriteLineAsync($"Rule '{rule.Name}' ({rule.Id}) {(enabled ? "enabled" : "disabled")}").ConfigureAwait(false);
            return CommandAction.Ok;
        }));
        return command;
    }

    /// <summary>The short spellings of trigger types (the full ones pass as they are, for the silo to judge).</summary>
    internal static string TriggerType(string text) => text switch
    {
        "build" => "build_finished",
        "key" => "key_changed",
        "event" => "user_event",
        _ => text,
    };

    /// <summary>The short spellings of action types.</summary>
    internal static string ActionType(string text) => text switch
    {
        "build" => "start_build",
        "deploy" => "start_deploy",
        "set-key" or "key" => "set_key",
        "event" => "fire_event",
        _ => text,
    };

    private static void Put(JsonObject obj, string name, string? value)
    {
        if (value is not null) obj[name] = value;
    }

    private static string Describe(Rule r) => $"if {If(r.Trigger)} then {string.Join("; ", r.Actions.Select(Then))}";

    private static string If(RuleTrigger t) => t.Type switch
    {
        "push" => $"push to {t.Repo}{(t.Branches is null ? "" : $" on '{t.Branches}'")}",
        "build_finished" => $"build of {t.Repo}{(t.Branches is null ? "" : $" on '{t.Branches}'")} {t.Status}",
        "key_changed" => t.Key is not null ? $"key {t.Key} changes" : $"a key under {t.Prefix} changes",
        "user_event" => $"event {t.Name}",
        _ => t.Type,
    };

    private static string Then(RuleAction a) => a.Type switch
    {
        "start_build" => $"build {a.Repo}{(a.Branch is null ? "" : " " + a.Branch)}",
        "start_deploy" => $"deploy {a.ManifestUrl ?? "(inline manifest)"} to {Target(a.Target)}",
        "set_key" => $"set {a.Key} = '{a.Value}'",
        "fire_event" => $"fire {a.Name}{(string.IsNullOrEmpty(a.Payload) ? "" : $" '{a.Payload}'")}",
        _ => a.Type,
    };

    private static string Target(RuleDeployTarget? t) => t switch
    {
        null => "?",
        { All: true } => "every node",
        { Nodes: { } nodes } => string.Join(",", nodes),
        { Tags: { } tags } => string.Join(",", tags.Select(kv => $"{kv.Key}={kv.Value}")),
        _ => "?",
    };

    private static string Json<T>(T value) => JsonSerializer.Serialize(value, new JsonSerializerOptions(PlatformClient.Json) { WriteIndented = true });

    private static string When(DateTimeOffset at) => at.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
