using System.Globalization;
using Platform.Builds.Pipelines;

namespace Platform.Builds.Running;

/// <summary>
/// The environment a step runs with (docs/builds.md, "Environment"): a few of the host's variables, the pipeline's
/// <c>env</c>, the step's, the build's, then Platform's own <c>PLATFORM_*</c> and <c>CI=true</c>, which nothing overrides.
/// </summary>
public static class JobEnvironment
{
    /// <summary>The host variables a step inherits; nothing else (the agent's token above all) reaches it.</summary>
    public static readonly IReadOnlyList<string> Inherited = ["PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ", "TMPDIR", "SHELL"];

    /// <summary>The variables for <paramref name="step"/> of <paramref name="pipeline"/> in <paramref name="job"/>, checked out at <paramref name="checkout"/>.</summary>
    public static Dictionary<string, string> For(JobSpec job, Pipeline pipeline, PipelineStep step, string checkout)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in Inherited)
            if (Environment.GetEnvironmentVariable(name) is { } value) env[name] = value;
        foreach (var (name, value) in pipeline.Env) env[name] = value;
        foreach (var (name, value) in step.Env) env[name] = value;
        foreach (var (name, value) in job.Env)
            if (!name.StartsWith("PLATFORM_", StringComparison.Ordinal)) env[name] = value;
        env["CI"] = "true";
        env["PLATFORM"] = "true";
        env["PLATFORM_BUILD_ID"] = job.BuildId;
        env["PLATFORM_JOB_ID"] = job.JobId;
        env["PLATFORM_JOB_ATTEMPT"] = job.Attempt.ToString(CultureInfo.InvariantCulture);
        env["PLATFORM_REPOSITORY"] = job.Repository;
        env["PLATFORM_BRANCH"] = job.Branch;
        env["PLATFORM_COMMIT"] = job.Commit;
        env["PLATFORM_STEP_KEY"] = step.Key;
        env["PLATFORM_STEP_LABEL"] = step.Label;
        env["PLATFORM_PIPELINE_FILE"] = Pipeline.DefaultPath;
        env["PLATFORM_CHECKOUT_PATH"] = checkout;
        return env;
    }
}
