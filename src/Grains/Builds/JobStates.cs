namespace Platform.Grains.Builds;

/// <summary>Job and build states, in Buildkite's vocabulary (docs/builds.md, "States").</summary>
public static class JobStates
{
    /// <summary>A job whose dependencies have not finished yet.</summary>
    public const string Waiting = "waiting";
    public const string Scheduled = "scheduled";
    public const string Assigned = "assigned";
    public const string Running = "running";
    public const string Passed = "passed";
    public const string Failed = "failed";
    public const string Canceled = "canceled";
    public const string TimedOut = "timed_out";
    public const string Lost = "lost";
    public const string Skipped = "skipped";

    /// <summary>A job that will not run because a job it depends on did not pass.</summary>
    public const string Broken = "broken";

    /// <summary>A build whose cancel was asked while some of its jobs still run.</summary>
    public const string Canceling = "canceling";

    /// <summary>The states an agent may report in <c>job-done</c>.</summary>
    public static bool IsReportable(string state) => state is Passed or Failed or Canceled or TimedOut;

    /// <summary>A job or build in this state will not change again (a retry makes a new attempt of the job).</summary>
    public static bool IsFinal(string state) => state is Passed or Failed or Canceled or TimedOut or Lost or Skipped or Broken;

    /// <summary>The job holds an agent's slot.</summary>
    public static bool OnAgent(string state) => state is Assigned or Running;
}
