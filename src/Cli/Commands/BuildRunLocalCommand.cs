using System.CommandLine;
using Platform.Builds.Running;

namespace Platform.Cli.Commands;

/// <summary><c>platform build run-local [STEP] [--with-deps]</c>: runs the current repository's pipeline here, without any silo.</summary>
public static class BuildRunLocalCommand
{
    public static Command Create(CliContext context)
    {
        var step = new Argument<string?>("step") { Description = "Run only this step (its dependencies too with --with-deps)", Arity = ArgumentArity.ZeroOrOne };
        var withDeps = new Option<bool>("--with-deps") { Description = "Also run the steps STEP depends on, first" };
        var engine = new Option<string?>("--engine") { Description = "Container engine for steps with an image: podman (default, if on PATH), docker, a path, or none" };
        var command = new Command("run-local", "Run the pipeline of the repository in the current directory on this machine, in depends_on order, as an agent would (PLATFORM_BUILD_ID=local)")
        {
            step,
            withDeps,
            engine,
        };
        command.SetAction(CommandAction.Run(context, "Error running the pipeline", async (parse, cancellationToken) =>
        {
            var engineSetting = parse.GetValue(engine);
            var found = ContainerEngine.Find(engineSetting);
            if (found is null && engineSetting is { Length: > 0 } named && named != "none")
                throw new UsageException($"--engine '{named}' is not found (on PATH, or as a file); expected podman, docker, the path of one, or none");
            var stepKey = parse.GetValue(step);
            if (parse.GetValue(withDeps) && stepKey is null) throw new UsageException("--with-deps needs a STEP: platform build run-local STEP --with-deps");
            try
            {
                return await LocalRun.RunAsync(Directory.GetCurrentDirectory(), stepKey, parse.GetValue(withDeps), found, context.Out, context.Error, cancellationToken).ConfigureAwait(false);
            }
            catch (JobFailedException e)
            {
                await context.Error.WriteLineAsync($"Error running the pipeline: {e.Message}").ConfigureAwait(false);
                return CommandAction.Failed;
            }
        }));
        return command;
    }
}
