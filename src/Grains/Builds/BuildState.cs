namespace Platform.Grains.Builds;

/// <summary>A build's durable state: what triggered it, where it builds, and its jobs with every attempt.</summary>
public sealed class BuildState
{
    public string Id { get; set; } = "";
    public string Repository { get; set; } = "";
    public int Number { get; set; }
    public string Branch { get; set; } = "";
    public string Commit { get; set; } = "";
    public string CloneUrl { get; set; } = "";

    /// <summary>push, api or retry; <see cref="TriggeredBy"/> names the pusher or token.</summary>
    public string Trigger { get; set; } = "";
    public string? TriggeredBy { get; set; }

    /// <summary>The hook delivery that made it (null for other triggers): a second create with the same id is the same build.</summary>
    public string? DeliveryId { get; set; }
    public int Priority { get; set; }
    public string State { get; set; } = "";

    /// <summary>Why the build failed or was skipped (a pipeline error names file:line:column).</summary>
    public string? Error { get; set; }
    public string? PipelineFile { get; set; }
    public bool CancelRequested { get; set; }
    public string? SupersededBy { get; set; }
    public DateTimeOffset Created { get; set; }
    public DateTimeOffset? Started { get; set; }
    public DateTimeOffset? Finished { get; set; }
    public Dictionary<string, string> Env { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The rule engine has this build's final state (it is told again from the reminder until it has).</summary>
    public bool RulesTold { get; set; }
    public List<JobRecord> Jobs { get; set; } = [];

    public JobRecord? Job(string key)
    {
        foreach (var job in Jobs)
            if (job.Key == key) return job;
        return null;
    }
}

/// <summary>One job of a build: a step of the pipeline (or the pipeline job itself, <see cref="Step"/> null) and its current attempt.</summary>
public sealed class JobRecord
{
    public string Key { get; set; } = "";
    public string Label { get; set; } = "";

    /// <summary>The pipeline step it runs; null for the pipeline job, which only reads the pipeline file.</summary>
    public string? Step { get; set; }
    public string State { get; set; } = "";
    public int Attempt { get; set; } = 1;

    /// <summary>Automatic retries made so far (attempt - 1 unless retried by hand).</summary>
    public int Retries { get; set; }
    public List<string> DependsOn { get; set; } = [];
    public List<RetryRuleRecord> Retry { get; set; } = [];
    public Dictionary<string, string> Agents { get; set; } = new(StringComparer.Ordinal);
    public string? Image { get; set; }
    public string? ConcurrencyGroup { get; set; }
    public int Concurrency { get; set; }
    public int TimeoutSeconds { get; set; }
    public string? Agent { get; set; }
    public long AgentIncarnation { get; set; }

    /// <summary>The access token the agent's connection presented when it started this attempt: it may upload the build's artifacts.</summary>
    public string? AgentToken { get; set; }
    public int? ExitStatus { get; set; }
    public string? Error { get; set; }
    public DateTimeOffset? Scheduled { get; set; }
    public DateTimeOffset? Assigned { get; set; }
    public DateTimeOffset? Started { get; set; }
    public DateTimeOffset? Finished { get; set; }
    public long LogLength { get; set; }
    public List<ArtifactRecord> Artifacts { get; set; } = [];

    /// <summary>Earlier attempts, oldest first.</summary>
    public List<AttemptRecord> History { get; set; } = [];
}

/// <summary>A retry rule as stored: exit statuses (null: any failure) and the limit.</summary>
public sealed record RetryRuleRecord(List<int>? ExitStatuses, int Limit);

/// <summary>An artifact a job uploaded.</summary>
public sealed record ArtifactRecord(string Name, long Size, string Sha256);

/// <summary>How an earlier attempt of a job ended.</summary>
public sealed record AttemptRecord(int Attempt, string State, int? ExitStatus, string? Agent, DateTimeOffset? Started, DateTimeOffset? Finished, long LogLength, string? Error);
