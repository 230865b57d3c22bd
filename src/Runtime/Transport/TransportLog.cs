using Microsoft.Extensions.Logging;
using Platform.Runtime.Membership;

namespace Platform.Runtime.Transport;

/// <summary>The silo-to-silo transport's log events (event ids 1501–1599).</summary>
internal static partial class TransportLog
{
    [LoggerMessage(EventId = 1501, Level = LogLevel.Information, Message = "Silo-to-silo transport listening on {Endpoint} as {Silo}")]
    public static partial void Listening(ILogger logger, string endpoint, SiloAddress silo);

    [LoggerMessage(EventId = 1502, Level = LogLevel.Debug, Message = "Connected to silo {Peer}")]
    public static partial void Connected(ILogger logger, SiloAddress peer);

    [LoggerMessage(EventId = 1503, Level = LogLevel.Warning, Message = "Could not connect to silo {Peer}")]
    public static partial void ConnectFailed(ILogger logger, SiloAddress peer, Exception reason);

    [LoggerMessage(EventId = 1504, Level = LogLevel.Warning, Message = "Connection to silo {Peer} lost")]
    public static partial void OutboundLost(ILogger logger, SiloAddress peer, Exception reason);

    [LoggerMessage(EventId = 1505, Level = LogLevel.Debug, Message = "Accepted connection from silo {Peer} ({Remote})")]
    public static partial void Accepted(ILogger logger, SiloAddress peer, string remote);

    [LoggerMessage(EventId = 1506, Level = LogLevel.Information, Message = "Connection from silo {Peer} closed")]
    public static partial void InboundClosed(ILogger logger, SiloAddress peer, Exception reason);

    [LoggerMessage(EventId = 1507, Level = LogLevel.Error, Message = "Silo {Peer} sent a frame of {Length} bytes, over the limit of {Limit} bytes (TransportOptions.MaxFrameSize); closing its connection")]
    public static partial void InboundFrameTooLarge(ILogger logger, SiloAddress peer, long length, int limit);

    [LoggerMessage(EventId = 1508, Level = LogLevel.Warning, Message = "Refused connection from {Remote}: {Reason}")]
    public static partial void Refused(ILogger logger, string remote, string reason);

    [LoggerMessage(EventId = 1509, Level = LogLevel.Error, Message = "The frame handler threw on a frame from silo {Peer}")]
    public static partial void HandlerFailed(ILogger logger, SiloAddress peer, Exception error);

    [LoggerMessage(EventId = 1510, Level = LogLevel.Error, Message = "A frame's send-failure callback threw (frame to silo {Peer})")]
    public static partial void SendFailedCallbackFailed(ILogger logger, SiloAddress peer, Exception error);

    [LoggerMessage(EventId = 1511, Level = LogLevel.Warning, Message = "Frame to silo {Peer} not sent")]
    public static partial void FrameRejected(ILogger logger, SiloAddress peer, Exception error);

    [LoggerMessage(EventId = 1512, Level = LogLevel.Error, Message = "Accepting a silo connection failed")]
    public static partial void AcceptFailed(ILogger logger, Exception error);

    [LoggerMessage(EventId = 1513, Level = LogLevel.Error, Message = "The frame handler threw while told that the connection with silo {Peer} was lost")]
    public static partial void ConnectionLostCallbackFailed(ILogger logger, SiloAddress peer, Exception error);

    [LoggerMessage(EventId = 1514, Level = LogLevel.Information, Message = "Silo-to-silo TLS certificate reloaded: {Certificate}; {Authorities} CA certificate(s)")]
    public static partial void TlsReloaded(ILogger logger, string certificate, int authorities);

    [LoggerMessage(EventId = 1515, Level = LogLevel.Warning, Message = "Silo-to-silo TLS files not reloaded, the ones in use stay: {Error}")]
    public static partial void TlsReloadFailed(ILogger logger, string error);

    [LoggerMessage(EventId = 1516, Level = LogLevel.Information, Message = "Silo-to-silo TLS with certificate {Certificate}; peers must chain to the CA in '{CaFile}'")]
    public static partial void TlsEnabled(ILogger logger, string certificate, string caFile);

    [LoggerMessage(EventId = 1517, Level = LogLevel.Warning, Message = "Silo {Peer} refused this silo's connection: {Reason}")]
    public static partial void RefusedByPeer(ILogger logger, SiloAddress peer, string reason);

    [LoggerMessage(EventId = 1518, Level = LogLevel.Warning, Message = "The silo dialing from {Remote} refused this silo: {Reason}")]
    public static partial void RefusedByDialer(ILogger logger, string remote, string reason);

    [LoggerMessage(EventId = 1519, Level = LogLevel.Warning, Message = "TLS handshake with {Remote} failed: {Reason}")]
    public static partial void TlsHandshakeFailed(ILogger logger, string remote, string reason);

    [LoggerMessage(EventId = 1520, Level = LogLevel.Warning, Message = "No connection to silo {Peer}: {Reason}")]
    public static partial void ConnectRefused(ILogger logger, SiloAddress peer, string reason);
}
