using System.Text;
using Platform.Builds.Pipelines;
using Platform.Protocol;

namespace Platform.Builds.Running;

/// <summary>
/// Runs one job as an agent does (docs/builds.md, "Jobs on agents"): checks the repository out at the exact commit,
/// reads its pipeline, and either answers the pipeline or runs the step (in a container when it names an image),
/// streaming its output, then uploads its artifacts. Cancel through the token; the step's timeout is its own.
/// </summary>
public sealed class JobRunner(JobRunnerOptions options)
{
    /// <summary>Runs <paramref name="job"/>, writing its log to <paramref name="output"/>; never throws for a job that fails.</summary>
    public async Task<JobOutcome> RunAsync(JobSpec job, Action<ReadOnlySpan<byte>> output, CancellationToken cancellationToken)
    {
        var workTree = Path.Combine(options.JobsDirectory, SafeName(job.JobId) + "." + job.Attempt.ToString(System.Globalization.CultureInfo.InvariantCulture));
        try
        {
            return await RunInAsync(job, workTree, output, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Say(output, "canceled before the step started");
            return new JobOutcome(JobState.Canceled, null, "canceled before the step started", []);
        }
        catch (JobFailedException e)
        {
            Say(output, e.Message);
            return new JobOutcome(JobState.Failed, null, e.Message, []);
        }
        finally
        {
            if (!options.KeepWorkTrees) RemoveTree(workTree);
        }
    }

    private async Task<JobOutcome> RunInAsync(JobSpec job, string workTree, Action<ReadOnlySpan<byte>> output, CancellationToken cancellationToken)
    {
        RemoveTree(workTree);
        var source = job.CloneUrl ?? job.Repository;
        Say(output, job.Commit.Length > 0 ? $"checking out {source} at {job.Commit}" : $"checking out {source} at the head of branch {job.Branch}");
        var commit = await options.Git.CheckoutAsync(source, job.Commit, job.Branch, workTree, cancellationToken).ConfigureAwait(false);
        if (job.Commit.Length == 0)
        {
            // The step sees, and the log says, the commit it builds.
            Say(output, $"branch {job.Branch} is at commit {commit}");
            job = job with { Commit = commit };
        }

        Pipeline pipeline;
        string yaml;
        try
        {
            (pipeline, yaml) = PipelineFile.Read(workTree);
        }
        catch (PipelineException e)
        {
            Say(output, e.Message);
            return new JobOutcome(JobState.Failed, null, e.Message, [], job.Step is null ? new PipelineAnswer(e.File, null, e.Message, job.Commit) : null);
        }
        if (job.Step is null)
        {
            Say(output, $"read {Pipeline.DefaultPath}: {pipeline.Steps.Count} steps");
            return new JobOutcome(JobState.Passed, null, null, [], new PipelineAnswer(Pipeline.DefaultPath, yaml, null, job.Commit));
        }
        var step = pipeline.Find(job.Step)
            ?? throw new JobFailedException($"step '{job.Step}' is not in {Pipeline.DefaultPath} at commit {job.Commit} (steps: {string.Join(", ", pipeline.Steps.Select(s => s.Key))})");
        return await RunStepAsync(job, pipeline, step, workTree, output, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs <paramref name="step"/> in <paramref name="checkout"/> (already there) and uploads its artifacts.</summary>
    public async Task<JobOutcome> RunStepAsync(JobSpec job, Pipeline pipeline, PipelineStep step, string checkout, Action<ReadOnlySpan<byte>> output, CancellationToken cancellationToken)
    {
        CheckExecutable(checkout, step);
        StepCommand command;
        Func<int, Task>? terminate = null;
        string? orphanCleanup = null;
        if (step.Container is { } container)
        {
            var engine = options.Engine
                ?? throw new JobFailedException($"step '{step.Key}' runs in image '{container.Image}', and this agent has no container engine (build_engine)");
            var name = ContainerEngine.ContainerName(job.JobId, job.Attempt);
            var env = JobEnvironment.For(job, pipeline, step, ContainerEngine.Workspace);
            command = engine.RunCommand(step, container, name, checkout, env);
            terminate = signal => engine.KillAsync(name, signal);
            orphanCleanup = engine.RemoveNowShellCommand(name);
            Say(output, $"running {step.Run} in {container.Image} ({engine.Name}, container {name})");
        }
        else
        {
            command = new StepCommand(Path.Combine(checkout, step.Run), step.Args, checkout, JobEnvironment.For(job, pipeline, step, checkout));
            Say(output, $"running {step.Run}");
        }
        cancellationToken.ThrowIfCancellationRequested();
        // The runner's own lines start a line of their own even after output that did not end one.
        var endsLine = true;
        var exit = await StepProcess.RunAsync(command, data =>
        {
            output(data);
            if (!data.IsEmpty) endsLine = data[^1] == (byte)'\n';
        }, step.Timeout, job.CancelGrace, cancellationToken, terminate, orphanCleanup: orphanCleanup).ConfigureAwait(false);
        if (!endsLine) output("\n"u8);
        if (exit.Canceled)
        {
            Say(output, $"canceled (exit status {exit.ExitStatus})");
            return new JobOutcome(JobState.Canceled, exit.ExitStatus, "canceled", []);
        }
        if (exit.TimedOut)
        {
            var reason = $"timed out after {GoDuration.Format(step.Timeout)}";
            Say(output, $"{reason} (exit status {exit.ExitStatus})");
            return new JobOutcome(JobState.TimedOut, exit.ExitStatus, reason, []);
        }
        var state = exit.ExitStatus == 0 ? JobState.Passed : JobState.Failed;
        Say(output, $"{step.Run} exited with status {exit.ExitStatus}");
        var artifacts = new List<JobArtifact>();
        if (step.Artifacts.Count > 0 && options.Artifacts?.Invoke() is { } uploader)
        {
            foreach (var path in ArtifactFiles.Match(checkout, step.Artifacts))
            {
                try
                {
                    var stored = await uploader.UploadAsync(job.BuildId, checkout, path, cancellationToken).ConfigureAwait(false);
                    artifacts.Add(stored);
                    Say(output, $"uploaded artifact {path} ({stored.Size} bytes, sha256 {stored.Sha256})");
                }
                catch (JobFailedException e)
                {
                    Say(output, e.Message);
                    return new JobOutcome(JobState.Failed, exit.ExitStatus, e.Message, artifacts);
                }
            }
        }
        return new JobOutcome(state, exit.ExitStatus, state == JobState.Failed ? $"{step.Run} exited with status {exit.ExitStatus}" : null, artifacts);
    }

    /// <summary>A step's file must be executable: git keeps the mode, and a script without it is a mistake in the repository.</summary>
    private static void CheckExecutable(string checkout, PipelineStep step)
    {
        var path = Path.Combine(checkout, step.Run);
        if (!File.Exists(path)) throw new JobFailedException($"step '{step.Key}': run '{step.Run}' is not a file of the repository at this commit");
        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & UnixFileMode.UserExecute) == 0)
            throw new JobFailedException($"step '{step.Key}': run '{step.Run}' is not executable; make it so in the repository (git update-index --chmod=+x {step.Run})");
    }

    /// <summary>A line of the runner's own in the job's log, told apart from the step's output by its prefix.</summary>
    public static void Say(Action<ReadOnlySpan<byte>> output, string line) => output(Encoding.UTF8.GetBytes("~~~ platform: " + line + "\n"));

    private static string SafeName(string id)
    {
        var builder = new StringBuilder(id.Length);
        // Job ids are "{build id}/{job key}" (the pipeline job's key is "~pipeline"): every other character is written as
        // "+XX" (its UTF-16 code in hex), so two ids never share a work tree.
        foreach (var c in id)
        {
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_') builder.Append(c);
            else builder.Append('+').Append(((int)c).ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }
        return builder.Length == 0 ? "job" : builder.ToString();
    }

    private static void RemoveTree(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the next run of the same job to retry; it does not change the job's outcome.
        }
    }
}
