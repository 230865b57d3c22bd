namespace Platform.Grains.Nodes;

/// <summary>Tunables of nodes, agents, events and queries (section <c>Platform:Nodes</c>); defaults follow Serf's where Serf has one.</summary>
public sealed class NodesOptions
{
    public const string Section = "Platform:Nodes";

    /// <summary>How often agents ping (sent in the welcome). Default 400 ms.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromMilliseconds(400);

    /// <summary>A connection silent this long (three intervals) is closed and its node failed. Default 1,200 ms: a hung agent is failed within 1.25 s of its last ping.</summary>
    public TimeSpan HeartbeatTimeout { get; set; } = TimeSpan.FromMilliseconds(1200);

    /// <summary>
    /// The silo answers a ping only when it has sent the agent nothing for this long (sent in the welcome): any frame
    /// tells the agent that the silo is alive, so an idle agent gets a pong for about every second ping and none while
    /// other frames reach it. The agent allows this much more silence. Default 500 ms; 0 answers every ping.
    /// </summary>
    public TimeSpan PongAfter { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How often a hub scans its connections for missed heartbeats. Default 50 ms.</summary>
    public TimeSpan HeartbeatCheckInterval { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>An agent must send its hello within this time after the upgrade. Default 10 s.</summary>
    public TimeSpan HelloTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A hub that has not renewed its subscription this long is gone; its nodes that did not reconnect elsewhere are failed. Default 3 s.</summary>
    public TimeSpan OrphanGrace { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>How long a failed or left node stays listed before member-reap (Serf's reconnect timeout). Default 24 h.</summary>
    public TimeSpan ReconnectTimeout { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How often the fleet looks for orphaned and reapable nodes. Default 500 ms.</summary>
    public TimeSpan FleetCheckInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Largest user event, name + payload, in bytes (Serf's UserEventSizeLimit). Default 512.</summary>
    public int UserEventSizeLimit { get; set; } = 512;

    /// <summary>Largest query, name + payload, in bytes (Serf's QuerySizeLimit). Default 1,024.</summary>
    public int QuerySizeLimit { get; set; } = 1024;

    /// <summary>Largest query response payload in bytes (Serf's QueryResponseSizeLimit); larger ones are dropped. Default 1,024.</summary>
    public int QueryResponseSizeLimit { get; set; } = 1024;

    /// <summary>Serf's gossip interval, the unit of the default query timeout. Default 200 ms.</summary>
    public TimeSpan GossipInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Serf's QueryTimeoutMult: default timeout = GossipInterval × this × ceil(log10(N+1)). Default 16.</summary>
    public int QueryTimeoutMult { get; set; } = 16;

    /// <summary>User events kept for history and for agents that reconnect. Default 1,024.</summary>
    public int UserEventHistory { get; set; } = 1024;

    /// <summary>Fleet events kept for hubs that missed a notification. Default 4,096.</summary>
    public int RecentEvents { get; set; } = 4096;

    /// <summary>Journal records between fleet snapshots. Default 1,000.</summary>
    public int SnapshotEvery { get; set; } = 1000;

    /// <summary>
    /// Agents' applied marks (the last user event each handled) a silo writes to their node grains per second, round-robin;
    /// each agent's at most every 2 s. Default 1,000: at 10,000 agents on one silo a mark shown by the API lags up to 10 s.
    /// </summary>
    public int AppliedWritesPerSecond { get; set; } = 1000;

    /// <summary>Frames queued for one agent before it is disconnected as too slow. Default 1,024.</summary>
    public int SendQueueLimit { get; set; } = 1024;

    /// <summary>Lines queued for one monitor stream before lines are dropped (and counted). Default 1,024.</summary>
    public int MonitorQueueLimit { get; set; } = 1024;

    /// <summary>Null when valid, else what is wrong.</summary>
    public string? Validate()
    {
        if (HeartbeatInterval <= TimeSpan.Zero || HeartbeatTimeout <= HeartbeatInterval)
            return "Platform:Nodes: HeartbeatInterval must be positive and HeartbeatTimeout longer than it";
        if (HeartbeatCheckInterval <= TimeSpan.Zero || FleetCheckInterval <= TimeSpan.Zero || HelloTimeout <= TimeSpan.Zero || OrphanGrace <= TimeSpan.Zero || ReconnectTimeout <= TimeSpan.Zero || GossipInterval <= TimeSpan.Zero)
            return "Platform:Nodes: every interval and timeout must be positive";
        if (PongAfter < TimeSpan.Zero || PongAfter >= HeartbeatTimeout)
            return "Platform:Nodes: PongAfter must be 0 or more and shorter than HeartbeatTimeout";
        if (UserEventSizeLimit < 1 || QuerySizeLimit < 1 || QueryResponseSizeLimit < 1 || QueryTimeoutMult < 1 || UserEventHistory < 1 || RecentEvents < 1 || SnapshotEvery < 1 || SendQueueLimit < 1 || MonitorQueueLimit < 1 || AppliedWritesPerSecond < 1)
            return "Platform:Nodes: size limits, QueryTimeoutMult, UserEventHistory, RecentEvents, SnapshotEvery, queue limits and AppliedWritesPerSecond must be at least 1";
        return null;
    }

    /// <summary>Serf's default query timeout for <paramref name="aliveMembers"/> alive members.</summary>
    public TimeSpan DefaultQueryTimeout(int aliveMembers)
    {
        var scale = Math.Max(1, (int)Math.Ceiling(Math.Log10(aliveMembers + 1)));
        return GossipInterval * QueryTimeoutMult * scale;
    }
}
