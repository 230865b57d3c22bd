using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Net;
using Microsoft.Extensions.Logging;
using Platform.Agent.Handlers;
using Platform.Protocol;

namespace Platform.Agent.Configuration;

/// <summary>The agent's configuration resolved: defaults applied, every value checked, handlers parsed.</summary>
public sealed record AgentSettings
{
    /// <summary>The node's name.</summary>
    public required string NodeName { get; init; }

    /// <summary>The node's tags at start (the <c>role</c> key included).</summary>
    public required IReadOnlyDictionary<string, string> Tags { get; init; }

    /// <summary>Where tags are persisted, or null.</summary>
    public string? TagsFile { get; init; }

    /// <summary>The handlers in configuration order.</summary>
    public required IReadOnlyList<EventScript> Handlers { get; init; }

    /// <summary>The least level logged.</summary>
    public LogLevel LogLevel { get; init; } = LogLevel.Information;

    /// <summary>The Serf protocol version reported.</summary>
    public int Protocol { get; init; } = AgentProtocol.Version;

    /// <summary>The address reported to the silo (an IP, or the advertised host).</summary>
    public required string Address { get; init; }

    /// <summary>The port reported to the silo.</summary>
    public int Port { get; init; } = AgentConfig.DefaultBindPort;

    /// <summary>Silo base URLs, tried in order.</summary>
    public required IReadOnlyList<Uri> Servers { get; init; }

    /// <summary>Where the last applied user event is kept.</summary>
    public required string DataDir { get; init; }

    /// <summary>The access token sent to the silo (<c>token</c>, <c>-token</c>, else <c>PLATFORM_TOKEN</c>), or null.</summary>
    public string? Token { get; init; }

    /// <summary>TLS files: CA bundle, client certificate and its key (each may be null).</summary>
    public string? CaFile { get; init; }

    /// <inheritdoc cref="CaFile"/>
    public string? CertFile { get; init; }

    /// <inheritdoc cref="CaFile"/>
    public string? KeyFile { get; init; }

    /// <summary>Ping interval until the silo's welcome says its own.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = AgentProtocol.DefaultHeartbeatInterval;

    /// <summary>Time to open a socket and get a welcome.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Handlers still running after this long are killed with their process group; null for none.</summary>
    public TimeSpan? HandlerTimeout { get; init; }

    /// <summary>Member and user events handled at once; queries have their own lane of the same size.</summary>
    public int HandlerConcurrency { get; init; } = 1;

    /// <summary>Health checks the agent runs and reports (docs/checks.md).</summary>
    public IReadOnlyList<Checks.CheckDefinition> Checks { get; init; } = [];

    /// <summary>Whether checks may run commands (Consul's <c>enable_local_script_checks</c>).</summary>
    public bool EnableScriptChecks { get; init; }

    /// <summary>Whether checks registered through the API may run commands (Consul's <c>enable_script_checks</c>).</summary>
    public bool EnableApiScriptChecks { get; init; }

    /// <summary>Whether the node runs cluster deploys sent by the silos (<c>enable_deploys</c>); refused otherwise.</summary>
    public bool EnableDeploys { get; init; }

    /// <summary>Member event coalescing (Serf agent: 3 s and 1 s); a zero period turns it off.</summary>
    public TimeSpan CoalescePeriod { get; init; } = TimeSpan.FromSeconds(3);

