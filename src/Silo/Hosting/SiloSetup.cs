using System.Net.Sockets;
using System.Reflection;
using System.Runtime.Loader;
using Platform.Grains;
using Platform.Grains.Builds;
using Platform.Grains.Deploys;
using Platform.Grains.Keys;
using Platform.Grains.Nodes;
using Platform.Grains.Rules;
using Platform.Runtime;
using Platform.Runtime.Hosting;
using Platform.Runtime.Membership;
using Platform.Runtime.PostgreSql;
using Platform.Runtime.Sqlite;
using Platform.Runtime.Storage;
using Platform.Silo.Agents;
using Platform.Silo.Tls;

namespace Platform.Silo.Hosting;

/// <summary>Turns configuration into a configured silo, checking every setting a user can get wrong before anything starts.</summary>
public static class SiloSetup
{
    /// <summary>Command-line switches and the settings they set.</summary>
    public static readonly Dictionary<string, string> SwitchMappings = new()
    {
        ["--data-dir"] = "Platform:DataDir",
        ["--storage"] = "Platform:Storage",
        ["--postgres"] = "Platform:PostgreSql",
        ["--silo-name"] = "Platform:SiloName",
        ["--cluster-id"] = "Platform:Cluster:ClusterId",
        ["--silo-port"] = "Platform:Cluster:SiloPort",
        ["--silo-listen"] = "Platform:Cluster:ListenAddress",
        ["--advertise"] = "Platform:Cluster:AdvertisedAddress",
        ["--silo-tls-cert"] = "Platform:Cluster:Tls:CertificateFile",
        ["--silo-tls-key"] = "Platform:Cluster:Tls:KeyFile",
        ["--silo-tls-ca"] = "Platform:Cluster:Tls:CaFile",
        ["--agent-config"] = "Platform:Agent:ConfigFile",
    };

    /// <summary>How long a stopping silo may take to hand its agents and activations over (deploy/k8s's grace period fits it).</summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(45);

    /// <summary>The default HTTP address: loopback only.</summary>
    public const string DefaultUrls = "http://127.0.0.1:8080";

