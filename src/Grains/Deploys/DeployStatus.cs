namespace Platform.Grains.Deploys;

/// <summary>A deploy's status (docs/deploys.md, "States").</summary>
public static class DeployStatus
{
    public const string Running = "running";

    /// <summary>Every node succeeded.</summary>
    public const string Succeeded = "succeeded";

    /// <summary>Ended with at least one node failed, timed-out or lost (and, past the threshold, the rest skipped).</summary>
    public const string Failed = "failed";

    /// <summary>Cancelled before every node ran.</summary>
    public const string Cancelled = "cancelled";
}

/// <summary>A node's status in a deploy: pending → running → succeeded | failed | timed-out | lost, or pending → skipped.</summary>
public static class DeployNodeStatus
{
    public const string Pending = "pending";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string TimedOut = "timed-out";
    public const string Skipped = "skipped";
    public const string Lost = "lost";

    /// <summary>A status that counts against the failure threshold.</summary>
    public static bool IsFailure(string status) => status is Failed or TimedOut or Lost;

    /// <summary>A status a node does not leave.</summary>
    public static bool IsFinal(string status) => status is Succeeded or Failed or TimedOut or Skipped or Lost;
}
