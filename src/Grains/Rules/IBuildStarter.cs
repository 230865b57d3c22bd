namespace Platform.Grains.Rules;

/// <summary>
/// Starts a build for a rule's start_build action. Registered by the builds service; a silo without one fails such
/// actions visibly ("builds are not available on this silo").
/// </summary>
public interface IBuildStarter
{
    /// <summary>
    /// Starts (or, for an <see cref="RuleBuildRequest.IdempotencyKey"/> seen before, finds) the build; answers its id.
    /// Throws <see cref="RuleActionException"/> with a message for the run's record when it cannot.
    /// </summary>
    Task<string> StartBuildAsync(RuleBuildRequest request, CancellationToken cancellationToken);
}

/// <summary>
/// A build asked for by a rule. <see cref="Branch"/> null: the repository's default branch; <see cref="Commit"/> null:
/// the branch's head. <see cref="IdempotencyKey"/> is the same when a run is finished again after a restart.
/// </summary>
public sealed record RuleBuildRequest(string Repo, string? Branch, string? Commit, string? Pipeline, string IdempotencyKey, string RuleId);

/// <summary>Starts a deploy for a rule's start_deploy action. Registered by the deploys service; a silo without one fails such actions visibly.</summary>
public interface IDeployStarter
{
    /// <summary>Starts (or, for an idempotency key seen before, finds) the deploy; answers its id. Throws <see cref="RuleActionException"/> when it cannot.</summary>
    Task<string> StartDeployAsync(RuleDeployRequest request, CancellationToken cancellationToken);
}

/// <summary>
/// A deploy asked for by a rule: exactly one of <see cref="ManifestUrl"/> and <see cref="Manifest"/> (placeholders filled),
/// the target, and the deploy API's strategy and stretch objects as JSON text (null: the API's defaults).
/// </summary>
public sealed record RuleDeployRequest(string? ManifestUrl, string? Manifest, RuleDeployTarget Target, string? StrategyJson, string IdempotencyKey, string RuleId, string? StretchJson = null);

/// <summary>An action could not be done; the message goes into the rule's run as its error.</summary>
public sealed class RuleActionException(string message, Exception? inner = null) : Exception(message, inner);
