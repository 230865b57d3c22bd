namespace Platform.Agent.Checks;

/// <summary>One check of a <see cref="CheckSet"/>: its definition, how it runs, and its state as last reported.</summary>
internal sealed class RunningCheck(CheckDefinition definition, ICheckProbe? probe)
{
    public CheckDefinition Definition { get; } = definition;

    /// <summary>Null for a TTL check, which has no probe.</summary>
    public ICheckProbe? Probe { get; } = probe;

    public StatusThresholds Thresholds { get; } = new(
        definition.SuccessBeforePassing, definition.FailuresBeforeWarning, definition.FailuresBeforeCritical);

    /// <summary>Interval checks: when the next run starts. TTL checks: when the reported status expires.</summary>
    public ITimer? Timer { get; set; }

    /// <summary>The run in progress, if any; awaited when the set stops.</summary>
    public Task Running { get; set; } = Task.CompletedTask;

    // Guarded by the set's lock.
    public string Status { get; set; } = definition.InitialStatus;

    public string Output { get; set; } = "";

    /// <summary>TTL checks: the last note reported, shown again when the TTL expires.</summary>
    public string LastTtlOutput { get; set; } = "";
}
