using System.Net;
using System.Net.Sockets;
using Platform.Agent.Checks;

namespace Platform.Agent.Tests.Checks;

public sealed class TcpCheckTests
{
    /// <summary>A loopback port nothing listens on: bound once, then released.</summary>
    public static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    [Fact]
    public async Task Connecting_is_passing()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            var address = $"127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";
            await using var recorder = new CheckRecorder($$"""[{"name": "ssh", "tcp": "{{address}}", "interval": "10s"}]""", new ManualClock());
            recorder.Set.Start();
            var state = await recorder.NextChange();
            Assert.Equal((CheckStatus.Passing, $"TCP connect {address}: Success"), (state.Status, state.Output));
        }
        finally
        {
            listener.Stop();
        }
    }

    [Fact]
    public async Task Refused_connection_is_critical()
    {
        var address = $"127.0.0.1:{ClosedPort()}";
        await using var recorder = new CheckRecorder($$"""[{"name": "ssh", "tcp": "{{address}}", "interval": "10s", "status": "passing"}]""", new ManualClock());
        recorder.Set.Start();
        var state = await recorder.NextChange();
        Assert.Equal(CheckStatus.Critical, state.Status);
        Assert.StartsWith($"dial tcp {address}: ", state.Output);
        Assert.Contains("refused", state.Output, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Host_name_is_resolved()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            var address = $"localhost:{((IPEndPoint)listener.LocalEndpoint).Port}";
            await using var recorder = new CheckRecorder($$"""[{"name": "ssh", "tcp": "{{address}}", "interval": "10s"}]""", new ManualClock());
            recorder.Set.Start();
            Assert.Equal(CheckStatus.Passing, (await recorder.NextChange()).Status);
        }
        finally
        {
            listener.Stop();
        }
    }
}
