namespace Platform.Grains.Rules;

/// <summary>The rule engine's settings (section <c>Platform:Rules</c>).</summary>
public sealed class RulesOptions
{
    public const string Section = "Platform:Rules";

    /// <summary>How many rule actions may follow each other (an action triggering a rule whose action triggers another…) before the chain is stopped. Default 8.</summary>
    public int MaxChainDepth { get; set; } = 8;

    /// <summary>Runs kept per rule (<c>GET /v1/rules/{id}/runs</c>). Default 20.</summary>
    public int RunsKept { get; set; } = 20;

    /// <summary>Handled occurrences remembered to refuse a redelivery (a hook delivered twice, a build reported twice). Default 1,000.</summary>
    public int RecentOccurrences { get; set; } = 1000;

    /// <summary>How often the engine renews its subscriptions to the keyspace and the fleet and catches up. Default 1 s.</summary>
    public TimeSpan RenewInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often each silo wakes the engine (which keeps it active, and after a restart finishes what it recorded). Default 10 s.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long one action (a key write, an event, a build or deploy start) may take. Default 30 s.</summary>
    public TimeSpan ActionTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Null when the settings are usable, else what is wrong.</summary>
    public string? Validate()
    {
        if (MaxChainDepth < 1) return $"Platform:Rules:MaxChainDepth is {MaxChainDepth}; expected at least 1";
        if (RunsKept < 1) return $"Platform:Rules:RunsKept is {RunsKept}; expected at least 1";
        if (RecentOccurrences < 1) return $"Platform:Rules:RecentOccurrences is {RecentOccurrences}; expected at least 1";
        if (RenewInterval <= TimeSpan.Zero || KeepAliveInterval <= TimeSpan.Zero || ActionTimeout <= TimeSpan.Zero)
            return "Platform:Rules: RenewInterval, KeepAliveInterval and ActionTimeout must be positive";
        return null;
    }
}
