using System.Net.Security;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Platform.Protocol;

namespace Platform.Agent.Connection;

/// <summary>Whole messages on the WebSocket: one sender at a time, frames read and decoded, the silo's certificate checked.</summary>
public sealed partial class AgentConnection
{
    private async ValueTask<bool> SendOnAsync(ClientWebSocket socket, byte[] message, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (socket.State != WebSocketState.Open) return false;
            await socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception failure) when (failure is WebSocketException or IOException or ObjectDisposedException
            || (failure is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // A send pending when the socket is aborted (a silo taken as silent) ends cancelled: a failed send, not a stop.
            return false;
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>The next frame, or null when the silo closed the socket (not answered yet). A frame this agent does not know is skipped.</summary>
    private async Task<AgentFrame?> ReceiveAsync(ClientWebSocket socket, MessageBuffer buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            var count = 0;
            while (true)
            {
                if (count == buffer.Data.Length)
                {
                    if (count >= MaxMessageBytes) throw new WebSocketException($"a silo message is larger than {MaxMessageBytes} bytes");
                    Array.Resize(ref buffer.Data, count * 2);
                }
                var result = await socket.ReceiveAsync(buffer.Data.AsMemory(count), cancellationToken).ConfigureAwait(false);
                // The answer to the close is the session's end's to send (AgentConnection.Session.cs).
                if (result.MessageType == WebSocketMessageType.Close) return null;
                count += result.Count;
                if (result.EndOfMessage) break;
            }
            try
            {
                return AgentProtocol.Decode(buffer.Data.AsSpan(0, count));
            }
            catch (Exception failure) when (failure is JsonException or NotSupportedException)
            {
                // A newer silo may send frames this agent does not know: skip them rather than drop the connection.
                LogUnknownFrame(_logger, failure.Message);
            }
        }
    }

    private static async Task CloseQuietlyAsync(ClientWebSocket socket)
    {
        if (socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived)) return;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        try { await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token).ConfigureAwait(false); }
        catch (Exception failure) when (failure is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The silo is gone already; nothing is left to close.
        }
    }

    /// <summary>The silo URL's WebSocket form: http→ws, https→wss, with the connect path after the base path.</summary>
    public static Uri WebSocketUri(Uri server)
    {
        var builder = new UriBuilder(server)
        {
            Scheme = server.Scheme switch { "https" or "wss" => "wss", _ => "ws" },
            Path = server.AbsolutePath.TrimEnd('/') + AgentProtocol.ConnectPath,
        };
        return builder.Uri;
    }

    private static bool Trusted(X509Certificate2Collection roots, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate as X509Certificate2 ?? new X509Certificate2(certificate));
    }

    private sealed class MessageBuffer
    {
        public byte[] Data = new byte[4096];
    }
}
