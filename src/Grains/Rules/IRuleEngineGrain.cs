using Platform.Grains.Keys;
using Platform.Grains.Nodes;
using Platform.Runtime;

namespace Platform.Grains.Rules;

/// <summary>
/// The rule engine (<c>ruleengine/default</c>): takes triggers, records each matching rule's intent durably, then runs
/// its actions, at most once per occurrence (docs/rules.md). Key changes and user events reach it through its own
/// subscriptions; pushes and finished builds are told to it by the builds service through <see cref="OnPush"/> and
/// <see cref="OnBuildFinished"/>.
/// </summary>
public interface IRuleEngineGrain : IGrainWithStringKey
{
    /// <summary>Activates the engine (each silo calls it every few seconds): it subscribes to its feeds and finishes recorded intents.</summary>
    Task Wake();

    /// <summary>The rule set changed; older versions than the one held are ignored.</summary>
    [OneWay]
    Task RulesChanged(RuleSet rules);

    /// <summary>
    /// A push to <paramref name="repo"/> on <paramref name="branch"/> at <paramref name="commit"/>, delivered as
    /// <paramref name="deliveryId"/> (the provider's delivery id; a redelivery with the same id does nothing). Returns once
    /// the intents of the matching rules are durable; their actions run after.
    /// </summary>
    Task OnPush(string repo, string branch, string commit, string deliveryId);

    /// <summary>
    /// Build <paramref name="buildId"/> of <paramref name="repo"/> ended in <paramref name="status"/> (<c>passed</c>,
    /// <c>failed</c>, <c>canceled</c>, <c>timed_out</c>…). Reporting the same build and status again does nothing.
    /// Returns once the intents of the matching rules are durable.
    /// </summary>
    Task OnBuildFinished(string repo, string branch, string? commit, string buildId, string status);

    /// <summary>Key changes from the engine's keyspace subscription, in index order.</summary>
    [OneWay]
    Task OnKeyEvents(KeyEventBatch batch);

    /// <summary>Fleet events from the engine's fleet subscription (user events are taken, member events ignored).</summary>
    [OneWay]
    Task OnFleetEvents(FleetEventBatch batch);

    /// <summary>Runs the recorded intents.</summary>
    [OneWay]
    Task RunPending();

    /// <summary>
    /// Subscribes (or renews) <paramref name="observer"/> to every run recorded or ended, and every new rule set, from
    /// now on (once durable). A subscription not renewed within a minute ends.
    /// </summary>
    [AlwaysInterleave]
    Task Follow(IRuleRunObserver observer);

    /// <summary>The latest <paramref name="limit"/> runs of rule <paramref name="ruleId"/>, newest first, those still pending included.</summary>
    /// <remarks>Interleaves (reads between the engine's awaits): a run waiting on a slow action does not hold readers up.</remarks>
    [AlwaysInterleave]
    Task<List<RuleRun>> Runs(string ruleId, int limit);
}

/// <summary>A silo following the rules (docs/rules.md, "Following"): told each run as it is recorded and as it ends, and each new rule set.</summary>
public interface IRuleRunObserver : IGrainObserver
{
    /// <summary>A run, <c>pending</c> when its intent was recorded, then as it ended.</summary>
    [OneWay]
    Task RunChanged(RuleRun run);

    /// <summary>The rules after a change (added, changed, enabled, disabled, removed).</summary>
    [OneWay]
    Task RulesChanged(RuleSet rules);
}
