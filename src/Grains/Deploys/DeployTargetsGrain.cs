using Microsoft.Extensions.Options;
using Platform.Runtime;

namespace Platform.Grains.Deploys;

/// <summary>The directory of targets: written once per deploy started, with one short line per target.</summary>
[GrainType("deploy-targets")]
internal sealed class DeployTargetsGrain(
    [PersistentState("deploy-targets")] IPersistentState<DeployTargetsState> state,
    IOptions<DeploysOptions> options) : Grain, IDeployTargetsGrain
{
    public const string DefaultKey = "default";

    public async Task Deployed(string target, DateTimeOffset created)
    {
        ArgumentNullException.ThrowIfNull(target);
        var targets = state.State.Targets;
        if (targets.TryGetValue(target, out var newest) && newest >= created) return;
        targets[target] = created;
        var kept = options.Value.HistoryTargets;
        if (targets.Count > kept)
        {
            // The least recently deployed go; their histories stay, found by their exact description.
            foreach (var old in targets.OrderBy(t => t.Value).Take(targets.Count - kept).Select(t => t.Key).ToList()) targets.Remove(old);
        }
        await state.WriteStateAsync();
    }

    public Task<List<DeployTargetEntry>> Matching(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var found = state.State.Targets.Where(t => t.Key.Contains(text, StringComparison.Ordinal))
            .OrderByDescending(t => t.Value).Select(t => new DeployTargetEntry(t.Key, t.Value)).ToList();
        return Task.FromResult(found);
    }
}

/// <summary>The directory as stored: target description → start of its newest deploy.</summary>
public sealed class DeployTargetsState
{
    public Dictionary<string, DateTimeOffset> Targets { get; set; } = new(StringComparer.Ordinal);
}
