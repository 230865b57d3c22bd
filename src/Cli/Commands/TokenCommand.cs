using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Platform.Client;
using Spectre.Console;

namespace Platform.Cli.Commands;

/// <summary><c>platform token create|list|revoke</c>: the cluster's access tokens (scope admin; docs/security.md).</summary>
public static class TokenCommand
{
    public static Command Create(CliContext context, Option<string[]> url)
    {
        var command = new Command("token", "Create, list and revoke access tokens") { CreateCommand(context, url), ListCommand(context, url), RevokeCommand(context, url) };
        return command;
    }

    private static Command CreateCommand(CliContext context, Option<string[]> url)
    {
        var name = new Option<string>("--name", "-name") { Description = "The token's name (letters, digits, '.', '_', '-')", Required = true, HelpName = "name" };
        var scopes = new Option<string[]>("--scope", "-scope")
        {
            Description = "A scope: keys:read, keys:write (either may end in :/prefix), nodes:read, nodes:write, events:fire, query, deploy, build, agent, admin; repeatable",
            Arity = ArgumentArity.OneOrMore,
            Required = true,
            HelpName = "scope",
        };
        var expiresIn = new Option<string>("--expires-in", "-expires-in") { Description = "Lifetime, a duration such as 720h (default: no expiry)", HelpName = "duration" };
        var format = CliOptions.Format();
        var command = new Command("create", "Create a token and print its secret (shown this once)") { name, scopes, expiresIn, format };
        command.SetAction(CommandAction.Run(context, "Error creating token", async (parse, cancellationToken) =>
        {
            using var client = context.Client(parse.GetValue(url));
            var created = await client.CreateTokenAsync(parse.GetValue(name)!, parse.GetValue(scopes) ?? [], parse.GetValue(expiresIn), cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(format) == "json")
            {
                await context.Out.WriteLineAsync(JsonSerializer.Serialize(created, new JsonSerializerOptions(PlatformClient.Json) { WriteIndented = true })).ConfigureAwait(false);
                return CommandAction.Ok;
            }
            var t = created.Token;
            await context.Out.WriteLineAsync($"name:    {t.Name}\nid:      {t.Id}\nscopes:  {string.Join(' ', t.Scopes)}\nexpires: {When(t.ExpiresAt) ?? "never"}\nsecret:  {created.Secret}").ConfigureAwait(false);
            await context.Error.WriteLineAsync("The secret is shown this once; the cluster keeps only its hash.").ConfigureAwait(false);
            return CommandAction.Ok;
        }));
        return command;
    }

    private static Command ListCommand(CliContext context, Option<string[]> url)
    {
        var format = CliOptions.Format();
        var command = new Command("list", "List the tokens (never their secrets)") { format };
        command.SetAction(CommandAction.Run(context, "Error listing tokens", async (parse, cancellationToken) =>
        {
            using var client = context.Client(parse.GetValue(url));
            var tokens = await client.ListTokensAsync(cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(format) == "json")
            {
                await context.Out.WriteLineAsync(JsonSerializer.Serialize(tokens, new JsonSerializerOptions(PlatformClient.Json) { WriteIndented = true })).ConfigureAwait(false);
                return CommandAction.Ok;
            }
            var output = new AnsiConsoleOutput(context.Out);
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = output });
            if (!output.IsTerminal) console.Profile.Width = 200;
            var table = new Table().AddColumns("name", "id", "scopes", "state", "created", "expires", "created by");
            foreach (var t in tokens)
            {
                table.AddRow(Markup.Escape(t.Name), t.Id, Markup.Escape(string.Join(' ', t.Scopes)), t.State, When(t.CreatedAt)!, When(t.ExpiresAt) ?? "never", Markup.Escape(t.CreatedBy));
            }
            console.Write(table);
            return CommandAction.Ok;
        }));
        return command;
    }

    private static Command RevokeCommand(CliContext context, Option<string[]> url)
    {
        var name = new Argument<string>("name") { Description = "The token's name or id" };
        var command = new Command("revoke", "Revoke a token: every silo refuses it within seconds") { name };
        command.SetAction(CommandAction.Run(context, "Error revoking token", async (parse, cancellationToken) =>
        {
            using var client = context.Client(parse.GetValue(url));
            var revoked = await client.RevokeTokenAsync(parse.GetValue(name)!, cancellationToken).ConfigureAwait(false);
            await context.Out.WriteLineAsync($"Token '{revoked.Name}' ({revoked.Id}) revoked").ConfigureAwait(false);
            return CommandAction.Ok;
        }));
        return command;
    }

    private static string? When(DateTimeOffset? at) => at?.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
