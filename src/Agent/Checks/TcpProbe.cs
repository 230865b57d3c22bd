using System.Globalization;
using System.Net.Sockets;

namespace Platform.Agent.Checks;

/// <summary>A TCP check, as Consul runs one: connecting within the timeout is passing, anything else critical.</summary>
internal sealed class TcpProbe(CheckDefinition definition, TimeProvider time) : ICheckProbe
{
    public async Task<CheckResult> RunAsync(CancellationToken stopping)
    {
        var address = definition.Tcp!;
        var colon = address.LastIndexOf(':');
        var host = address[..colon].Trim('[', ']');
        var port = int.Parse(address.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture);

        using var timer = new CancellationTokenSource(definition.EffectiveTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timer.Token, stopping);
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(host, port, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
        {
            // Go's dialer says exactly this when its timeout ends the dial.
            return new CheckResult(CheckStatus.Critical, $"dial tcp {address}: i/o timeout");
        }
        catch (SocketException e)
        {
            return new CheckResult(CheckStatus.Critical, $"dial tcp {address}: {e.Message}");
        }
        return new CheckResult(CheckStatus.Passing, $"TCP connect {address}: Success");
    }
}
