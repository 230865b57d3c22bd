namespace Platform.Grains.Builds;

/// <summary>Tunables of builds, the queue and job logs (section <c>Platform:Builds</c>).</summary>
public sealed class BuildsOptions
{
    public const string Section = "Platform:Builds";

    /// <summary>How often an unfinished build checks its jobs (re-queues, re-sends, finds lost agents). Default 5 s; at least 1 s (the reminder minimum).</summary>
    public TimeSpan BuildCheckInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A job assigned this long without <c>job-started</c> is sent to its agent again (the same attempt). Default 30 s.</summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the queue dispatches what a lost message left waiting. Default 2 s.</summary>
    public TimeSpan QueueCheckInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Every this many queue checks, slots held by jobs that ended are freed. Default 15 (30 s).</summary>
    public int LeaseCheckEvery { get; set; } = 15;

    /// <summary>How often each hub reports its agents to the queue; an agent not reported for three times this is gone. Default 2 s.</summary>
    public TimeSpan AgentRenewal { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a cancelled job has between SIGTERM and SIGKILL (sent in the job frame). Default 10 s.</summary>
    public TimeSpan CancelGrace { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The backstop of a job's timeout: an attempt on an agent whose end has not come within its step's <c>timeout</c>,
    /// <see cref="CancelGrace"/> and this grace (counted from <c>job-started</c>, else from the assignment) ends
    /// <c>timed_out</c> by the build itself, so a hung or silent agent cannot hold a build forever. Default 60 s.
    /// </summary>
    public TimeSpan TimeoutGrace { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Hook delivery ids a repository remembers, to ignore redeliveries. Default 1,000.</summary>
    public int DeliveriesRemembered { get; set; } = 1000;

    /// <summary>Null when every value is in range, else the first that is not.</summary>
    public string? Validate()
    {
        if (BuildCheckInterval < TimeSpan.FromSeconds(1)) return $"Platform:Builds:BuildCheckInterval is {BuildCheckInterval}; expected at least 1 s";
        if (StartTimeout <= TimeSpan.Zero) return $"Platform:Builds:StartTimeout is {StartTimeout}; expected more than 0";
        if (QueueCheckInterval <= TimeSpan.Zero) return $"Platform:Builds:QueueCheckInterval is {QueueCheckInterval}; expected more than 0";
        if (LeaseCheckEvery < 1) return $"Platform:Builds:LeaseCheckEvery is {LeaseCheckEvery}; expected at least 1";
        if (AgentRenewal <= TimeSpan.Zero) return $"Platform:Builds:AgentRenewal is {AgentRenewal}; expected more than 0";
        if (CancelGrace < TimeSpan.Zero) return $"Platform:Builds:CancelGrace is {CancelGrace}; expected 0 or more";
        if (TimeoutGrace < TimeSpan.Zero) return $"Platform:Builds:TimeoutGrace is {TimeoutGrace}; expected 0 or more";
        if (DeliveriesRemembered < 1) return $"Platform:Builds:DeliveriesRemembered is {DeliveriesRemembered}; expected at least 1";
        return null;
    }
}
