using Platform.Agent.Configuration;
using Platform.Agent.Tests.Support;

namespace Platform.Agent.Tests.Configuration;

public sealed class ConfigFileTests
{
    // A Serf agent configuration as teams write it (keys from Serf's "agent configuration" docs), start_join swapped for servers.
    private const string SerfSample = """
        {
          "node_name": "web-1",
          "tags": { "role": "web", "datacenter": "east-aws" },
          "bind": "0.0.0.0:7946",
          "advertise": "10.0.0.5",
          "encrypt_key": "Zxdf1nzrVdtk2K9JGmyQnA==",
          "log_level": "debug",
          "protocol": 4,
          "rpc_addr": "127.0.0.1:7373",
          "event_handlers": [
            "member-join,member-leave=/usr/local/bin/lb-update.sh",
            "user:deploy=/opt/deploy.sh"
          ],
          "replay_on_join": false,
          "snapshot_path": "/var/lib/serf/snapshot",
          "reconnect_timeout": "24h",
          "tombstone_timeout": "24h",
          "leave_on_terminate": true,
          "skip_leave_on_interrupt": false,
          "disable_coordinates": true,
          "enable_compression": true,
          "mdns": { "interface": "eth0", "disable_ipv6": true },
          "user_event_size_limit": 1024,
          "servers": ["http://10.0.0.1:8080", "http://10.0.0.2:8080"]
        }
        """;

