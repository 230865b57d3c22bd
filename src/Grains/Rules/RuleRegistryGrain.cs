using Microsoft.Extensions.Logging;
using Platform.Runtime;

namespace Platform.Grains.Rules;

/// <summary>Stores the rules; after each durable change tells the engine the new set (one way: the engine never holds this grain up).</summary>
[GrainType("rules")]
internal sealed partial class RuleRegistryGrain([PersistentState("rules")] IPersistentState<RuleRegistryState> state, ILogger<RuleRegistryGrain> logger) : Grain, IRuleRegistryGrain
{
    /// <summary>The one rule set of a cluster.</summary>
    public const string DefaultKey = "default";

    private RuleRegistryState S => state.State;

    public async Task<RuleChange> Add(RuleSpec spec)
    {
        if (RuleValidator.Validate(spec, out var normal) is { } error) return new(RuleChangeOutcome.Invalid, null, error);
        if (Find(normal.Name) is { } same) return Conflict(normal.Name, same);
        var now = DateTimeOffset.UtcNow;
        var rule = new Rule($"rule-{S.LastId + 1}", normal.Name, normal.Enabled, normal.Trigger!, normal.Actions!, now, now);
        S.LastId++;
        S.Rules.Add(rule);
        await SaveAsync();
        return new(RuleChangeOutcome.Done, rule, null);
    }

    public async Task<RuleChange> Update(string idOrName, RuleSpec spec)
    {
        var index = IndexOf(idOrName);
        if (index < 0) return NotFound(idOrName);
        if (RuleValidator.Validate(spec, out var normal) is { } error) return new(RuleChangeOutcome.Invalid, null, error);
        var old = S.Rules[index];
        if (Find(normal.Name) is { } same && same.Id != old.Id) return Conflict(normal.Name, same);
        var rule = old with { Name = normal.Name, Enabled = normal.Enabled, Trigger = normal.Trigger!, Actions = normal.Actions!, Updated = DateTimeOffset.UtcNow };
        S.Rules[index] = rule;
        await SaveAsync();
        return new(RuleChangeOutcome.Done, rule, null);
    }

    public async Task<RuleChange> SetEnabled(string idOrName, bool enabled)
    {
        var index = IndexOf(idOrName);
        if (index < 0) return NotFound(idOrName);
        var rule = S.Rules[index];
        if (rule.Enabled == enabled) return new(RuleChangeOutcome.Done, rule, null);
        rule = rule with { Enabled = enabled, Updated = DateTimeOffset.UtcNow };
        S.Rules[index] = rule;
        await SaveAsync();
        return new(RuleChangeOutcome.Done, rule, null);
    }

    public async Task<RuleChange> Remove(string idOrName)
    {
        var index = IndexOf(idOrName);
        if (index < 0) return NotFound(idOrName);
        var rule = S.Rules[index];
        S.Rules.RemoveAt(index);
        await SaveAsync();
        return new(RuleChangeOutcome.Done, rule, null);
    }

    public Task<Rule?> Get(string idOrName) => Task.FromResult(IndexOf(idOrName) is var i and >= 0 ? S.Rules[i] : null);

    public Task<RuleSet> List() => Task.FromResult(Current);

    private RuleSet Current => new(S.Version, [.. S.Rules]);

    private async Task SaveAsync()
    {
        S.Version++;
        await state.WriteStateAsync();
        try
        {
            // One way: the engine may be busy with an action; it also reads the set itself when it activates.
            _ = GrainFactory.GetGrain<IRuleEngineGrain>(RuleEngineGrain.DefaultKey).RulesChanged(Current);
        }
        catch (Exception e)
        {
            LogEngineNotTold(logger, e, S.Version);
        }
    }

    private int IndexOf(string idOrName)
    {
        var byId = S.Rules.FindIndex(r => r.Id == idOrName);
        return byId >= 0 ? byId : S.Rules.FindIndex(r => r.Name == idOrName);
    }

    private Rule? Find(string name) => S.Rules.Find(r => r.Name == name);

    private static RuleChange NotFound(string idOrName) => new(RuleChangeOutcome.NotFound, null, new("id", $"no rule has the id or name '{idOrName}'"));

    private static RuleChange Conflict(string name, Rule holder) => new(RuleChangeOutcome.Conflict, null, new("name", $"'{name}' is the name of {holder.Id}; choose another name"));
}
