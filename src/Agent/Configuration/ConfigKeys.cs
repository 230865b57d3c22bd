namespace Platform.Agent.Configuration;

/// <summary>The JSON type a configuration key takes, as said in error messages.</summary>
internal enum ConfigKind
{
    String,
    Bool,
    Int,
    Duration,
    StringList,
    StringMap,
    /// <summary>Any JSON value, read later by its own reader (health checks).</summary>
    Json,
}

/// <summary>
/// Every key a configuration file may hold: Serf's agent keys (used or accepted and ignored) and Platform's own.
/// One table, so the parser, the ignored-key log and docs/agent.md speak of the same keys.
/// </summary>
internal static class ConfigKeys
{
    /// <summary>A key that sets a value of <see cref="AgentConfig"/>.</summary>
    public sealed record Used(ConfigKind Kind, Action<AgentConfig, object> Set);

    public static readonly IReadOnlyDictionary<string, Used> Supported = new Dictionary<string, Used>(StringComparer.Ordinal)
    {
        ["node_name"] = new(ConfigKind.String, (c, v) => c.NodeName = (string)v),
        ["role"] = new(ConfigKind.String, (c, v) => c.Role = (string)v),
        ["tags"] = new(ConfigKind.StringMap, (c, v) => c.Tags = (Dictionary<string, string>)v),
        ["tags_file"] = new(ConfigKind.String, (c, v) => c.TagsFile = (string)v),
        ["event_handlers"] = new(ConfigKind.StringList, (c, v) => c.EventHandlers = (List<string>)v),
        ["log_level"] = new(ConfigKind.String, (c, v) => c.LogLevel = (string)v),
        ["protocol"] = new(ConfigKind.Int, (c, v) => c.Protocol = (int)v),
        ["bind"] = new(ConfigKind.String, (c, v) => c.Bind = (string)v),
        ["advertise"] = new(ConfigKind.String, (c, v) => c.Advertise = (string)v),
        ["leave_on_terminate"] = new(ConfigKind.Bool, (c, v) => c.LeaveOnTerminate = (bool)v),
        ["skip_leave_on_interrupt"] = new(ConfigKind.Bool, (c, v) => c.SkipLeaveOnInterrupt = (bool)v),
        ["snapshot_path"] = new(ConfigKind.String, (c, v) => c.SnapshotPath = (string)v),
        ["query_response_size_limit"] = new(ConfigKind.Int, (c, v) => c.QueryResponseSizeLimit = (int)v),
        ["servers"] = new(ConfigKind.StringList, (c, v) => c.Servers = (List<string>)v),
        ["data_dir"] = new(ConfigKind.String, (c, v) => c.DataDir = (string)v),
        ["ca_file"] = new(ConfigKind.String, (c, v) => c.CaFile = (string)v),
        ["token"] = new(ConfigKind.String, (c, v) => c.Token = (string)v),
        ["cert_file"] = new(ConfigKind.String, (c, v) => c.CertFile = (string)v),
        ["key_file"] = new(ConfigKind.String, (c, v) => c.KeyFile = (string)v),
        ["heartbeat_interval"] = new(ConfigKind.Duration, (c, v) => c.HeartbeatInterval = (TimeSpan)v),
        ["connect_timeout"] = new(ConfigKind.Duration, (c, v) => c.ConnectTimeout = (TimeSpan)v),
        ["handler_timeout"] = new(ConfigKind.Duration, (c, v) => c.HandlerTimeout = (TimeSpan)v),
        ["handler_concurrency"] = new(ConfigKind.Int, (c, v) => c.HandlerConcurrency = (int)v),
        ["coalesce_period"] = new(ConfigKind.Duration, (c, v) => c.CoalescePeriod = (TimeSpan)v),
        ["quiescent_period"] = new(ConfigKind.Duration, (c, v) => c.QuiescentPeriod = (TimeSpan)v),
        ["user_coalesce_period"] = new(ConfigKind.Duration, (c, v) => c.UserCoalescePeriod = (TimeSpan)v),
        ["user_quiescent_period"] = new(ConfigKind.Duration, (c, v) => c.UserQuiescentPeriod = (TimeSpan)v),
        // Consul's health check keys (docs/checks.md): one check object, or an array of them.
        ["check"] = new(ConfigKind.Json, (c, v) => c.Checks.Add((System.Text.Json.JsonElement)v)),
        ["checks"] = new(ConfigKind.Json, (c, v) => c.Checks.Add((System.Text.Json.JsonElement)v)),
        ["enable_local_script_checks"] = new(ConfigKind.Bool, (c, v) => c.EnableLocalScriptChecks = (bool)v),
        ["enable_script_checks"] = new(ConfigKind.Bool, (c, v) => c.EnableScriptChecks = (bool)v),
        // Build jobs (docs/builds.md, "Jobs on agents").
        ["build_slots"] = new(ConfigKind.Int, (c, v) => c.BuildSlots = (int)v),
        ["build_engine"] = new(ConfigKind.String, (c, v) => c.BuildEngine = (string)v),
        ["build_repositories"] = new(ConfigKind.StringList, (c, v) => c.BuildRepositories = (List<string>)v),
        ["build_cancel_grace"] = new(ConfigKind.Duration, (c, v) => c.BuildCancelGrace = (TimeSpan)v),
        ["enable_deploys"] = new(ConfigKind.Bool, (c, v) => c.EnableDeploys = (bool)v),
        ["deploy_cancel_grace"] = new(ConfigKind.Duration, (c, v) => c.DeployCancelGrace = (TimeSpan)v),
    };

