namespace Platform.Grains.Rules;

/// <summary>What a rule did for one occurrence of its trigger: the trigger's facts, each action's result, and the outcome.</summary>
public sealed record RuleRun(
    string Id,
    string RuleId,
    string Trigger,
    string Occurrence,
    Dictionary<string, string> Facts,
    int Depth,
    DateTimeOffset At,
    DateTimeOffset? Finished,
    string Outcome,
    List<RuleActionResult> Actions,
    string? Error);

/// <summary>One action of a run: <see cref="Outcome"/> is <c>succeeded</c>, <c>failed</c> or <c>skipped</c> (already done before a restart).</summary>
public sealed record RuleActionResult(string Type, string Outcome, string? Detail, string? Error);

/// <summary>Run and action outcomes.</summary>
public static class RuleOutcomes
{
    public const string Pending = "pending";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Skipped = "skipped";
}

/// <summary>
/// An occurrence recorded with what it must do, before anything is done: on a restart the engine finishes it.
/// <see cref="Baselines"/> hold, per action, what the target looked like before (a key's modified index, the fleet's
/// user-event Lamport time), so that a finished action is recognized and not done twice.
/// </summary>
public sealed record RuleIntent(
    string Id,
    string RuleId,
    string Trigger,
    string Occurrence,
    Dictionary<string, string> Facts,
    int Depth,
    DateTimeOffset At,
    List<RuleAction> Actions,
    List<ulong> Baselines);

/// <summary>An occurrence one of the engine's own actions caused (a key write, an event, a build), with the chain depth it carries.</summary>
public sealed record RuleProduced(string Occurrence, int Depth);

/// <summary>The engine's durable state: feed cursors, recorded intents, recent occurrences (for dedupe), runs per rule.</summary>
public sealed class RuleEngineState
{
    /// <summary>The last keyspace index the engine handled; null while no rule watches keys.</summary>
    public ulong? KeyCursor { get; set; }

    /// <summary>The last user-event Lamport time the engine handled; null while no rule listens to user events.</summary>
    public ulong? EventCursor { get; set; }

    public List<RuleIntent> Pending { get; set; } = [];

    /// <summary>Intent ids (occurrence and rule) already handled, oldest first.</summary>
    public List<string> Recent { get; set; } = [];

    public List<RuleProduced> Produced { get; set; } = [];

    /// <summary>The latest runs of each rule, oldest first.</summary>
    public Dictionary<string, List<RuleRun>> Runs { get; set; } = [];
}
