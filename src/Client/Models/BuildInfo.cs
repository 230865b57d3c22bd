namespace Platform.Client;

/// <summary>A build as <c>GET /v1/builds/{id}</c> shows it (docs/builds.md, "Builds").</summary>
public sealed record BuildInfo(
    string Id,
    string Repository,
    int Number,
    string Branch,
    string Commit,
    string State,
    string Trigger,
    string? TriggeredBy,
    string? Error,
    DateTimeOffset Created,
    DateTimeOffset? Started,
    DateTimeOffset? Finished,
    IReadOnlyList<BuildJobInfo>? Jobs);

/// <summary>A job of a build: its state, current attempt, agent and exit status.</summary>
public sealed record BuildJobInfo(string Key, string Label, string? Step, string State, int Attempt, string? Agent, int? ExitStatus, string? Error, long LogLength);
