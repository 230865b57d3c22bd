using System.Buffers;
using Platform.Runtime.Membership;

namespace Platform.Runtime.Transport;

/// <summary>A frame to send: written straight into the connection's buffer by the connection's writer loop.</summary>
public interface IOutgoingFrame
{
    /// <summary>Writes the frame payload (without the length prefix, which the transport adds).</summary>
    void Write(IBufferWriter<byte> output);

    /// <summary>Called once if the frame could not be sent (connection lost, peer unreachable, too large).</summary>
    void OnSendFailed(Exception error);
}

/// <summary>Receives what the transport reads and learns of lost peers.</summary>
public interface IFrameHandler
{
    /// <summary>One complete frame payload from <paramref name="from"/>; only valid during the call.</summary>
    void OnFrame(SiloAddress from, ReadOnlySequence<byte> payload);

    /// <summary>The connection to <paramref name="peer"/> broke: calls waiting on it should fail now.</summary>
    void OnConnectionLost(SiloAddress peer, Exception reason);
}

/// <summary>
/// Silo-to-silo TCP: one outbound connection per peer for everything this silo sends to it,
/// length-prefixed frames written in batches, reconnection on demand, a bound on frame size.
/// </summary>
public interface ISiloTransport : IAsyncDisposable
{
    /// <summary>The address this silo listens on (advertised host, bound port, generation).</summary>
    SiloAddress LocalAddress { get; }

    /// <summary>Starts listening; frames received are passed to <paramref name="handler"/>.</summary>
    Task StartAsync(IFrameHandler handler, CancellationToken cancellationToken = default);

    /// <summary>
    /// Queues a frame for <paramref name="target"/>; failures are reported through <see cref="IOutgoingFrame.OnSendFailed"/>,
    /// at once with <see cref="SiloOverloadedException"/> when the peer's queue is full.
    /// </summary>
    void Send(SiloAddress target, IOutgoingFrame frame);

    /// <summary>
    /// True while frames to some peer are queued or being written. A graceful stop waits for false before closing,
    /// so that its last responses reach their callers.
    /// </summary>
    bool HasUnsentFrames { get; }

    /// <summary>Closes the connection to a peer declared dead (pending sends fail at once).</summary>
    void Disconnect(SiloAddress peer);
}

/// <summary>A frame over <see cref="TransportOptions.MaxFrameSize"/>.</summary>
public sealed class MessageTooLargeException(string message) : Exception(message);

/// <summary>
/// The queue of frames to a peer is full (<see cref="TransportOptions.MaxQueuedFrames"/>): the peer does not read
/// as fast as this silo sends, and the frame was not queued.
/// </summary>
public sealed class SiloOverloadedException(string message) : Exception(message);

/// <summary>The peer silo could not be reached or its connection broke.</summary>
public sealed class SiloUnavailableException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>
    /// True when one side refused who the other is (a certificate not of the cluster's CA, plain TCP against TLS): retrying
    /// cannot help. False for a lost connection or a transient refusal (a slow hello, a stale address).
    /// </summary>
    public bool Refused { get; init; }
}