    [Fact]
    public void Serf_config_with_servers_instead_of_start_join_is_read()
    {
        var config = ConfigFile.Parse(SerfSample, "web.json");
        var settings = AgentSettings.Resolve(config);

        Assert.Equal("web-1", settings.NodeName);
        Assert.Equal("web", settings.Tags["role"]);
        Assert.Equal("east-aws", settings.Tags["datacenter"]);
        Assert.Equal("10.0.0.5", settings.Address);
        Assert.Equal(7946, settings.Port);
        Assert.Equal(4, settings.Protocol);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Debug, settings.LogLevel);
        Assert.Equal([new Uri("http://10.0.0.1:8080"), new Uri("http://10.0.0.2:8080")], settings.Servers);
        Assert.Equal("/var/lib/serf", settings.DataDir);
        Assert.Equal(3, settings.Handlers.Count);
        Assert.Equal(("member-join", "/usr/local/bin/lb-update.sh"), (settings.Handlers[0].Event, settings.Handlers[0].Script));
        Assert.Equal(("member-leave", "/usr/local/bin/lb-update.sh"), (settings.Handlers[1].Event, settings.Handlers[1].Script));
        Assert.Equal(("user", "deploy", "/opt/deploy.sh"), (settings.Handlers[2].Event, settings.Handlers[2].Name, settings.Handlers[2].Script));
    }

    [Fact]
    public void Consul_check_keys_in_the_agent_config_become_the_agents_health_checks()
    {
        var config = ConfigFile.Parse("""
            {"node_name":"a","servers":["http://s1:8080"],"enable_local_script_checks":true,
             "check":{"id":"disk","name":"Disk","args":["/bin/true"],"interval":"10s"},
             "checks":[{"id":"web","name":"Web","http":"http://127.0.0.1:80/health","interval":"5s"},{"id":"app","name":"App","ttl":"30s"}]}
            """, "checks.json");
        var settings = AgentSettings.Resolve(config);

        Assert.Equal(["disk", "web", "app"], settings.Checks.Select(c => c.Id));
        Assert.True(settings.EnableScriptChecks);
    }

    [Fact]
    public void Enable_script_checks_allows_scripts_from_the_api_and_the_configuration_and_the_local_key_only_from_the_configuration()
    {
        const string script = "\"check\":{\"id\":\"disk\",\"name\":\"Disk\",\"args\":[\"/bin/true\"],\"interval\":\"10s\"}";
        var both = AgentSettings.Resolve(ConfigFile.Parse($$"""{"servers":["http://s1:8080"],"enable_script_checks":true,{{script}}}""", "both.json"));
        Assert.Equal((true, true, 1), (both.EnableScriptChecks, both.EnableApiScriptChecks, both.Checks.Count));

        var local = AgentSettings.Resolve(ConfigFile.Parse($$"""{"servers":["http://s1:8080"],"enable_local_script_checks":true,{{script}}}""", "local.json"));
        Assert.Equal((true, false), (local.EnableScriptChecks, local.EnableApiScriptChecks));

        var error = Assert.Throws<ConfigException>(() => ConfigFile.Parse("""{"servers":["http://s1:8080"],"enable_script_checks":"yes"}""", "bad.json"));
        Assert.Contains("enable_script_checks", error.Message);
    }

    [Fact]
    public void A_script_check_without_enable_local_script_checks_is_refused_and_a_repeated_id_too()
    {
        var script = ConfigFile.Parse("""{"servers":["http://s1:8080"],"check":{"id":"disk","name":"Disk","args":["/bin/true"],"interval":"10s"}}""", "a.json");
        var error = Assert.Throws<ConfigException>(() => AgentSettings.Resolve(script));
        Assert.Contains("enable_local_script_checks", error.Message);

        var twice = AgentConfig.Merge(
            ConfigFile.Parse("""{"servers":["http://s1:8080"],"check":{"id":"app","name":"App","ttl":"30s"}}""", "1.json"),
            ConfigFile.Parse("""{"checks":[{"id":"app","name":"App again","ttl":"10s"}]}""", "2.json"));
        error = Assert.Throws<ConfigException>(() => AgentSettings.Resolve(twice));
        Assert.Contains("check id 'app' is defined twice", error.Message);
    }

    [Fact]
    public void A_negative_duration_is_refused_naming_the_key()
    {
        var error = Assert.Throws<ConfigException>(() => ConfigFile.Parse("""{"servers":["http://s1:8080"],"heartbeat_interval":"-1s"}""", "neg.json"));
        Assert.Contains("'heartbeat_interval'", error.Message);
        Assert.Contains("neg.json", error.Message);
    }

    [Fact]
    public void Start_join_is_accepted_and_ignored_but_servers_are_still_required()
    {
        var config = ConfigFile.Parse("""{"node_name":"a","start_join":["10.0.0.1:7946"]}""", "old.json");
        var error = Assert.Throws<ConfigException>(() => AgentSettings.Resolve(config));
        Assert.StartsWith("servers: none given", error.Message);
    }

    [Fact]
    public void Later_files_win_tags_merge_and_handlers_append_in_lexical_order_of_a_config_dir()
    {
        using var dir = new TempDir();
        dir.File("10-base.json", """{"node_name":"a","tags":{"role":"web","dc":"east"},"event_handlers":["one.sh"],"servers":["http://s1:8080"]}""");
        dir.File("20-override.json", """{"node_name":"b","tags":{"dc":"west","rack":"r1"},"event_handlers":["user=two.sh"],"log_level":"warn"}""");
        dir.File("30-ignored.txt", "not json at all");
        Directory.CreateDirectory(Path.Combine(dir.Path, "sub.json"));

        var settings = AgentSettings.Resolve(ConfigFile.ReadDirectory(dir.Path));

        Assert.Equal("b", settings.NodeName);
        Assert.Equal(new Dictionary<string, string> { ["role"] = "web", ["dc"] = "west", ["rack"] = "r1" }, settings.Tags);
        Assert.Equal(["one.sh", "two.sh"], settings.Handlers.Select(h => h.Script));
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, settings.LogLevel);
    }

    [Fact]
    public void Flags_are_merged_after_every_config_file_and_win()
    {
        using var dir = new TempDir();
        var file = dir.File("a.json", """{"node_name":"from-file","tags":{"role":"web"},"servers":["http://s1:8080"],"event_handlers":["a.sh"]}""");
        var commandLine = CommandLine.Parse(["-config-file", file, "-node=from-flag", "-tag", "role=db", "-server", "http://s2:8080", "-event-handler", "b.sh"]);

        var settings = AgentSettings.Load(commandLine);

        Assert.Equal("from-flag", settings.NodeName);
        Assert.Equal("db", settings.Tags["role"]);
        Assert.Equal([new Uri("http://s1:8080"), new Uri("http://s2:8080")], settings.Servers);
        Assert.Equal(["a.sh", "b.sh"], settings.Handlers.Select(h => h.Script));
    }

    [Fact]
    public void Defaults_are_serfs_where_serf_has_one()
    {
        var settings = AgentSettings.Resolve(new AgentConfig { Servers = ["http://s1:8080"] });

        Assert.Equal(System.Net.Dns.GetHostName(), settings.NodeName);
        Assert.Equal(7946, settings.Port);
        Assert.Equal(5, settings.Protocol);
        Assert.Equal(TimeSpan.FromSeconds(3), settings.CoalescePeriod);
        Assert.Equal(TimeSpan.FromSeconds(1), settings.QuiescentPeriod);
        Assert.Equal(TimeSpan.FromSeconds(3), settings.UserCoalescePeriod);
        Assert.Equal(TimeSpan.FromSeconds(1), settings.UserQuiescentPeriod);
        Assert.Equal(1, settings.HandlerConcurrency);
        Assert.Null(settings.HandlerTimeout);
        Assert.Equal(1024, settings.QueryResponseSizeLimit);
        Assert.Equal(Path.GetFullPath("agent-data"), settings.DataDir);
        Assert.NotEqual("0.0.0.0", settings.Address);
    }

    [Fact]
    public void Platform_keys_take_go_durations()
    {
        var config = ConfigFile.Parse("""
            {"servers":["https://s1"],"handler_timeout":"1m30s","heartbeat_interval":"250ms","coalesce_period":"0",
             "quiescent_period":"1.5s","user_coalesce_period":"2s","user_quiescent_period":"500ms","handler_concurrency":4,
             "data_dir":"/var/lib/platform-agent","bind":"10.1.2.3:8000"}
            """, "p.json");
        var settings = AgentSettings.Resolve(config);

        Assert.Equal(TimeSpan.FromSeconds(90), settings.HandlerTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(250), settings.HeartbeatInterval);
        Assert.Equal(TimeSpan.Zero, settings.CoalescePeriod);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), settings.QuiescentPeriod);
        Assert.Equal(4, settings.HandlerConcurrency);
        Assert.Equal("/var/lib/platform-agent", settings.DataDir);
        Assert.Equal(("10.1.2.3", 8000), (settings.Address, settings.Port));
    }

    [Theory]
    [InlineData("""{"nodename":"a"}""", "config file 'bad.json': unknown key 'nodename'; expected a Serf agent key or one of Platform's (docs/agent.md lists them)")]
    [InlineData("""{"node_name":5}""", "config file 'bad.json': key 'node_name' must be a string, got the number 5")]
    [InlineData("""{"tags":["role=web"]}""", "config file 'bad.json': key 'tags' must be an object of string values, got an array")]
    [InlineData("""{"tags":{"port":8080}}""", "config file 'bad.json': key 'tags.port' must be a string, got the number 8080")]
    [InlineData("""{"event_handlers":"x.sh"}""", "config file 'bad.json': key 'event_handlers' must be an array of strings, got the string \"x.sh\"")]
    [InlineData("""{"servers":[1]}""", "config file 'bad.json': key 'servers' must be an array of strings, got an array holding the number 1")]
    [InlineData("""{"protocol":"5"}""", "config file 'bad.json': key 'protocol' must be an integer, got the string \"5\"")]
    [InlineData("""{"leave_on_terminate":"yes"}""", "config file 'bad.json': key 'leave_on_terminate' must be true or false, got the string \"yes\"")]
    [InlineData("""{"handler_timeout":30}""", "config file 'bad.json': key 'handler_timeout' must be a duration string such as \"500ms\", \"3s\" or \"1m30s\", got the number 30")]
    [InlineData("""{"handler_timeout":"30 seconds"}""", "config file 'bad.json': key 'handler_timeout' is \"30 seconds\"; expected a duration string such as \"500ms\", \"3s\" or \"1m30s\"")]
    [InlineData("""{"reconnect_timeout":true}""", "config file 'bad.json': key 'reconnect_timeout' must be a duration string such as \"500ms\", \"3s\" or \"1m30s\", got the boolean true")]
    [InlineData("""["a"]""", "config file 'bad.json': expected a JSON object of configuration keys, got an array")]
    public void Bad_config_is_an_error_naming_file_key_and_expectation(string json, string message)
    {
        var error = Assert.Throws<ConfigException>(() => ConfigFile.Parse(json, "bad.json"));
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void Invalid_json_names_the_file()
    {
        var error = Assert.Throws<ConfigException>(() => ConfigFile.Parse("{\"node_name\": ", "broken.json"));
        Assert.StartsWith("config file 'broken.json': not valid JSON:", error.Message);
    }

    [Fact]
    public void A_missing_config_file_or_dir_is_named()
    {
        Assert.StartsWith("config file '/nonexistent/a.json': cannot be read:",
            Assert.Throws<ConfigException>(() => ConfigFile.Read("/nonexistent/a.json")).Message);
        Assert.Equal("config dir '/nonexistent/conf.d': no such directory",
            Assert.Throws<ConfigException>(() => ConfigFile.ReadDirectory("/nonexistent/conf.d")).Message);
    }

    [Theory]
    [InlineData("""{"servers":["10.0.0.1:8080"]}""", "config file 'v.json': servers: '10.0.0.1:8080' is not a silo URL; expected http://host:port, https://…, ws://… or wss://…")]
    [InlineData("""{"servers":["http://s"],"event_handlers":["member-joined=x.sh"]}""", "config file 'v.json': event handler 'member-joined=x.sh': unknown event type 'member-joined'; expected member-join, member-leave, member-failed, member-update, member-reap, user, user:NAME, query, query:NAME or *")]
    [InlineData("""{"servers":["http://s"],"event_handlers":["user="]}""", "config file 'v.json': event handler 'user=': the script is empty; expected 'filter=script' or 'script'")]
    [InlineData("""{"servers":["http://s"],"log_level":"loud"}""", "config file 'v.json': log_level: 'loud'; expected trace, debug, info, warn or err")]
    [InlineData("""{"servers":["http://s"],"bind":"10.0.0.1:99999"}""", "config file 'v.json': bind: '10.0.0.1:99999' has port '99999'; expected a number from 1 to 65535")]
    [InlineData("""{"servers":["http://s"],"handler_concurrency":0}""", "config file 'v.json': handler_concurrency: 0; expected 1 or more")]
    [InlineData("""{"servers":["http://s"],"cert_file":"/etc/agent.pem"}""", "config file 'v.json': cert_file and key_file: give both (the client certificate and its private key) or neither")]
    public void Bad_values_are_errors_naming_the_key(string json, string message)
    {
        var error = Assert.Throws<ConfigException>(() => AgentSettings.Resolve(ConfigFile.Parse(json, "v.json")));
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void A_bad_value_names_the_file_that_set_it_among_merged_files_or_the_flag_that_won()
    {
        using var dir = new TempDir();
        dir.File("10-base.json", """{"servers":["http://s"],"log_level":"info","bind":"10.0.0.1:99999","event_handlers":["a.sh"]}""");
        var later = dir.File("20-level.json", """{"log_level":"loud","event_handlers":["usr:deploy=b.sh"]}""");
        var first = Path.Combine(dir.Path, "10-base.json");

        var error = Assert.Throws<ConfigException>(() => AgentSettings.Resolve(ConfigFile.ReadDirectory(dir.Path)));
        Assert.Equal($"config file '{later}': event handler 'usr:deploy=b.sh': unknown event type 'usr:deploy'; expected member-join, member-leave, member-failed, member-update, member-reap, user, user:NAME, query, query:NAME or *", error.Message);

        File.WriteAllText(later, """{"log_level":"loud"}""");
        error = Assert.Throws<ConfigException>(() => AgentSettings.Resolve(ConfigFile.ReadDirectory(dir.Path)));
        Assert.Equal($"config file '{first}': bind: '10.0.0.1:99999' has port '99999'; expected a number from 1 to 65535", error.Message);

        // A flag that overrides the bad file value wins; a bad flag value names the flag.
        var fixedBind = CommandLine.Parse(["-config-dir", dir.Path, "-bind", "10.0.0.1:7946"]);
        error = Assert.Throws<ConfigException>(() => AgentSettings.Load(fixedBind));
        Assert.Equal($"config file '{later}': log_level: 'loud'; expected trace, debug, info, warn or err", error.Message);
        error = Assert.Throws<ConfigException>(() => AgentSettings.Load(CommandLine.Parse(["-config-dir", dir.Path, "-bind", "10.0.0.1:7946", "-log-level", "shout"])));
        Assert.Equal("flag -log-level: log_level: 'shout'; expected trace, debug, info, warn or err", error.Message);
    }

    [Fact]
    public void Leave_on_terminate_is_on_unless_a_file_turns_it_off_and_skip_leave_on_interrupt_is_off_unless_turned_on()
    {
        var unset = AgentSettings.Resolve(ConfigFile.Parse("""{"servers":["http://s"]}""", "a.json"));
        Assert.Equal((true, false), (unset.LeaveOnTerminate, unset.SkipLeaveOnInterrupt));
        var serfs = AgentSettings.Resolve(AgentConfig.Merge(
            ConfigFile.Parse("""{"servers":["http://s"],"leave_on_terminate":true}""", "a.json"),
            ConfigFile.Parse("""{"leave_on_terminate":false,"skip_leave_on_interrupt":true}""", "b.json")));
        Assert.Equal((false, true), (serfs.LeaveOnTerminate, serfs.SkipLeaveOnInterrupt));
    }

    [Fact]
    public void Tags_file_is_read_back_and_conflicts_with_tags_as_in_serf()
    {
        using var dir = new TempDir();
        var tagsFile = dir.File("tags.json", """{"role":"db","zone":"b"}""");

        var settings = AgentSettings.Resolve(new AgentConfig { Servers = ["http://s"], TagsFile = tagsFile });
        Assert.Equal(new Dictionary<string, string> { ["role"] = "db", ["zone"] = "b" }, settings.Tags);

        var error = Assert.Throws<ConfigException>(() => AgentSettings.Resolve(new AgentConfig
        {
            Servers = ["http://s"],
            TagsFile = tagsFile,
            Tags = new() { ["role"] = "web" },
        }));
        Assert.Equal($"tags_file '{tagsFile}': tags (tags, role, -tag, -role) are not allowed while using a tags file", error.Message);
    }

    [Fact]
    public void A_tags_file_that_is_not_a_json_object_is_named()
    {
        using var dir = new TempDir();
        var tagsFile = dir.File("tags.json", "role=web");
        var error = Assert.Throws<ConfigException>(() => AgentSettings.Resolve(new AgentConfig { Servers = ["http://s"], TagsFile = tagsFile }));
        Assert.StartsWith($"tags_file '{tagsFile}': expected a JSON object of string tags", error.Message);
    }

    [Fact]
    public void Tags_file_written_is_read_back_and_private()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "state", "tags.json");
        TagsFile.Write(path, new Dictionary<string, string> { ["role"] = "web", ["v"] = "2" });

        Assert.Equal(new Dictionary<string, string> { ["role"] = "web", ["v"] = "2" }, TagsFile.Read(path));
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public void Build_keys_set_slots_engine_repositories_and_grace_and_a_missing_engine_is_named()
    {
        var settings = AgentSettings.Resolve(ConfigFile.Parse("""
            {"servers":["http://s1:8080"],"build_slots":3,"build_engine":"none","build_cancel_grace":"30s","build_repositories":["https://git.example.com/team/*"]}
            """, "build.json"));
        Assert.Equal(3, settings.BuildSlots);
        Assert.Null(settings.BuildEngine);
        Assert.Equal(TimeSpan.FromSeconds(30), settings.BuildCancelGrace);
        Assert.Equal(["https://git.example.com/team/*"], settings.BuildRepositories);

        var error = Assert.Throws<ConfigException>(() => AgentSettings.Resolve(ConfigFile.Parse("""{"servers":["http://s1:8080"],"build_engine":"/nowhere/podman"}""", "engine.json")));
        Assert.Equal("config file 'engine.json': build_engine: '/nowhere/podman' is not found (on PATH, or as a file); expected podman, docker, the path of one, or none", error.Message);
        error = Assert.Throws<ConfigException>(() => ConfigFile.Parse("""{"servers":["http://s1:8080"],"build_slots":"2"}""", "slots.json"));
        Assert.Contains("build_slots", error.Message);
    }
}
