namespace Platform.Agent;

/// <summary>What <c>platform agent</c> exits with (docs/agent.md).</summary>
public static class AgentExitCodes
{
    /// <summary>Left gracefully (a signal, or the silo asked the node to leave), or -help.</summary>
    public const int Ok = 0;

    /// <summary>A fatal error while running (data directory unusable, TLS files unreadable, a second signal forced the exit), or a signal that exits without a leave (as Serf).</summary>
    public const int Error = 1;

    /// <summary>Bad flags or configuration: the message names the file, key or flag and what was expected.</summary>
    public const int ConfigError = 2;

    /// <summary>A silo refused the agent (close 4001, e.g. its name is taken by a live node); it is not retried.</summary>
    public const int Refused = 3;
}