    public static WebApplicationBuilder CreateBuilder(string[] args)
    {
        // --agent is a switch without a value; the configuration reader would take the next argument as its value.
        args = [.. args.Select(a => a == "--agent" ? "--Platform:Agent:Enabled=true" : Platform.Silo.Access.AccessSetup.Switches.GetValueOrDefault(a, a))];
        // Settings ship beside the binary; relative paths in them (DataDir) resolve against the working directory.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddCommandLine(args, new Dictionary<string, string>(SwitchMappings.Concat(TlsSetup.SwitchMappings).Concat(Platform.Silo.Telemetry.TelemetrySetup.SwitchMappings)));
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
            builder.WebHost.UseUrls(TlsSetup.DefaultUrls(builder.Configuration, DefaultUrls));
        Platform.Silo.Telemetry.TelemetrySetup.Configure(builder);
        builder.Host.ConfigureHostOptions(o => o.ShutdownTimeout = ShutdownTimeout);

        var options = builder.Configuration.GetSection(PlatformOptions.Section).Get<PlatformOptions>() ?? new PlatformOptions();
        builder.Services.AddSingleton(options);
        TlsSetup.Configure(builder, options.Tls);
        Platform.Silo.Access.AccessSetup.Configure(builder);
        if (options.ListenBacklog < 1) throw new StartupException($"Platform:ListenBacklog is {options.ListenBacklog}; expected a number of connections of at least 1 (default 4096)");
        builder.WebHost.UseSockets(sockets => sockets.Backlog = options.ListenBacklog);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            // Kestrel reads endpoints from its section but not its limits (KeepAliveTimeout, RequestHeadersTimeout, …).
            builder.Configuration.GetSection("Kestrel:Limits").Bind(k.Limits);
            if (options.EtcdFastPath) k.ConfigureEndpointDefaults(Platform.Silo.Endpoints.Etcd.EtcdFastPath.Use);
        });
        builder.Services.AddGrainRuntime(o =>
        {
            builder.Configuration.GetSection("Platform:Runtime").Bind(o);
            if (!string.IsNullOrWhiteSpace(options.SiloName)) o.SiloName = options.SiloName;
        });
        builder.Services.AddGrains(GrainsAssembly.Assembly);
        builder.Services.Configure<StorageMonitorOptions>(builder.Configuration.GetSection("Platform:Runtime:StorageMonitor"));
        builder.Services.AddKeyspace(o => builder.Configuration.GetSection("Platform:Keys").Bind(o));
        builder.Services.AddSingleton<Platform.Silo.Endpoints.Etcd.EtcdKeysHandler>();
        builder.Services.AddNodes(o => builder.Configuration.GetSection(NodesOptions.Section).Bind(o));
        builder.Services.AddRules(o => builder.Configuration.GetSection(RulesOptions.Section).Bind(o));
        builder.Services.AddBuilds(o => builder.Configuration.GetSection(BuildsOptions.Section).Bind(o));
        // Checked here, not at a grain's first use: a bad limit stops the silo naming the setting.
        var deploys = new DeploysOptions();
        builder.Configuration.GetSection(DeploysOptions.Section).Bind(deploys);
        if (deploys.Validate() is { } badDeploys) throw new StartupException(badDeploys);
        builder.Services.AddDeploys(o => builder.Configuration.GetSection(DeploysOptions.Section).Bind(o));
        // Before the extensions: a test extension's starter, registered later, wins.
        builder.Services.AddSingleton<Platform.Grains.Rules.IDeployStarter, Platform.Silo.Endpoints.Deploys.RuleDeployStarter>();
        builder.Services.AddSingleton<Platform.Grains.Deploys.DeployCounters>();
        builder.Services.AddSingleton<Platform.Grains.Builds.BuildCounters>();
        builder.Services.AddSingleton<Platform.Grains.Nodes.EventCounters>();
        builder.Services.AddSingleton<Platform.Silo.Endpoints.Deploys.DeployWatch>();
        builder.Services.AddSingleton<AgentHub>();
        builder.Services.AddSingleton<Platform.Silo.Endpoints.Builds.BuildsFeed>();
        builder.Services.AddSingleton<Platform.Silo.Endpoints.Rules.RulesFeed>();
        builder.Services.AddHostedService(provider => provider.GetRequiredService<AgentHub>());
        ConfigureStorage(builder.Services, options, builder.Configuration);
        Platform.Silo.Artifacts.ArtifactStoreStart.Configure(builder.Services, options, builder.Configuration);
        foreach (var extension in LoadExtensions(options))
        {
            extension.ConfigureServices(builder.Services);
            builder.Services.AddSingleton(extension);
        }
        if (options.Agent.Enabled)
        {
            // Registered last, so it is stopped first: the node leaves while this silo still takes its leave.
            var settings = SiloAgent.LoadSettings(options.Agent, builder.Configuration["urls"] ?? DefaultUrls, options.DataDir);
            builder.Services.AddSingleton(provider => new SiloAgent(settings, provider.GetRequiredService<ILoggerFactory>(), provider.GetRequiredService<IHostApplicationLifetime>()));
            builder.Services.AddHostedService(provider => provider.GetRequiredService<SiloAgent>());
        }
        return builder;
    }

    private static void ConfigureStorage(IServiceCollection services, PlatformOptions options, IConfiguration configuration)
    {
        switch (options.Storage.ToLowerInvariant())
        {
            case "sqlite":
                var dataDir = Path.GetFullPath(options.DataDir);
                CheckWritable(dataDir);
                var file = Path.Combine(dataDir, "platform.db");
                services.AddSqliteGrainStorage(GrainStorageRegistry.DefaultName, o => o.DataSource = file);
                services.AddSqliteReminderTable(o => o.DataSource = file);
                services.AddSqliteGrainJournal(o => o.DataSource = file);
                break;
            case "postgres" or "postgresql":
                if (string.IsNullOrWhiteSpace(options.PostgreSql))
                    throw new StartupException("Platform:Storage is 'postgres' but Platform:PostgreSql (--postgres) is empty: give an Npgsql connection string such as 'Host=127.0.0.1;Port=5432;Username=platform;Database=platform'.");
                services.AddPostgreSqlGrainStorage(GrainStorageRegistry.DefaultName, o => o.ConnectionString = options.PostgreSql);
                services.AddPostgreSqlReminderTable(o => o.ConnectionString = options.PostgreSql);
                services.AddPostgreSqlGrainJournal(o => o.ConnectionString = options.PostgreSql);
                services.AddPostgreSqlMembershipTable(o => o.ConnectionString = options.PostgreSql);
                ConfigureCluster(services, options.Cluster, configuration);
                break;
            default:
                throw new StartupException($"Platform:Storage (--storage) is '{options.Storage}'; expected 'sqlite' or 'postgres'.");
        }
    }

    private static void ConfigureCluster(IServiceCollection services, ClusterSettings cluster, IConfiguration configuration)
    {
        if (string.IsNullOrWhiteSpace(cluster.ClusterId))
            throw new StartupException("Platform:Cluster:ClusterId (--cluster-id) is empty; silos with the same id form one cluster.");
        if (cluster.SiloPort is < 0 or > 65535)
            throw new StartupException($"Platform:Cluster:SiloPort (--silo-port) is {cluster.SiloPort}; expected a TCP port from 0 to 65535.");
        if (!System.Net.IPAddress.TryParse(cluster.ListenAddress, out _))
            throw new StartupException($"Platform:Cluster:ListenAddress (--silo-listen) is '{cluster.ListenAddress}'; expected an IP address such as 127.0.0.1 or 0.0.0.0.");
        if (cluster.AdvertisedAddress is { } advertised && !System.Net.IPAddress.TryParse(advertised, out _))
            throw new StartupException($"Platform:Cluster:AdvertisedAddress (--advertise) is '{advertised}'; expected the IP address other silos reach this one on.");
        services.AddGrainCluster(
            t =>
            {
                configuration.GetSection("Platform:Cluster:Transport").Bind(t);
                t.Port = cluster.SiloPort;
                t.ListenAddress = cluster.ListenAddress;
                t.AdvertisedAddress = cluster.AdvertisedAddress;
                t.Tls = cluster.Tls;
            },
            m =>
            {
                configuration.GetSection("Platform:Cluster:Membership").Bind(m);
                m.ClusterId = cluster.ClusterId;
            },
            c => c.HttpUrl = configuration["urls"] ?? DefaultUrls);
    }

    private static void CheckWritable(string dataDir)
    {
        try
        {
            Directory.CreateDirectory(dataDir);
            var probe = Path.Combine(dataDir, $".write-probe-{Environment.ProcessId}");
            File.WriteAllText(probe, "ok");
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StartupException($"data directory '{dataDir}' (Platform:DataDir, --data-dir) is not writable: {e.Message}", e);
        }
    }

    private static IEnumerable<ISiloExtension> LoadExtensions(PlatformOptions options)
    {
        foreach (var path in options.Extensions)
        {
            var full = Path.GetFullPath(path);
            if (!File.Exists(full))
                throw new StartupException($"extension assembly '{full}' (Platform:Extensions) does not exist.");
            var assembly = AssemblyLoadContext.Default.LoadFromAssemblyPath(full);
            var found = false;
            foreach (var type in assembly.GetExportedTypes())
            {
                if (!typeof(ISiloExtension).IsAssignableFrom(type) || type.IsAbstract) continue;
                found = true;
                Platform.Runtime.Invocation.GrainTypeRegistry.EnsureLoaded(assembly);
                yield return (ISiloExtension)Activator.CreateInstance(type)!;
            }
            if (!found) throw new StartupException($"extension assembly '{full}' (Platform:Extensions) has no public ISiloExtension class.");
        }
    }

    /// <summary>Checks that storage answers, so that a wrong connection string fails the start, not the first call.</summary>
    public static async Task ProbeStorageAsync(IServiceProvider services, PlatformOptions options)
    {
        var storage = services.GetRequiredService<IGrainStorageRegistry>().Get(null);
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await storage.ReadAsync("silo", "probe", "probe", cts.Token);
        }
        catch (Exception e)
        {
            var setting = options.Storage.StartsWith("postgres", StringComparison.OrdinalIgnoreCase)
                ? "PostgreSQL (Platform:PostgreSql, --postgres)"
                : $"SQLite database in '{Path.GetFullPath(options.DataDir)}' (Platform:DataDir, --data-dir)";
            // The start-up error is for the operator: it names the server or file, which a client is never told.
            throw new StartupException($"{setting} is unusable: {(e is StorageUnavailableException unavailable ? unavailable.Detail : e.Message)}", e);
        }
    }

    /// <summary>Explains a failure to bind the HTTP port, or returns null when the error is something else.</summary>
    public static string? DescribeListenFailure(Exception e, IConfiguration configuration)
    {
        for (var cur = e; cur is not null; cur = cur.InnerException)
        {
            if (cur is IOException { InnerException: SocketException se } && se.SocketErrorCode == SocketError.AddressAlreadyInUse
                || cur is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse }
                || cur is IOException && cur.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
                return $"cannot listen on {configuration["urls"] ?? DefaultUrls} (--urls, ASPNETCORE_URLS): address already in use";
            if (cur is SocketException { SocketErrorCode: SocketError.AccessDenied or SocketError.AddressNotAvailable } s2)
                return $"cannot listen on {configuration["urls"] ?? DefaultUrls} (--urls, ASPNETCORE_URLS): {s2.Message}";
        }
        return null;
    }
}
