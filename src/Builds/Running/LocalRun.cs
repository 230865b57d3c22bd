using Platform.Builds.Pipelines;

namespace Platform.Builds.Running;

/// <summary>
/// <c>platform build run-local</c>: runs the pipeline of a working tree on this machine, without any silo, in
/// <c>depends_on</c> order with the environment an agent gives (<c>PLATFORM_BUILD_ID=local</c>), each step's output
/// prefixed with its key. The first step that does not pass stops the run.
/// </summary>
public static class LocalRun
{
    /// <summary>Exit codes: 0 every step passed, 1 a step failed (or the pipeline does not parse), 2 a step name that is not in it.</summary>
    public const int Passed = 0, Failed = 1, Usage = 2;

    /// <summary>Runs the pipeline of the repository holding <paramref name="directory"/>; only <paramref name="step"/> (and its dependencies with <paramref name="withDependencies"/>) when given.</summary>
    public static async Task<int> RunAsync(string directory, string? step, bool withDependencies, ContainerEngine? engine, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var (topExit, topOutput, topError) = await GitCommand.RunAsync(directory, ["rev-parse", "--show-toplevel"], cancellationToken).ConfigureAwait(false);
        if (topExit != 0)
        {
            await error.WriteLineAsync($"Error: '{directory}' is not inside a git repository ({GitCommand.OneLine(topError)}); run-local runs the pipeline of the repository you are in").ConfigureAwait(false);
            return Usage;
        }
        var root = topOutput.Trim();
        Pipeline pipeline;
        try
        {
            (pipeline, _) = PipelineFile.Read(root);
        }
        catch (PipelineException e)
        {
            await error.WriteLineAsync(e.Message).ConfigureAwait(false);
            return Failed;
        }
        var commit = await GitValueAsync(root, ["rev-parse", "HEAD"], "none", cancellationToken).ConfigureAwait(false);
        var branch = await GitValueAsync(root, ["rev-parse", "--abbrev-ref", "HEAD"], "none", cancellationToken).ConfigureAwait(false);
        var repository = await GitValueAsync(root, ["config", "--get", "remote.origin.url"], root, cancellationToken).ConfigureAwait(false);

        List<PipelineStep> steps;
        if (step is null) steps = Order(pipeline, pipeline.Steps);
        else
        {
            var chosen = pipeline.Find(step);
            if (chosen is null)
            {
                await error.WriteLineAsync($"Error: step '{step}' is not in {Pipeline.DefaultPath}; its steps: {string.Join(", ", pipeline.Steps.Select(s => s.Key))}").ConfigureAwait(false);
                return Usage;
            }
            steps = withDependencies ? Order(pipeline, WithDependencies(pipeline, chosen)) : [chosen];
        }

        var runner = new JobRunner(new JobRunnerOptions
        {
            JobsDirectory = Path.Combine(Path.GetTempPath(), "platform-run-local"),
            Git = new GitCheckout(Path.Combine(Path.GetTempPath(), "platform-run-local")),
            Engine = engine,
            KeepWorkTrees = true,
        });
        var results = new List<(string Key, string State, int? Exit)>();
        var exitCode = Passed;
        foreach (var s in steps)
        {
            if (step is null && !s.Branches.Matches(branch))
            {
                await output.WriteLineAsync($"[{s.Key}] skipped: branch '{branch}' does not match '{s.Branches.Text}'").ConfigureAwait(false);
                results.Add((s.Key, "skipped", null));
                continue;
            }
            var job = new JobSpec("local", "local-" + s.Key, 1, repository, commit, branch, s.Key, new Dictionary<string, string>(), JobSpec.DefaultCancelGrace);
            var prefixer = new LinePrefixer(output, $"[{s.Key}] ");
            JobOutcome outcome;
            try
            {
                outcome = await runner.RunStepAsync(job, pipeline, s, root, prefixer.Write, cancellationToken).ConfigureAwait(false);
            }
            catch (JobFailedException e)
            {
                JobRunner.Say(prefixer.Write, e.Message);
                outcome = new JobOutcome(JobState.Failed, null, e.Message, []);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                outcome = new JobOutcome(JobState.Canceled, null, "interrupted", []);
            }
            prefixer.Flush();
            results.Add((s.Key, outcome.State, outcome.ExitStatus));
            if (outcome.State != JobState.Passed)
            {
                exitCode = Failed;
                break;
            }
            foreach (var artifact in ArtifactFiles.Match(root, s.Artifacts))
                await output.WriteLineAsync($"[{s.Key}] artifact (kept in the working tree, not uploaded): {artifact}").ConfigureAwait(false);
        }
        foreach (var (key, state, exit) in results)
            await output.WriteLineAsync(exit is { } status ? $"{key}: {state} (exit status {status})" : $"{key}: {state}").ConfigureAwait(false);
        foreach (var s in steps.Skip(results.Count))
            await output.WriteLineAsync($"{s.Key}: not run").ConfigureAwait(false);
        return exitCode;
    }

    /// <summary><paramref name="subset"/> in an order where every step comes after the steps it depends on (file order otherwise).</summary>
    public static List<PipelineStep> Order(Pipeline pipeline, IEnumerable<PipelineStep> subset)
    {
        var wanted = subset.Select(s => s.Key).ToHashSet(StringComparer.Ordinal);
        var done = new HashSet<string>(StringComparer.Ordinal);
        var ordered = new List<PipelineStep>();
        // The parser refused cycles, so each pass places at least one step.
        while (ordered.Count < wanted.Count)
        {
            foreach (var s in pipeline.Steps)
            {
                if (!wanted.Contains(s.Key) || done.Contains(s.Key)) continue;
                if (s.DependsOn.All(d => done.Contains(d) || !wanted.Contains(d)))
                {
                    ordered.Add(s);
                    done.Add(s.Key);
                }
            }
        }
        return ordered;
    }

    private static List<PipelineStep> WithDependencies(Pipeline pipeline, PipelineStep step)
    {
        var found = new Dictionary<string, PipelineStep>(StringComparer.Ordinal);
        var pending = new Stack<PipelineStep>([step]);
        while (pending.TryPop(out var s))
        {
            if (!found.TryAdd(s.Key, s)) continue;
            foreach (var dependency in s.DependsOn) pending.Push(pipeline.Find(dependency)!);
        }
        return [.. found.Values];
    }

    private static async Task<string> GitValueAsync(string root, string[] args, string fallback, CancellationToken cancellationToken)
    {
        var (code, value, _) = await GitCommand.RunAsync(root, args, cancellationToken).ConfigureAwait(false);
        return code == 0 && value.Trim().Length > 0 ? value.Trim() : fallback;
    }
}
