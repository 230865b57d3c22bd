using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests.Artifacts;

/// <summary>One real SQLite silo for a test class, with an artifact size limit of <see cref="MaxSize"/>, and a scratch directory.</summary>
public sealed class ArtifactSilo : IAsyncLifetime
{
    public const long MaxSize = 16 << 20;

    private readonly TempDir _dir = new();

    public SiloProcess Silo { get; private set; } = null!;

    public string DataDir => Path.Combine(_dir.Path, "data");

    /// <summary>Where tests write the files they upload.</summary>
    public string Scratch { get; } = Path.Combine(Path.GetTempPath(), "platform-artifacts-" + Guid.NewGuid().ToString("N")[..8]);

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Scratch);
        Silo = await SiloProcess.StartAsync(DataDir, null, "--Platform:Artifacts:MaxSize", MaxSize.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    public async Task DisposeAsync()
    {
        await Silo.DisposeAsync();
        Directory.Delete(Scratch, recursive: true);
        _dir.Dispose();
    }
}
