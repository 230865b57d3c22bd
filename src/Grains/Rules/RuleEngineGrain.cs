using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Platform.Grains.Keys;
using Platform.Grains.Nodes;
using Platform.Runtime;
using Platform.Runtime.Catalog;
using Platform.Runtime.Observers;

namespace Platform.Grains.Rules;

/// <summary>
/// The rule engine. An occurrence (a key change, a user event, a push, a finished build) is matched against the enabled
/// rules; each match becomes an intent, written durably together with the feed cursors before anything is done; then
/// the intents run, and each one's run record replaces it in the same write. A restart finishes what was recorded,
/// checking first whether an action's effect is already there (docs/rules.md, "At most once").
/// </summary>
/// <remarks>Not reentrant: occurrences and runs take turns, so feed order is run order and no intent is run twice at once.</remarks>
[GrainType("ruleengine")]
internal sealed partial class RuleEngineGrain(
    [PersistentState("ruleengine")] IPersistentState<RuleEngineState> state,
    IOptions<RulesOptions> options,
    IOptions<NodesOptions> nodesOptions,
    ILogger<RuleEngineGrain> logger) : Grain, IRuleEngineGrain
{
    /// <summary>The one engine of a cluster.</summary>
    public const string DefaultKey = "default";

    private readonly RulesOptions _options = options.Value;
    private readonly HashSet<string> _recent = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _produced = new(StringComparer.Ordinal);

    /// <summary>Intents this activation recorded and has not started: they run plainly; any other was recorded before a crash and is recovered.</summary>
    private readonly HashSet<string> _fresh = new(StringComparer.Ordinal);

    private RuleSet _rules = new(-1, []);

    private readonly ObserverManager<IRuleRunObserver> _followers = new(TimeSpan.FromMinutes(1));

    /// <summary>Runs recorded or ended since the last write: followers are told once it is durable.</summary>
    private readonly List<RuleRun> _unannounced = [];

    private RuleEngineState S => state.State;

    private IRuleEngineGrain Self => GrainFactory.GetGrain<IRuleEngineGrain>(DefaultKey);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        foreach (var id in S.Recent) _recent.Add(id);
        foreach (var p in S.Produced) _produced[p.Occurrence] = p.Depth;
        _rules = await GrainFactory.GetGrain<IRuleRegistryGrain>(RuleRegistryGrain.DefaultKey).List();
        await SyncFeedsAsync(resume: true);
        RegisterGrainTimer(_ => RenewAsync(), _options.RenewInterval, _options.RenewInterval);
        if (S.Pending.Count != 0)
        {
            LogFinishingRuns(logger, S.Pending.Count);
            _ = Self.RunPending();
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        try
        {
            if (CursorsMoved(1)) await WriteAsync();
        }
        catch (Exception e)
        {
            LogCursorsNotSaved(logger, e);
        }
        DropFeeds();
    }

    public Task Wake()
    {
        if (S.Pending.Count != 0) _ = Self.RunPending();
        return Task.CompletedTask;
    }

    public Task Follow(IRuleRunObserver observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        _followers.Subscribe(observer);
        return Task.CompletedTask;
    }

    public async Task RulesChanged(RuleSet rules)
    {
        if (rules.Version <= _rules.Version) return;
        _rules = rules;
        _followers.Notify(f => f.RulesChanged(rules));
        List<string>? gone = null;
        foreach (var id in S.Runs.Keys)
            if (!rules.Rules.Exists(r => r.Id == id)) (gone ??= []).Add(id);
        if (gone is not null)
            foreach (var id in gone) S.Runs.Remove(id);
        await SyncFeedsAsync(resume: false);
    }

    public async Task OnPush(string repo, string branch, string commit, string deliveryId)
    {
        var occurrence = $"push:{deliveryId}";
        var intents = new List<RuleIntent>();
        var refused = new List<RuleRun>();
        await CollectAsync(occurrence, RuleTriggerTypes.Push, () => RuleMatching.PushFacts(repo, branch, commit), t => RuleMatching.Push(t, repo, branch), intents, refused);
        await CommitAsync(intents, refused);
    }

    public async Task OnBuildFinished(string repo, string branch, string? commit, string buildId, string status)
    {
        // A build one of our actions started carries its chain's depth.
        var depth = _produced.Remove($"build:{buildId}", out var d) ? d : 0;
        var occurrence = $"build:{buildId}:{status}";
        if (depth != 0) _produced[occurrence] = depth;
        var intents = new List<RuleIntent>();
        var refused = new List<RuleRun>();
        await CollectAsync(occurrence, RuleTriggerTypes.BuildFinished, () => RuleMatching.BuildFacts(repo, branch, commit, buildId, status),
            t => RuleMatching.BuildFinished(t, repo, branch, status), intents, refused);
        await CommitAsync(intents, refused);
    }

    public Task<List<RuleRun>> Runs(string ruleId, int limit)
    {
        var runs = new List<RuleRun>();
        for (var i = S.Pending.Count - 1; i >= 0 && runs.Count < limit; i--)
        {
            var p = S.Pending[i];
            if (p.RuleId == ruleId) runs.Add(Pending(p));
        }
        if (S.Runs.TryGetValue(ruleId, out var kept))
            for (var i = kept.Count - 1; i >= 0 && runs.Count < limit; i--) runs.Add(kept[i]);
        return Task.FromResult(runs);
    }

    /// <summary>
    /// Adds an intent for every enabled rule that <paramref name="matches"/> and has not handled <paramref name="occurrence"/>
    /// yet; a chain that is too deep gets a failed run instead.
    /// </summary>
    private async Task CollectAsync(string occurrence, string trigger, Func<Dictionary<string, string>> facts, Func<RuleTrigger, bool> matches, List<RuleIntent> intents, List<RuleRun> refused)
    {
        Dictionary<string, string>? known = null;
        var depth = _produced.Remove(occurrence, out var produced) ? produced : 0;
        foreach (var rule in _rules.Rules)
        {
            if (!rule.Enabled || !matches(rule.Trigger)) continue;
            var id = $"{occurrence}>{rule.Id}";
            if (_recent.Contains(id) || S.Pending.Exists(p => p.Id == id) || intents.Exists(p => p.Id == id)) continue;
            known ??= facts();
            var now = DateTimeOffset.UtcNow;
            if (depth >= _options.MaxChainDepth)
            {
                var error = $"not run: {depth} rule actions led to this {trigger} ({occurrence}), the most Platform:Rules:MaxChainDepth allows; rules that trigger each other are stopped here";
                LogRuleError(logger, rule.Id, rule.Name, error);
                refused.Add(new RuleRun(id, rule.Id, trigger, occurrence, known, depth, now, now, RuleOutcomes.Failed, [], error));
                continue;
            }
            intents.Add(new RuleIntent(id, rule.Id, trigger, occurrence, known, depth, now, rule.Actions, await BaselinesAsync(rule.Actions, known)));
        }
    }

    /// <summary>Records intents and refused runs (with the cursors) durably, then starts running the intents.</summary>
    private async Task CommitAsync(List<RuleIntent>? intents, List<RuleRun>? refused)
    {
        if (intents is not { Count: > 0 } && refused is not { Count: > 0 }) return;
        if (intents is not null)
        {
            S.Pending.AddRange(intents);
            foreach (var intent in intents)
            {
                _fresh.Add(intent.Id);
                if (_followers.Count != 0) _unannounced.Add(Pending(intent));
            }
        }
        if (refused is not null)
        {
            foreach (var run in refused)
            {
                AddRun(run);
                Remember(run.Id);
            }
        }
        await WriteAsync();
        if (intents is { Count: > 0 }) _ = Self.RunPending();
    }

    /// <summary>An intent not run yet, as a run.</summary>
    private static RuleRun Pending(RuleIntent p) => new(p.Id, p.RuleId, p.Trigger, p.Occurrence, p.Facts, p.Depth, p.At, null, RuleOutcomes.Pending, [], null);

    private void AddRun(RuleRun run)
    {
        if (_followers.Count != 0) _unannounced.Add(run);
        if (!S.Runs.TryGetValue(run.RuleId, out var runs)) S.Runs[run.RuleId] = runs = [];
        runs.Add(run);
        if (runs.Count > _options.RunsKept) runs.RemoveRange(0, runs.Count - _options.RunsKept);
    }

    private void Remember(string id)
    {
        if (!_recent.Add(id)) return;
        S.Recent.Add(id);
        if (S.Recent.Count <= _options.RecentOccurrences) return;
        var drop = S.Recent.Count - _options.RecentOccurrences;
        for (var i = 0; i < drop; i++) _recent.Remove(S.Recent[i]);
        S.Recent.RemoveRange(0, drop);
    }

    /// <summary>Remembers that <paramref name="occurrence"/> was caused by an action at chain depth <paramref name="depth"/> - 1.</summary>
    private void Produce(string occurrence, int depth)
    {
        _produced[occurrence] = depth;
        S.Produced.Add(new RuleProduced(occurrence, depth));
        const int Kept = 1000;
        if (S.Produced.Count <= Kept) return;
        var drop = S.Produced.Count - Kept;
        for (var i = 0; i < drop; i++) _produced.Remove(S.Produced[i].Occurrence);
        S.Produced.RemoveRange(0, drop);
    }

    /// <summary>Writes the state with the current cursors; a write refused for want of storage rebuilds the activation from storage.</summary>
    private async Task WriteAsync()
    {
        S.KeyCursor = _keysOn ? _keyIndex : null;
        S.EventCursor = _eventsOn ? _lTime : null;
        S.Produced.RemoveAll(p => !_produced.ContainsKey(p.Occurrence));
        List<RuleRun>? announce = null;
        if (_unannounced.Count != 0)
        {
            announce = [.. _unannounced];
            _unannounced.Clear();
        }
        try
        {
            await state.WriteStateAsync();
        }
        catch (StorageUnavailableException e)
        {
            DeactivateOnIdle(e);
            throw;
        }
        foreach (var run in announce ?? []) _followers.Notify(f => f.RunChanged(run));
    }
}
