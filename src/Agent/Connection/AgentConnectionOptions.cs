using System.Security.Cryptography.X509Certificates;
using Platform.Protocol;

namespace Platform.Agent.Connection;

/// <summary>How an <see cref="AgentConnection"/> reaches the silos and watches them.</summary>
public sealed class AgentConnectionOptions
{
    /// <summary>Silo base URLs (http, https, ws, wss), tried in order from <see cref="FirstServer"/>.</summary>
    public required IReadOnlyList<Uri> Servers { get; init; }

    /// <summary>Index of the server tried first (a load driver spreads its agents with it); default 0.</summary>
    public int FirstServer { get; init; }

    /// <summary>Ping interval until the welcome says the silo's own; default 400 ms.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = AgentProtocol.DefaultHeartbeatInterval;

    /// <summary>A silo silent for this many heartbeat intervals, plus the welcome's <c>pong_after_ms</c>, is taken as dead; default 3.</summary>
    public int MissedHeartbeats { get; init; } = 3;

    /// <summary>Time to open the socket and receive the welcome; default 5 s.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>First backoff step after a second failed attempt in a row; doubles per failure; default 100 ms.</summary>
    public TimeSpan BackoffBase { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Longest wait between attempts; default 5 s.</summary>
    public TimeSpan BackoffCap { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a graceful leave waits for the silo to close the socket; default 5 s.</summary>
    public TimeSpan LeaveTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The access token sent as <c>Authorization: Bearer</c> when connecting (the silo wants scope <c>agent</c> once tokens exist), or null.</summary>
    public string? Token { get; init; }

    /// <summary>Client certificate(s) presented to the silo (agent authentication), or null.</summary>
    public X509Certificate2Collection? ClientCertificates { get; init; }

    /// <summary>Roots the silo's certificate must chain to instead of the system's, or null.</summary>
    public X509Certificate2Collection? TrustedRoots { get; init; }

    /// <summary>CA, client certificate and key files (PEM); when set they replace <see cref="ClientCertificates"/> and <see cref="TrustedRoots"/> and are re-read at every connect, so renewed files are picked up.</summary>
    public Platform.Client.Tls.TlsClientSettings? Tls { get; init; }

    /// <summary>Clock for heartbeats, deadlines and backoff.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
