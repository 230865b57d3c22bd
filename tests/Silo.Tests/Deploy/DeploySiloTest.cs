using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests.Deploy;

/// <summary>A real silo in a folder of its own and a <see cref="DeployFleet"/> of agents pointed at it, for each test.</summary>
public abstract class DeploySiloTest : IAsyncLifetime
{
    private TempDir _dir = null!;

    protected SiloProcess TestSilo { get; private set; } = null!;

    protected DeployFleet Fleet { get; private set; } = null!;

    /// <summary>The silo's folder.</summary>
    protected string Dir => _dir.Path;

    public async Task InitializeAsync()
    {
        _dir = new TempDir();
        TestSilo = await SiloProcess.StartAsync(_dir.Path);
        Fleet = new DeployFleet($"http://127.0.0.1:{TestSilo.Port}");
    }

    public async Task DisposeAsync()
    {
        await Fleet.DisposeAsync();
        await TestSilo.DisposeAsync();
        _dir.Dispose();
    }
}
