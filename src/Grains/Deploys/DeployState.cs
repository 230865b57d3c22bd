namespace Platform.Grains.Deploys;

/// <summary>A deploy's durable state: written when a node starts or ends, a batch moves on, or the deploy is cancelled or ends.</summary>
public sealed class DeployState
{
    public DeploySpec Spec { get; set; } = new();

    public string Status { get; set; } = "";

    public DateTimeOffset Created { get; set; }

    public DateTimeOffset? Finished { get; set; }

    /// <summary>The planned batches, node names in start order.</summary>
    public List<List<string>> Batches { get; set; } = [];

    /// <summary>The batch nodes start from now (0-based).</summary>
    public int CurrentBatch { get; set; }

    /// <summary>When the current batch's last node ended: the pause counts from here; null while it runs.</summary>
    public DateTimeOffset? BatchEnded { get; set; }

    public Dictionary<string, DeployNodeRun> Nodes { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Why no more nodes start (cancelled, threshold exceeded); null while the rollout goes on.</summary>
    public string? StopReason { get; set; }

    public bool Cancelled { get; set; }

    /// <summary>A cancel asked to stop the running nodes: they are sent <c>deploy-cancel</c> (again every while) until they report.</summary>
    public bool StopRunning { get; set; }

    /// <summary>The finish notification (key, event) was made.</summary>
    public bool Notified { get; set; }

    /// <summary>Counts every write: followers keep the newest view they were told and drop one that arrives late.</summary>
    public long Revision { get; set; }
}

/// <summary>One node's run in a deploy.</summary>
public sealed class DeployNodeRun
{
    public string Status { get; set; } = DeployNodeStatus.Pending;

    public int Batch { get; set; }

    public DateTimeOffset? Started { get; set; }

    /// <summary>When the deploy (or, once a cancel stops running nodes, deploy-cancel) frame was last sent: a running node without a result gets it again after a while (a lost frame, a silo that died, an agent away).</summary>
    public DateTimeOffset? Sent { get; set; }

    public DateTimeOffset? Finished { get; set; }

    public int? ExitCode { get; set; }

    public long? DurationMs { get; set; }

    /// <summary>Why the silo decided the outcome (lost, timed out, stopped, skipped); null when the agent reported it.</summary>
    public string? Reason { get; set; }

    public string OutputTail { get; set; } = "";

    /// <summary>The node's agent sent a result (even one that came too late to count): a cancel that stops running nodes has reached it.</summary>
    public bool Reported { get; set; }
}
