using Platform.Grains.Rules;
using Platform.Runtime;

namespace Platform.Grains.Builds;

/// <summary>
/// A rule's start_build action: a build of the repository's branch (its head when the rule names no commit), started once
/// per idempotency key by the repository's grain, so a run finished again after a restart finds the same build.
/// A build it starts is audited as <c>build.start</c> by <c>rule:{rule id}</c> (when the silo keeps an audit log).
/// </summary>
internal sealed class RuleBuildStarter(IGrainFactory grains, IRuleActionAudit? audit = null) : IBuildStarter
{
    public async Task<string> StartBuildAsync(RuleBuildRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrWhiteSpace(request.Branch))
            throw new RuleActionException($"start_build of '{request.Repo}' names no branch, and the silo knows no default branch of a repository; name one (\"branch\": \"main\")");
        var commit = request.Commit ?? "";
        if (commit.Length != 0 && (commit.Length is < 7 or > 64 || !commit.All(char.IsAsciiHexDigit)))
            throw new RuleActionException($"start_build: commit '{commit}' is not a commit id; expected 7 to 64 hex digits, or none to build the branch's head");
        var result = await grains.GetGrain<IRepositoryGrain>(request.Repo).StartOnce(request.IdempotencyKey, request.Branch, commit, "rule", "rule:" + request.RuleId);
        var id = result.BuildId ?? throw new RuleActionException(result.Error ?? $"repository '{request.Repo}' started no build");
        // Only a new build: one found again for the same key was audited when it started.
        if (result.New && audit is not null) await audit.RecordAsync($"rule:{request.RuleId}", "build.start", id, cancellationToken).ConfigureAwait(false);
        return id;
    }
}
