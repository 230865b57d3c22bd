using Platform.Runtime;

namespace Platform.Grains.Rules;

/// <summary>The cluster's rules (<c>rules/default</c>): stored durably, checked before they are stored, told to the engine on every change.</summary>
public interface IRuleRegistryGrain : IGrainWithStringKey
{
    /// <summary>Checks and stores a new rule under the next id.</summary>
    Task<RuleChange> Add(RuleSpec spec);

    /// <summary>Replaces rule <paramref name="idOrName"/> (its id and creation time stay).</summary>
    Task<RuleChange> Update(string idOrName, RuleSpec spec);

    /// <summary>Turns a rule on or off.</summary>
    Task<RuleChange> SetEnabled(string idOrName, bool enabled);

    /// <summary>Removes a rule.</summary>
    Task<RuleChange> Remove(string idOrName);

    /// <summary>One rule by id or name; null when none.</summary>
    [ReadOnly]
    Task<Rule?> Get(string idOrName);

    /// <summary>Every rule, in id order, with the set's version.</summary>
    [ReadOnly]
    Task<RuleSet> List();
}

/// <summary>What a change did: <see cref="Outcome"/>, the rule (as stored, or as it was before removal), or the mistake.</summary>
public sealed record RuleChange(RuleChangeOutcome Outcome, Rule? Rule, RuleError? Error);

/// <summary>How a change ended.</summary>
public enum RuleChangeOutcome
{
    Done,

    /// <summary>The rule is not valid: <see cref="RuleChange.Error"/> names the field.</summary>
    Invalid,

    NotFound,

    /// <summary>Another rule has that name.</summary>
    Conflict,
}

/// <summary>The rules and the version of the set (one more on every change).</summary>
public sealed record RuleSet(long Version, List<Rule> Rules);

/// <summary>The registry's durable state.</summary>
public sealed class RuleRegistryState
{
    public List<Rule> Rules { get; set; } = [];

    /// <summary>The number of the last id given; ids are never reused.</summary>
    public long LastId { get; set; }

    public long Version { get; set; }
}