    /// <summary>Serf's keys that have no meaning with a silo (gossip, RPC, encryption, discovery): accepted, checked for type, ignored.</summary>
    public static readonly IReadOnlyDictionary<string, ConfigKind> Ignored = new Dictionary<string, ConfigKind>(StringComparer.Ordinal)
    {
        ["disable_coordinates"] = ConfigKind.Bool,
        ["encrypt_key"] = ConfigKind.String,
        ["keyring_file"] = ConfigKind.String,
        ["rpc_addr"] = ConfigKind.String,
        ["rpc_auth"] = ConfigKind.String,
        ["replay_on_join"] = ConfigKind.Bool,
        ["query_size_limit"] = ConfigKind.Int,
        ["start_join"] = ConfigKind.StringList,
        ["retry_join"] = ConfigKind.StringList,
        ["retry_max_attempts"] = ConfigKind.Int,
        ["retry_interval"] = ConfigKind.Duration,
        ["profile"] = ConfigKind.String,
        ["profile_path"] = ConfigKind.String,
        ["discover"] = ConfigKind.String,
        ["interface"] = ConfigKind.String,
        ["reconnect_interval"] = ConfigKind.Duration,
        ["reconnect_timeout"] = ConfigKind.Duration,
        ["tombstone_timeout"] = ConfigKind.Duration,
        ["disable_name_resolution"] = ConfigKind.Bool,
        ["enable_syslog"] = ConfigKind.Bool,
        ["syslog_facility"] = ConfigKind.String,
        ["rejoin_after_leave"] = ConfigKind.Bool,
        ["statsite_addr"] = ConfigKind.String,
        ["statsd_addr"] = ConfigKind.String,
        ["broadcast_timeout"] = ConfigKind.Duration,
        ["enable_compression"] = ConfigKind.Bool,
        ["mdns"] = ConfigKind.Json,
        // The limit is the silo's (Platform:Nodes:UserEventSizeLimit): events are fired there, not by the agent.
        ["user_event_size_limit"] = ConfigKind.Int,
    };

    public static string Describe(ConfigKind kind) => kind switch
    {
        ConfigKind.String => "a string",
        ConfigKind.Bool => "true or false",
        ConfigKind.Int => "an integer",
        ConfigKind.Duration => "a duration string such as \"500ms\", \"3s\" or \"1m30s\"",
        ConfigKind.StringList => "an array of strings",
        ConfigKind.StringMap => "an object of string values",
        ConfigKind.Json => "a JSON value",
        _ => kind.ToString(),
    };
}
