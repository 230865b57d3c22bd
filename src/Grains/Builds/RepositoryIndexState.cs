namespace Platform.Grains.Builds;

/// <summary>The repository names, sorted.</summary>
public sealed class RepositoryIndexState
{
    public List<string> Names { get; set; } = [];
}
