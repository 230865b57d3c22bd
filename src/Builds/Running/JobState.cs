namespace Platform.Builds.Running;

/// <summary>How a job ended, in Buildkite's words (the values of <c>job-done</c>'s <c>state</c>).</summary>
public static class JobState
{
    public const string Passed = "passed";
    public const string Failed = "failed";
    public const string Canceled = "canceled";
    public const string TimedOut = "timed_out";
}
