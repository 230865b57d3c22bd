namespace Platform.Builds.Running;

/// <summary>Where and with what a <see cref="JobRunner"/> runs jobs.</summary>
public sealed class JobRunnerOptions
{
    /// <summary>The folder under which each job gets its work tree (removed when the job ends).</summary>
    public required string JobsDirectory { get; init; }

    /// <summary>The per-repository git mirrors.</summary>
    public required GitCheckout Git { get; init; }

    /// <summary>The container engine for steps with an <c>image</c>; null: such steps fail with that reason.</summary>
    public ContainerEngine? Engine { get; init; }

    /// <summary>The artifact store to upload to, asked for when a step has artifacts; null (or a null answer): artifacts are not uploaded.</summary>
    public Func<ArtifactUploader?>? Artifacts { get; init; }

    /// <summary>Keep each job's work tree after it ends (for run-local and debugging); default false.</summary>
    public bool KeepWorkTrees { get; init; }
}
