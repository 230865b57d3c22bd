using System.Net.WebSockets;
using System.Text.Json;
using Platform.Protocol;

namespace Platform.Agent.Connection;

/// <summary>One connection's life: connect, hello, welcome, then frames until it ends, and why it ended.</summary>
public sealed partial class AgentConnection
{
    private enum Outcome { ConnectFailed, Lost, SiloStopping, Refused, Left, Cancelled }

    private async Task<(Outcome, string)> SessionAsync(Uri server, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        var outcome = Outcome.Lost;
        try
        {
            (outcome, var reason) = await SessionOnAsync(socket, server, cancellationToken).ConfigureAwait(false);
            return (outcome, reason);
        }
        finally
        {
            if (socket.State == WebSocketState.CloseReceived && outcome is Outcome.Lost or Outcome.SiloStopping)
            {
                // The silo closed: the answer to its close goes out now, and the reconnect does not wait for the silo's
                // end of the TCP connection, which the WebSocket client awaits for up to a second after its answer.
                _ = CloseAndDisposeAsync(socket);
            }
            else
            {
                if (socket.State == WebSocketState.CloseReceived) await CloseQuietlyAsync(socket).ConfigureAwait(false);
                socket.Dispose();
            }
        }
    }

    private static async Task CloseAndDisposeAsync(ClientWebSocket socket)
    {
        try { await CloseQuietlyAsync(socket).ConfigureAwait(false); }
        finally { socket.Dispose(); }
    }

    private async Task<(Outcome, string)> SessionOnAsync(ClientWebSocket socket, Uri server, CancellationToken cancellationToken)
    {
        socket.Options.AddSubProtocol(AgentProtocol.SubProtocol);
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        socket.Options.CollectHttpResponseDetails = true;
        if (_options.Token is { Length: > 0 } token) socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        if (_options.Tls is { } tls)
        {
            try
            {
                tls.Configure(socket.Options, _time);
            }
            catch (Exception failure) when (failure is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or Platform.Client.Tls.TlsSettingsException)
            {
                return (Outcome.ConnectFailed, failure.Message);
            }
        }
        else
        {
            if (_options.ClientCertificates is { } certificates) socket.Options.ClientCertificates = certificates;
            if (_options.TrustedRoots is { } roots) socket.Options.RemoteCertificateValidationCallback = (_, certificate, _, errors) => Trusted(roots, certificate, errors);
        }

        var buffer = new MessageBuffer();
        WelcomeFrame welcome;
        using (var connect = new CancellationTokenSource(_options.ConnectTimeout, _time))
        using (var linked = CancellationTokenSource.CreateLinkedTokenSource(connect.Token, cancellationToken))
        {
            try
            {
                await socket.ConnectAsync(WebSocketUri(server), linked.Token).ConfigureAwait(false);
                if (!await SendOnAsync(socket, AgentProtocol.Encode(_session.CreateHello()), linked.Token).ConfigureAwait(false))
                    return (Outcome.ConnectFailed, "the hello could not be sent");
                var first = await ReceiveAsync(socket, buffer, linked.Token).ConfigureAwait(false);
                switch (first)
                {
                    case WelcomeFrame w:
                        welcome = w;
                        break;
                    case RefusedFrame refused:
                        await CloseQuietlyAsync(socket).ConfigureAwait(false);
                        return (Outcome.Refused, refused.Error);
                    case null:
                        return Closed(socket, "closed before its welcome");
                    default:
                        return (Outcome.ConnectFailed, $"sent '{first.GetType().Name}' before its welcome");
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return (Outcome.Cancelled, "stopped");
            }
            catch (OperationCanceledException)
            {
                return (Outcome.ConnectFailed, $"no welcome within {_options.ConnectTimeout.TotalMilliseconds:0} ms");
            }
            catch (WebSocketException) when (socket.HttpStatusCode is System.Net.HttpStatusCode.Unauthorized or System.Net.HttpStatusCode.Forbidden)
            {
                // The token is missing, wrong, expired, revoked or lacks scope agent: retrying would be refused again.
                var reason = socket.HttpResponseHeaders?.TryGetValue("X-Platform-Denied", out var denied) == true ? string.Join(' ', denied) : "no reason given";
                return (Outcome.Refused, $"access refused (HTTP {(int)socket.HttpStatusCode}): {reason}");
            }
            catch (Exception failure) when (failure is WebSocketException or HttpRequestException or IOException or JsonException or NotSupportedException)
            {
                return (Outcome.ConnectFailed, Platform.Client.Tls.TlsClientSettings.DescribeFailure(failure) ?? failure.Message);
            }
        }

        Server = server;
        Volatile.Write(ref _socket, socket);
        Interlocked.MemoryBarrier();
        if (_leaving) await SendLeaveOnceAsync(socket).ConfigureAwait(false);
        await _session.OnWelcomeAsync(welcome, cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _welcomes);
        LogConnected(_logger, server, welcome.Silo);
        try { Connected?.Invoke(server, welcome); }
        catch (Exception failure) { LogObserverFailed(_logger, failure); }

        var interval = welcome.HeartbeatIntervalMs > 0 ? TimeSpan.FromMilliseconds(welcome.HeartbeatIntervalMs) : _options.HeartbeatInterval;
        var watch = new Liveness(_time);
        using var session = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var heartbeat = HeartbeatAsync(socket, interval, SilentLimit(interval, welcome.PongAfterMs), watch, session.Token);
        try
        {
            while (true)
            {
                var frame = await ReceiveAsync(socket, buffer, session.Token).ConfigureAwait(false);
                watch.Heard();
                switch (frame)
                {
                    case null:
                        if (_leaving) return (Outcome.Left, "left");
                        return Closed(socket, "closed the connection");
                    case PongFrame:
                        break;
                    case RefusedFrame refused:
                        return (Outcome.Refused, refused.Error);
                    default:
                        await _session.OnFrameAsync(frame, session.Token).ConfigureAwait(false);
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            socket.Abort();
            return (Outcome.Cancelled, "stopped");
        }
        catch (Exception failure) when (failure is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            if (_leaving) return (Outcome.Left, "left");
            return (Outcome.Lost, watch.DeadReason ?? failure.Message);
        }
        finally
        {
            _socket = null;
            await session.CancelAsync().ConfigureAwait(false);
            await heartbeat.ConfigureAwait(false);
        }
    }

    private static (Outcome, string) Closed(ClientWebSocket socket, string what)
    {
        var status = (int?)socket.CloseStatus;
        var description = string.IsNullOrEmpty(socket.CloseStatusDescription) ? "" : $": {socket.CloseStatusDescription}";
        return status switch
        {
            AgentProtocol.RefusedCloseStatus => (Outcome.Refused, $"closed with status 4001{description}"),
            AgentProtocol.SiloStoppingCloseStatus => (Outcome.SiloStopping, $"the silo is stopping (status 4002){description}"),
            _ => (Outcome.Lost, $"the silo {what} (status {status?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}{description})"),
        };
    }
}