    /// <inheritdoc cref="CoalescePeriod"/>
    public TimeSpan QuiescentPeriod { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>User event coalescing (Serf agent: 3 s and 1 s); a zero period turns it off.</summary>
    public TimeSpan UserCoalescePeriod { get; init; } = TimeSpan.FromSeconds(3);

    /// <inheritdoc cref="UserCoalescePeriod"/>
    public TimeSpan UserQuiescentPeriod { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Largest query response sent, in bytes.</summary>
    public int QueryResponseSizeLimit { get; init; } = 1024;

    /// <summary>Build jobs run at once (<c>build_slots</c>).</summary>
    public int BuildSlots { get; init; }

    /// <summary>The container engine for steps with an image (<c>build_engine</c>); null: this agent takes no such step.</summary>
    public Platform.Builds.Running.ContainerEngine? BuildEngine { get; init; }

    /// <summary>Patterns of the repository URLs this agent builds (<c>build_repositories</c>); empty: any.</summary>
    public IReadOnlyList<string> BuildRepositories { get; init; } = [];

    /// <summary>SIGTERM to SIGKILL for a cancelled or timed-out job whose frame names no grace (<c>build_cancel_grace</c>).</summary>
    public TimeSpan BuildCancelGrace { get; init; } = Platform.Builds.Running.JobSpec.DefaultCancelGrace;

    /// <summary>SIGTERM to SIGKILL for a cluster deploy's command stopped by a cancel or timeout (<c>deploy_cancel_grace</c>).</summary>
    public TimeSpan DeployCancelGrace { get; init; } = Platform.Agent.Deploy.StretchOptions.DefaultCancelGrace;

    /// <summary>SIGINT exits without a graceful leave.</summary>
    public bool SkipLeaveOnInterrupt { get; init; }

    /// <summary>SIGTERM leaves gracefully (default); false: it exits without a leave, as Serf's default.</summary>
    public bool LeaveOnTerminate { get; init; } = true;

    /// <summary>Reads the flags and every config file they name, merges them as Serf does (files in order, flags last) and resolves the result.</summary>
    public static AgentSettings Load(CommandLine commandLine, ILogger? logger = null)
    {
        var merged = new AgentConfig();
        foreach (var (path, isDirectory) in commandLine.ConfigPaths)
            merged = AgentConfig.Merge(merged, isDirectory ? ConfigFile.ReadDirectory(path, logger) : ConfigFile.Read(path, logger));
        merged = AgentConfig.Merge(merged, commandLine.Flags);
        return Resolve(merged);
    }

    /// <summary>Applies defaults and checks every value; throws <see cref="ConfigException"/> naming the key and what was expected.</summary>
    public static AgentSettings Resolve(AgentConfig config)
    {
        var nodeName = string.IsNullOrWhiteSpace(config.NodeName) ? Dns.GetHostName() : config.NodeName;

        var tags = new Dictionary<string, string>(config.Tags, StringComparer.Ordinal);
        if (!string.IsNullOrEmpty(config.Role)) tags["role"] = config.Role;
        if (config.TagsFile is not null)
        {
            // Serf's rule: tags come from the flags or config, or from the tags file, never both.
            if (tags.Count > 0)
                throw new ConfigException($"tags_file '{config.TagsFile}': tags (tags, role, -tag, -role) are not allowed while using a tags file");
            tags = new Dictionary<string, string>(Configuration.TagsFile.Read(config.TagsFile), StringComparer.Ordinal);
        }

        var handlers = new List<EventScript>();
        foreach (var entry in config.EventHandlers)
        {
            try { handlers.AddRange(EventScript.Parse(entry)); }
            catch (FormatException e) { throw new ConfigException(config.From($"event_handlers:{entry}") + e.Message); }
        }

        var servers = new List<Uri>();
        foreach (var server in config.Servers)
        {
            if (!Uri.TryCreate(server, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https" or "ws" or "wss"))
                throw new ConfigException($"{config.From($"servers:{server}")}servers: '{server}' is not a silo URL; expected http://host:port, https://…, ws://… or wss://…");
            servers.Add(uri);
        }
        if (servers.Count == 0)
            throw new ConfigException("servers: none given; expected 'servers' in a config file or -server URL (a silo such as http://10.0.0.1:8080)");

        var (bindHost, bindPort) = Named(config, "bind", () => HostPort("bind", config.Bind));
        var (advertiseHost, advertisePort) = Named(config, "advertise", () => HostPort("advertise", config.Advertise));
        var address = advertiseHost ?? (bindHost is null or "0.0.0.0" or "::" or "[::]" ? FirstNonLoopbackIPv4() : bindHost);

        if (config.CertFile is null != (config.KeyFile is null))
            throw new ConfigException($"{config.From(config.CertFile is null ? "key_file" : "cert_file")}cert_file and key_file: give both (the client certificate and its private key) or neither");

        var concurrency = config.HandlerConcurrency ?? 1;
        if (concurrency < 1) throw new ConfigException($"{config.From("handler_concurrency")}handler_concurrency: {concurrency}; expected 1 or more");
        var responseLimit = config.QueryResponseSizeLimit ?? 1024;
        if (responseLimit < 1) throw new ConfigException($"{config.From("query_response_size_limit")}query_response_size_limit: {responseLimit}; expected 1 or more bytes");
        var heartbeat = config.HeartbeatInterval ?? AgentProtocol.DefaultHeartbeatInterval;
        if (heartbeat <= TimeSpan.Zero) throw new ConfigException($"{config.From("heartbeat_interval")}heartbeat_interval: {heartbeat}; expected more than zero");
        var connectTimeout = config.ConnectTimeout ?? TimeSpan.FromSeconds(5);
        if (connectTimeout <= TimeSpan.Zero) throw new ConfigException($"{config.From("connect_timeout")}connect_timeout: {connectTimeout}; expected more than zero");

        var dataDir = config.DataDir
            ?? (config.SnapshotPath is { } snapshot ? Path.GetDirectoryName(Path.GetFullPath(snapshot))! : Path.GetFullPath("agent-data"));

        // As in Consul, enable_script_checks allows script checks from anywhere, enable_local_script_checks from the configuration only.
        var checkOptions = new Checks.CheckOptions { EnableScriptChecks = config.EnableLocalScriptChecks || config.EnableScriptChecks };
        var checks = new List<Checks.CheckDefinition>();
        foreach (var element in config.Checks)
        {
            try
            {
                checks.AddRange(Platform.Agent.Checks.CheckDefinitionReader.Read(element, checkOptions));
            }
            catch (Checks.CheckDefinitionException e)
            {
                throw new ConfigException($"health checks: {e.Message}");
            }
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var check in checks)
            if (!seen.Add(check.Id))
                throw new ConfigException($"health checks: check id '{check.Id}' is defined twice; expected each check to have its own id");

        // A build runs repository code on this node: an agent takes build jobs only when its configuration says how many.
        var buildSlots = config.BuildSlots ?? 0;
        if (buildSlots < 0) throw new ConfigException($"{config.From("build_slots")}build_slots: {buildSlots}; expected 0 (takes no build jobs) or more");
        var engine = Platform.Builds.Running.ContainerEngine.Find(config.BuildEngine);
        if (engine is null && config.BuildEngine is { Length: > 0 } named && named != "none")
            throw new ConfigException($"{config.From("build_engine")}build_engine: '{named}' is not found (on PATH, or as a file); expected podman, docker, the path of one, or none");
        var cancelGrace = config.BuildCancelGrace ?? Platform.Builds.Running.JobSpec.DefaultCancelGrace;
        if (cancelGrace < TimeSpan.Zero) throw new ConfigException($"{config.From("build_cancel_grace")}build_cancel_grace: {cancelGrace}; expected 0 or more");
        var deployGrace = config.DeployCancelGrace ?? Platform.Agent.Deploy.StretchOptions.DefaultCancelGrace;
        if (deployGrace < TimeSpan.Zero) throw new ConfigException($"{config.From("deploy_cancel_grace")}deploy_cancel_grace: {deployGrace}; expected 0 or more");

        return new AgentSettings
        {
            BuildSlots = buildSlots,
            BuildEngine = engine,
            BuildCancelGrace = cancelGrace,
            DeployCancelGrace = deployGrace,
            BuildRepositories = config.BuildRepositories,
            Checks = checks,
            EnableScriptChecks = config.EnableLocalScriptChecks || config.EnableScriptChecks,
            EnableApiScriptChecks = config.EnableScriptChecks,
            EnableDeploys = config.EnableDeploys,
            NodeName = nodeName,
            Tags = tags,
            TagsFile = config.TagsFile,
            Handlers = handlers,
            LogLevel = Named(config, "log_level", () => ParseLogLevel(config.LogLevel)),
            Protocol = config.Protocol ?? AgentProtocol.Version,
            Address = address,
            Port = advertisePort ?? bindPort ?? AgentConfig.DefaultBindPort,
            Servers = servers,
            DataDir = dataDir,
            CaFile = config.CaFile,
            Token = !string.IsNullOrWhiteSpace(config.Token) ? config.Token.Trim()
                : Environment.GetEnvironmentVariable("PLATFORM_TOKEN") is { Length: > 0 } fromEnvironment ? fromEnvironment.Trim() : null,
            CertFile = config.CertFile,
            KeyFile = config.KeyFile,
            HeartbeatInterval = heartbeat,
            ConnectTimeout = connectTimeout,
            HandlerTimeout = config.HandlerTimeout is { } timeout && timeout > TimeSpan.Zero ? timeout : null,
            HandlerConcurrency = concurrency,
            CoalescePeriod = config.CoalescePeriod ?? TimeSpan.FromSeconds(3),
            QuiescentPeriod = config.QuiescentPeriod ?? TimeSpan.FromSeconds(1),
            UserCoalescePeriod = config.UserCoalescePeriod ?? TimeSpan.FromSeconds(3),
            UserQuiescentPeriod = config.UserQuiescentPeriod ?? TimeSpan.FromSeconds(1),
            QueryResponseSizeLimit = responseLimit,
            SkipLeaveOnInterrupt = config.SkipLeaveOnInterrupt,
            LeaveOnTerminate = config.LeaveOnTerminate ?? true,
        };
    }

    /// <summary>Runs <paramref name="check"/>; its error starts with where <paramref name="key"/> was set.</summary>
    private static T Named<T>(AgentConfig config, string key, Func<T> check)
    {
        try { return check(); }
        catch (ConfigException e) { throw new ConfigException(config.From(key) + e.Message); }
    }

    /// <summary>Serf's level names (and .NET's); throws naming the value when it is none of them.</summary>
    public static LogLevel ParseLogLevel(string? text) => text?.ToUpperInvariant() switch
    {
        null or "" or "INFO" or "INFORMATION" => LogLevel.Information,
        "TRACE" => LogLevel.Trace,
        "DEBUG" => LogLevel.Debug,
        "WARN" or "WARNING" => LogLevel.Warning,
        "ERR" or "ERROR" => LogLevel.Error,
        _ => throw new ConfigException($"log_level: '{text}'; expected trace, debug, info, warn or err"),
    };

    private static (string? Host, int? Port) HostPort(string key, string? text)
    {
        if (string.IsNullOrEmpty(text)) return (null, null);
        string host = text;
        string? port = null;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']');
            if (close < 0) throw new ConfigException($"{key}: '{text}'; expected ip[:port] or [ipv6]:port");
            host = text[1..close];
            if (close + 1 < text.Length)
            {
                if (text[close + 1] != ':') throw new ConfigException($"{key}: '{text}'; expected ip[:port] or [ipv6]:port");
                port = text[(close + 2)..];
            }
        }
        else if (text.Count(c => c == ':') == 1)
        {
            var colon = text.IndexOf(':');
            host = text[..colon];
            port = text[(colon + 1)..];
        }
        if (host.Length == 0) throw new ConfigException($"{key}: '{text}' has no address; expected ip[:port]");
        if (port is null) return (host, null);
        return int.TryParse(port, out var number) && number is > 0 and < 65536
            ? (host, number)
            : throw new ConfigException($"{key}: '{text}' has port '{port}'; expected a number from 1 to 65535");
    }

    /// <summary>As Serf picks its advertise address when bound to every interface: the first private, else public, non-loopback IPv4.</summary>
    private static string FirstNonLoopbackIPv4()
    {
        try
        {
            foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
            {
                if (nic.OperationalStatus != OperationalStatus.Up || nic.NetworkInterfaceType == NetworkInterfaceType.Loopback) continue;
                foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
                    if (unicast.Address.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(unicast.Address))
                        return unicast.Address.ToString();
            }
        }
        catch (NetworkInformationException)
        {
            // No interface list (a sandbox): fall back to loopback as below.
        }
        return IPAddress.Loopback.ToString();
    }
}
