namespace Platform.Client;

/// <summary>
/// Which nodes to list, as <c>serf members</c> filters them: each regexp is anchored and must match the whole value.
/// </summary>
public sealed record NodeFilter
{
    /// <summary>Regexp on the status (alive, leaving, left, failed); null for every status.</summary>
    public string? Status { get; init; }

    /// <summary>Regexp on the node name; null for every name.</summary>
    public string? Name { get; init; }

    /// <summary>Tag filters: the node must have each key, with a value matching its regexp.</summary>
    public IReadOnlyList<TagFilter> Tags { get; init; } = [];
}
