using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Platform.Client;
using Spectre.Console;

namespace Platform.Cli.Commands;

/// <summary><c>platform artifact put|get|list|rm</c>: the silo's artifact store (docs/artifacts.md).</summary>
public static class ArtifactCommand
{
    public static Command Create(CliContext context, Option<string[]> url)
        => new("artifact", "Store, fetch, list and remove artifacts in the silo") { Put(context, url), Get(context, url), List(context, url), Remove(context, url) };

    private static Command Put(CliContext context, Option<string[]> url)
    {
        var name = new Argument<string>("name") { Description = "The artifact's name, a path such as myrepo/42/app.tar.gz" };
        var file = new Argument<string>("file") { Description = "The file to upload ('-' for standard input)" };
        var sha256 = new Option<string>("--sha256", "-sha256") { Description = "The SHA-256 the file must have; the silo refuses it otherwise", HelpName = "hex" };
        var format = CliOptions.Format();
        var command = new Command("put", "Upload a file as an artifact (replaces one of the same name)") { name, file, sha256, format };
        command.SetAction(CommandAction.Run(context, "Error uploading artifact", async (parse, cancellationToken) =>
        {
            var path = parse.GetValue(file)!;
            await using var input = Open(path);
            using var client = context.Client(parse.GetValue(url));
            var stored = await client.PutArtifactAsync(Name(parse.GetValue(name)!), input, parse.GetValue(sha256), cancellationToken).ConfigureAwait(false);
            await WriteAsync(context, parse.GetValue(format), stored).ConfigureAwait(false);
            return CommandAction.Ok;
        }));
        return command;
    }

    private static Command Get(CliContext context, Option<string[]> url)
    {
        var name = new Argument<string>("name") { Description = "The artifact's name" };
        var file = new Argument<string>("file") { Description = "Where to write it ('-' or none: standard output)", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("get", "Download an artifact") { name, file };
        command.SetAction(CommandAction.Run(context, "Error downloading artifact", async (parse, cancellationToken) =>
        {
            var path = parse.GetValue(file);
            using var client = context.Client(parse.GetValue(url));
            if (path is null or "-")
            {
                await using var stdout = Console.OpenStandardOutput();
                await client.GetArtifactAsync(Name(parse.GetValue(name)!), stdout, cancellationToken).ConfigureAwait(false);
                return CommandAction.Ok;
            }
            // Written beside the target and renamed: an interrupted download never leaves a truncated file under its name.
            var partial = path + ".partial";
            try
            {
                Artifact got;
                await using (var output = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
                    got = await client.GetArtifactAsync(Name(parse.GetValue(name)!), output, cancellationToken).ConfigureAwait(false);
                File.Move(partial, path, overwrite: true);
                await context.Error.WriteLineAsync($"{got.Name}: {got.Size} bytes, sha256 {got.Sha256} -> {path}").ConfigureAwait(false);
            }
            finally
            {
                File.Delete(partial);
            }
            return CommandAction.Ok;
        }));
        return command;
    }

    private static Command List(CliContext context, Option<string[]> url)
    {
        var prefix = new Argument<string>("prefix") { Description = "Only names starting with this", Arity = ArgumentArity.ZeroOrOne };
        var format = CliOptions.Format();
        var command = new Command("list", "List artifacts") { prefix, format };
        command.SetAction(CommandAction.Run(context, "Error listing artifacts", async (parse, cancellationToken) =>
        {
            using var client = context.Client(parse.GetValue(url));
            var artifacts = await client.ListArtifactsAsync(parse.GetValue(prefix) ?? "", cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(format) == "json")
            {
                await context.Out.WriteLineAsync(JsonSerializer.Serialize(artifacts, new JsonSerializerOptions(PlatformClient.Json) { WriteIndented = true })).ConfigureAwait(false);
                return CommandAction.Ok;
            }
            var output = new AnsiConsoleOutput(context.Out);
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = output });
            if (!output.IsTerminal) console.Profile.Width = 200;
            var table = new Table().AddColumns("name", "size", "sha256", "created");
            foreach (var a in artifacts)
                table.AddRow(Markup.Escape(a.Name), a.Size.ToString(CultureInfo.InvariantCulture), a.Sha256, a.Created.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture));
            console.Write(table);
            return CommandAction.Ok;
        }));
        return command;
    }

    private static Command Remove(CliContext context, Option<string[]> url)
    {
        var name = new Argument<string>("name") { Description = "The artifact's name" };
        var command = new Command("rm", "Remove an artifact") { name };
        command.SetAction(CommandAction.Run(context, "Error removing artifact", async (parse, cancellationToken) =>
        {
            using var client = context.Client(parse.GetValue(url));
            await client.DeleteArtifactAsync(Name(parse.GetValue(name)!), cancellationToken).ConfigureAwait(false);
            await context.Out.WriteLineAsync($"Artifact '{parse.GetValue(name)}' removed").ConfigureAwait(false);
            return CommandAction.Ok;
        }));
        return command;
    }

    private static Stream Open(string path)
    {
        if (path == "-") return Console.OpenStandardInput();
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"cannot read '{path}': {e.Message}");
        }
    }

    /// <summary>Checks the name here, so that a '..' segment is refused rather than resolved away by the URL.</summary>
    private static string Name(string name)
    {
        try
        {
            _ = PlatformClient.ArtifactPath(name);
            return name;
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message.Split(" (Parameter")[0]);
        }
    }

    private static async Task WriteAsync(CliContext context, string? format, Artifact artifact)
    {
        if (format == "json")
            await context.Out.WriteLineAsync(JsonSerializer.Serialize(artifact, new JsonSerializerOptions(PlatformClient.Json) { WriteIndented = true })).ConfigureAwait(false);
        else
            await context.Out.WriteLineAsync($"name:    {artifact.Name}\nsize:    {artifact.Size}\nsha256:  {artifact.Sha256}\ncreated: {artifact.Created.ToUniversalTime():yyyy-MM-dd HH:mm:ss'Z'}").ConfigureAwait(false);
    }
}
