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

    /// <summary>Extra assemblies (paths) that add grains and endpoints through <see cref="ISiloExtension"/>.</summary>
    public List<string> Extensions { get; set; } = [];
}
