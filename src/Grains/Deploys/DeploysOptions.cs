namespace Platform.Grains.Deploys;

/// <summary>Tunables of the deploy history (section <c>Platform:Deploys</c>; docs/deploys.md, "History").</summary>
public sealed class DeploysOptions
{
    public const string Section = "Platform:Deploys";

    /// <summary>Deploys kept per target (its description, <see cref="DeployTarget.Describe"/>). Default 100.</summary>
    public int HistoryPerTarget { get; set; } = 100;

    /// <summary>Deploys of any target kept for the unfiltered history. Default 200.</summary>
    public int HistoryRecent { get; set; } = 200;

    /// <summary>Targets a <c>target=</c> search looks through, those deployed to most recently. Default 1,000.</summary>
    public int HistoryTargets { get; set; } = 1000;

    /// <summary>Null when every value is in range, else the first that is not.</summary>
    public string? Validate()
    {
        if (HistoryPerTarget < 1) return $"Platform:Deploys:HistoryPerTarget is {HistoryPerTarget}; expected at least 1";
        if (HistoryRecent < 1) return $"Platform:Deploys:HistoryRecent is {HistoryRecent}; expected at least 1";
        if (HistoryTargets < 1) return $"Platform:Deploys:HistoryTargets is {HistoryTargets}; expected at least 1";
        return null;
    }
}
