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

    /// <summary>More command-line options for the silo.</summary>
    protected virtual string[] SiloArgs => [];

    public async Task InitializeAsync()
    {
        _dir = new TempDir();
        // Twenty agent processes on two busy cores may miss the 1.2 s heartbeat while running a deploy; these tests are
        // about deploys, and a killed agent is still failed at once (its connection resets).
        TestSilo = await SiloProcess.StartAsync(_dir.Path, null, ["--Platform:Nodes:HeartbeatTimeout", "00:00:05", .. SiloArgs]);
        Fleet = new DeployFleet($"http://127.0.0.1:{TestSilo.Port}");
    }

    public async Task DisposeAsync()
    {
        await Fleet.DisposeAsync();
        await TestSilo.DisposeAsync();
        _dir.Dispose();
    }
}
