namespace Platform.Agent.Configuration;

/// <summary>
/// The agent's configuration: Serf's agent keys where they apply, plus Platform's own (servers, data_dir, TLS,
/// handler limits, coalescing periods). Every key with its default is listed in docs/agent.md.
/// </summary>
public sealed class AgentConfig
{
    /// <summary>Serf's default port, reported as the node's port when <c>bind</c> names none.</summary>
    public const int DefaultBindPort = 7946;

    /// <summary><c>node_name</c>: the node's name; default the machine's host name (as Serf).</summary>
    public string? NodeName { get; set; }

    /// <summary><c>role</c>: Serf's older spelling of the <c>role</c> tag.</summary>
    public string? Role { get; set; }

    /// <summary><c>tags</c>: the node's tags; files merge them key by key.</summary>
    public Dictionary<string, string> Tags { get; set; } = new(StringComparer.Ordinal);

    /// <summary><c>tags_file</c>: tags persisted there and read back on start (as Serf).</summary>
    public string? TagsFile { get; set; }

    /// <summary><c>event_handlers</c>: <c>filter=script</c> entries; files append them.</summary>
    public List<string> EventHandlers { get; set; } = [];

    /// <summary>
    /// Where each key's value came from (<c>config file 'a.json'</c>, <c>flag -bind</c>), with each event handler and
    /// server entry under <c>KEY:ENTRY</c>: values are checked after the merge, and their errors name the file that set them.
    /// </summary>
    public Dictionary<string, string> Sources { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The prefix an error about <paramref name="key"/> starts with: its source and a colon, or nothing when it is not known.</summary>
    public string From(string key) => Sources.TryGetValue(key, out var source) ? source + ": " : "";

    /// <summary><c>log_level</c>: trace, debug, info, warn or err (Serf's names); default info.</summary>
    public string? LogLevel { get; set; }

    /// <summary><c>protocol</c>: the Serf protocol version reported to the silo; default 5.</summary>
    public int? Protocol { get; set; }

    /// <summary><c>bind</c>: <c>ip[:port]</c>; the node's reported address and port when <c>advertise</c> is not set.</summary>
    public string? Bind { get; set; }

    /// <summary><c>advertise</c>: <c>ip[:port]</c> reported to the silo as the node's address.</summary>
    public string? Advertise { get; set; }

    /// <summary>
    /// <c>leave_on_terminate</c>: whether SIGTERM leaves gracefully. Unset, it does (a stopped service is not a failed
    /// node); set to false, SIGTERM exits without a leave, as Serf's default does.
    /// </summary>
    public bool? LeaveOnTerminate { get; set; }

    /// <summary><c>skip_leave_on_interrupt</c>: SIGINT exits without a graceful leave (the node goes failed).</summary>
    public bool SkipLeaveOnInterrupt { get; set; }

    /// <summary><c>snapshot_path</c>: Serf's snapshot file; its folder is the default <c>data_dir</c>.</summary>
    public string? SnapshotPath { get; set; }

    /// <summary><c>query_response_size_limit</c>: largest query response sent, in bytes (Serf's default 1024).</summary>
    public int? QueryResponseSizeLimit { get; set; }

    /// <summary><c>servers</c>: silo base URLs (http, https, ws or wss); tried in order, the next one on any loss.</summary>
    public List<string> Servers { get; set; } = [];

    /// <summary><c>data_dir</c>: where the last applied user event is kept; default the snapshot's folder, else ./agent-data.</summary>
    public string? DataDir { get; set; }

    /// <summary><c>token</c>: the access token (scope <c>agent</c>) sent to the silo when connecting (docs/security.md).</summary>
    public string? Token { get; set; }

    /// <summary><c>ca_file</c>: PEM bundle the silo's certificate must chain to (else the system's roots).</summary>
    public string? CaFile { get; set; }

    /// <summary><c>cert_file</c>: PEM client certificate presented to the silo.</summary>
    public string? CertFile { get; set; }

    /// <summary><c>key_file</c>: PEM private key of <c>cert_file</c>.</summary>
    public string? KeyFile { get; set; }

    /// <summary><c>heartbeat_interval</c>: ping interval until the silo's welcome says its own; default 500ms.</summary>
    public TimeSpan? HeartbeatInterval { get; set; }

    /// <summary><c>connect_timeout</c>: time to open the socket and get a welcome; default 5s.</summary>
    public TimeSpan? ConnectTimeout { get; set; }

    /// <summary><c>handler_timeout</c>: a handler still running after it is killed with its process group; default 0 (none, as Serf).</summary>
    public TimeSpan? HandlerTimeout { get; set; }

    /// <summary><c>handler_concurrency</c>: member and user events handled at once (queries have a lane of the same size); default 1.</summary>
    public int? HandlerConcurrency { get; set; }

    /// <summary><c>coalesce_period</c>: member events are held at most this long; default 3s (Serf's agent); 0 turns member coalescing off.</summary>
    public TimeSpan? CoalescePeriod { get; set; }

    /// <summary><c>quiescent_period</c>: member events flush after this long without a new one; default 1s (Serf's agent).</summary>
    public TimeSpan? QuiescentPeriod { get; set; }

    /// <summary><c>user_coalesce_period</c>: coalescing user events are held at most this long; default 3s; 0 turns it off.</summary>
    public TimeSpan? UserCoalescePeriod { get; set; }

    /// <summary><c>user_quiescent_period</c>: coalescing user events flush after this long without a new one; default 1s.</summary>
    public TimeSpan? UserQuiescentPeriod { get; set; }

    /// <summary>Health check definitions as written (<c>check</c> and <c>checks</c> values, in file order).</summary>
    public List<System.Text.Json.JsonElement> Checks { get; set; } = [];

    /// <summary>Consul's <c>enable_local_script_checks</c>: checks that run commands are refused unless it is true.</summary>
    public bool EnableLocalScriptChecks { get; set; }

    /// <summary>Consul's <c>enable_script_checks</c>: script checks may also come through the API (and from the configuration).</summary>
    public bool EnableScriptChecks { get; set; }

    /// <summary><c>build_slots</c>: build jobs run at once; default 0 (no build jobs: a build runs repository code on the node).</summary>
    public int? BuildSlots { get; set; }

    /// <summary><c>build_engine</c>: the container engine for steps with an image (podman, docker, a path, or none); default podman if on PATH.</summary>
    public string? BuildEngine { get; set; }

    /// <summary><c>build_repositories</c>: patterns (<c>*</c> any run of characters) of the repository URLs this agent builds; files append them; default any.</summary>
    public List<string> BuildRepositories { get; set; } = [];

    /// <summary><c>build_cancel_grace</c>: SIGTERM to SIGKILL for a cancelled or timed-out job that names no grace; default 10s.</summary>
    public TimeSpan? BuildCancelGrace { get; set; }

    /// <summary><c>deploy_cancel_grace</c>: SIGTERM to SIGKILL for a cluster deploy's command stopped by a cancel or timeout; default 5s.</summary>
    public TimeSpan? DeployCancelGrace { get; set; }

    /// <summary><c>enable_deploys</c>: cluster deploys (manifests sent by the silos, which run commands) are refused unless it is true.</summary>
    public bool EnableDeploys { get; set; }

    /// <summary>
    /// Serf's merge: <paramref name="later"/>'s set values win, tags merge key by key, event handlers and servers
    /// append, booleans only turn on (except <c>leave_on_terminate</c>, which a later file may turn off).
    /// </summary>
    public static AgentConfig Merge(AgentConfig earlier, AgentConfig later)
    {
        var result = new AgentConfig
        {
            NodeName = later.NodeName ?? earlier.NodeName,
            Role = later.Role ?? earlier.Role,
            Tags = new Dictionary<string, string>(earlier.Tags, StringComparer.Ordinal),
            TagsFile = later.TagsFile ?? earlier.TagsFile,
            EventHandlers = [.. earlier.EventHandlers, .. later.EventHandlers],
            LogLevel = later.LogLevel ?? earlier.LogLevel,
            Protocol = later.Protocol ?? earlier.Protocol,
            Bind = later.Bind ?? earlier.Bind,
            Advertise = later.Advertise ?? earlier.Advertise,
            LeaveOnTerminate = later.LeaveOnTerminate ?? earlier.LeaveOnTerminate,
            SkipLeaveOnInterrupt = earlier.SkipLeaveOnInterrupt || later.SkipLeaveOnInterrupt,
            SnapshotPath = later.SnapshotPath ?? earlier.SnapshotPath,
            QueryResponseSizeLimit = later.QueryResponseSizeLimit ?? earlier.QueryResponseSizeLimit,
            Servers = [.. earlier.Servers, .. later.Servers],
            DataDir = later.DataDir ?? earlier.DataDir,
            CaFile = later.CaFile ?? earlier.CaFile,
            Token = later.Token ?? earlier.Token,
            CertFile = later.CertFile ?? earlier.CertFile,
            KeyFile = later.KeyFile ?? earlier.KeyFile,
            HeartbeatInterval = later.HeartbeatInterval ?? earlier.HeartbeatInterval,
            ConnectTimeout = later.ConnectTimeout ?? earlier.ConnectTimeout,
            HandlerTimeout = later.HandlerTimeout ?? earlier.HandlerTimeout,
            HandlerConcurrency = later.HandlerConcurrency ?? earlier.HandlerConcurrency,
            CoalescePeriod = later.CoalescePeriod ?? earlier.CoalescePeriod,
            QuiescentPeriod = later.QuiescentPeriod ?? earlier.QuiescentPeriod,
            UserCoalescePeriod = later.UserCoalescePeriod ?? earlier.UserCoalescePeriod,
            UserQuiescentPeriod = later.UserQuiescentPeriod ?? earlier.UserQuiescentPeriod,
            Checks = [.. earlier.Checks, .. later.Checks],
            EnableLocalScriptChecks = earlier.EnableLocalScriptChecks || later.EnableLocalScriptChecks,
            EnableScriptChecks = earlier.EnableScriptChecks || later.EnableScriptChecks,
            BuildSlots = later.BuildSlots ?? earlier.BuildSlots,
            BuildEngine = later.BuildEngine ?? earlier.BuildEngine,
            BuildCancelGrace = later.BuildCancelGrace ?? earlier.BuildCancelGrace,
            BuildRepositories = [.. earlier.BuildRepositories, .. later.BuildRepositories],
            EnableDeploys = earlier.EnableDeploys || later.EnableDeploys,
            DeployCancelGrace = later.DeployCancelGrace ?? earlier.DeployCancelGrace,
        };
        foreach (var (key, value) in later.Tags) result.Tags[key] = value;
        result.Sources = new Dictionary<string, string>(earlier.Sources, StringComparer.Ordinal);
        foreach (var (key, source) in later.Sources) result.Sources[key] = source;
        return result;
    }
}
