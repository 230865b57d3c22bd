namespace Platform.Builds.Pipelines;

/// <summary>A repository's pipeline (<c>.platform/pipeline.yml</c>), as parsed and checked: steps that run files of the repository.</summary>
public sealed record Pipeline(IReadOnlyDictionary<string, string> Env, IReadOnlyList<PipelineStep> Steps)
{
    /// <summary>Where a repository keeps its pipeline.</summary>
    public const string DefaultPath = ".platform/pipeline.yml";

    /// <summary>The step with <paramref name="key"/>, or null.</summary>
    public PipelineStep? Find(string key)
    {
        foreach (var step in Steps)
            if (step.Key == key) return step;
        return null;
    }
}

/// <summary>
/// One step: <see cref="Run"/> is a path inside the repository, run with <see cref="Args"/> — never an inline script.
/// </summary>
public sealed record PipelineStep(
    string Key,
    string Label,
    string Run,
    IReadOnlyList<string> Args,
    IReadOnlyDictionary<string, string> Agents,
    TimeSpan Timeout,
    IReadOnlyList<RetryRule> Retry,
    IReadOnlyDictionary<string, string> Env,
    IReadOnlyList<string> Artifacts,
    IReadOnlyList<string> DependsOn,
    string? ConcurrencyGroup,
    int Concurrency,
    ContainerSpec? Container,
    BranchFilter Branches,
    int Line);

/// <summary>A container the step runs in: the image (built locally, never pulled), a memory limit and the network.</summary>
public sealed record ContainerSpec(string Image, long? MemoryBytes, string Network);
