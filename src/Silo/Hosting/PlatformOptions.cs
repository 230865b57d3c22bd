using Platform.Silo.Tls;

namespace Platform.Silo.Hosting;

/// <summary>The silo's own settings (section "Platform"); each can come from appsettings.json, PLATFORM_-less environment variables (Platform__DataDir) or the command line.</summary>
public sealed class PlatformOptions
{
    public const string Section = "Platform";

    /// <summary>Directory of the embedded SQLite database (platform.db). Default ./data. Command line: --data-dir.</summary>
    public string DataDir { get; set; } = "data";

    /// <summary>Where grain state, reminders (and later membership) live: "sqlite" (default) or "postgres". Command line: --storage.</summary>
    public string Storage { get; set; } = "sqlite";

    /// <summary>Npgsql connection string when Storage is "postgres". Command line: --postgres.</summary>
    public string? PostgreSql { get; set; }

    /// <summary>This silo's name. Default: the machine name. Command line: --silo-name.</summary>
    public string? SiloName { get; set; }

    /// <summary>Cluster settings, used when Storage is "postgres" (the membership table lives there too).</summary>
    public ClusterSettings Cluster { get; set; } = new();

    /// <summary>
    /// Whether plain etcd reads, long polls and writes (<c>/v2/keys…</c>; writes only where no token or write limit
    /// applies) are answered below Kestrel's HTTP layer, which makes a watch fan-out cost about half as much CPU per
    /// watcher. Default true; false sends every request through Kestrel.
    /// </summary>
    public bool EtcdFastPath { get; set; } = true;

    /// <summary>
    /// Whether the fast path's watch fan-out hands the kernel each chunk of socket writes in one system call (Linux
    /// io_uring, where the kernel offers it; elsewhere one <c>send</c> per watcher), which saves about a fifth of each
    /// write's CPU. Default true; false: one <c>send</c> per watcher everywhere. Process-wide.
    /// </summary>
    public bool FanOutRing { get; set; } = true;

    /// <summary>
    /// Connections the kernel completes and holds for the HTTP listener while the silo is busy accepting (the listen
    /// backlog; the kernel caps it at <c>net.core.somaxconn</c>). Default 4,096, against Kestrel's 512: a fleet of
    /// agents or watchers reconnecting at once to a restarted silo is not left retrying dropped handshakes for seconds.
    /// </summary>
    public int ListenBacklog { get; set; } = 4096;

    /// <summary>HTTPS from PEM files and client certificates for agents (docs/tls.md).</summary>
    public TlsOptions Tls { get; set; } = new();

    /// <summary>The node agent of the silo's own machine (section "Platform:Agent").</summary>
    public SiloAgentOptions Agent { get; set; } = new();

    /// <summary>Extra assemblies (paths) that add grains and endpoints through <see cref="ISiloExtension"/>.</summary>
    public List<string> Extensions { get; set; } = [];
}

/// <summary>Section "Platform:Cluster".</summary>
public sealed class ClusterSettings
{
    /// <summary>Silos with the same id form one cluster. Default "default". Command line: --cluster-id.</summary>
    public string ClusterId { get; set; } = "default";

    /// <summary>TCP port for silo-to-silo traffic. Default 11111. Command line: --silo-port.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Address the silo-to-silo port binds to. Default 127.0.0.1. Command line: --silo-listen.</summary>
    public string ListenAddress { get; set; } = "127.0.0.1";

    /// <summary>Address other silos use to reach this one. Default: the listen address. Command line: --advertise.</summary>
    public string? AdvertisedAddress { get; set; }

    /// <summary>Mutual TLS between silos from PEM files (section "Platform:Cluster:Tls", docs/tls.md); none: plain TCP.</summary>
    public Platform.Runtime.Transport.SiloTlsOptions Tls { get; set; } = new();
}
