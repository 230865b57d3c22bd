using Platform.Builds.Running;

namespace Platform.Agent.Builds;

/// <summary>What the agent's <see cref="JobHost"/> runs jobs with (from the agent's configuration).</summary>
internal sealed class JobHostOptions
{
    /// <summary>The agent's data directory: jobs' work trees, git mirrors and the ledger live under its <c>builds</c> folder.</summary>
    public required string DataDir { get; init; }

    /// <summary>Jobs run at once (<c>build_slots</c>).</summary>
    public int Slots { get; init; } = 1;

    /// <summary>The container engine, or null.</summary>
    public ContainerEngine? Engine { get; init; }

    /// <summary>SIGTERM to SIGKILL when a job frame names no grace (<c>build_cancel_grace</c>).</summary>
    public TimeSpan CancelGrace { get; init; } = JobSpec.DefaultCancelGrace;

    /// <summary>Patterns of the repository URLs jobs may check out (<c>*</c> any run of characters); empty: any.</summary>
    public IReadOnlyList<string> Repositories { get; init; } = [];

    /// <summary>How long unacknowledged frames wait before they are sent again on the same connection.</summary>
    public TimeSpan ResendInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The artifact store of the silo connected now, or null.</summary>
    public Func<ArtifactUploader?>? Artifacts { get; init; }
}
