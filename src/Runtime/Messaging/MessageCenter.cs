using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Platform.Runtime.Hosting;
using Platform.Runtime.Invocation;
using Platform.Runtime.Membership;
using Platform.Runtime.Serialization;
using Platform.Runtime.Transport;

namespace Platform.Runtime.Messaging;

/// <summary>
/// Grain calls between silos: correlates requests with responses, applies deadlines, fails calls
/// at once when their connection is lost, answers probes, and hands arriving calls to the runtime.
/// </summary>
internal sealed partial class MessageCenter(GrainRuntime runtime, ISiloTransport transport, ILogger<MessageCenter> logger) : IFrameHandler, ISiloProber
{
    private readonly ConcurrentDictionary<ulong, RemotePending> _pending = new();
    private long _nextCorrelationId;

    public GrainRuntime Runtime { get; } = runtime;
    public ISiloTransport Transport { get; } = transport;
    public DeadlineWheel Deadlines => Runtime.Deadlines;

    private int _inbound;

    /// <summary>Calls waiting for another silo.</summary>
    public int PendingCount => _pending.Count;

    /// <summary>Calls from other silos accepted and not yet answered.</summary>
    public int InboundCount => Volatile.Read(ref _inbound);

    internal void InboundStarted() => Interlocked.Increment(ref _inbound);

    internal void InboundFinished() => Interlocked.Decrement(ref _inbound);

    public ValueTask<T> SendRequest<T>(SiloAddress target, GrainId grain, Invokable<T> request, int hops)
    {
        if (request.Method.IsOneWay)
        {
            Transport.Send(target, new OneWayFrame(grain, request, hops, GrainCallTracing.Capture()));
            return default;
        }
        var call = new RemoteCall<T>(grain, request, hops, GrainCallTracing.Capture());
        Register(call, target);
        Transport.Send(target, call);
        return call.AsValueTask();
    }

    public async Task<bool> ProbeAsync(SiloAddress silo, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var call = new ControlCall(FrameKind.Ping, default);
        Register(call, silo, register: false);
        Transport.Send(silo, call);
        try
        {
            return await call.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return false;
        }
        finally
        {
            TryRemove(call);
        }
    }

    /// <summary>Pings <paramref name="silo"/>: null once it answered, otherwise why not (a refused or lost connection, a timeout).</summary>
    public async Task<Exception?> PingAsync(SiloAddress silo, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var call = new ControlCall(FrameKind.Ping, default);
        Register(call, silo, register: false);
        Transport.Send(silo, call);
        try
        {
            return await call.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false) ? null : call.Error ?? new SiloUnavailableException($"silo {silo} did not answer");
        }
        catch (TimeoutException e)
        {
            return e;
        }
        finally
        {
            TryRemove(call);
        }
    }

    /// <inheritdoc />
    public Task<Exception?> DialAsync(SiloAddress silo, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        PingAsync(silo, timeout, cancellationToken);

    /// <summary>Asks <paramref name="silo"/> to deactivate its activation of <paramref name="grain"/>; true once it confirmed.</summary>
    public Task<bool> ReleaseAsync(SiloAddress silo, GrainId grain, TimeSpan timeout) => ControlAsync(FrameKind.Release, silo, grain, timeout);

    /// <summary>
    /// Tells <paramref name="silo"/> that this silo is leaving; true once it confirmed that it read the table since, so it
    /// routes no new call here (false: it did not answer in time, or its connection was lost).
    /// </summary>
    public Task<bool> LeavingAsync(SiloAddress silo, TimeSpan timeout) => ControlAsync(FrameKind.Leaving, silo, default, timeout);

    private async Task<bool> ControlAsync(FrameKind kind, SiloAddress silo, GrainId grain, TimeSpan timeout)
    {
        var call = new ControlCall(kind, grain);
        Register(call, silo, register: false);
        Transport.Send(silo, call);
        try
        {
            return await call.Task.WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return false;
        }
        finally
        {
            TryRemove(call);
        }
    }

    private void Register(RemotePending call, SiloAddress target, bool register = true)
    {
        call.Center = this;
        call.Target = target;
        call.CorrelationId = (ulong)Interlocked.Increment(ref _nextCorrelationId);
        _pending[call.CorrelationId] = call;
        if (register) Deadlines.Register(call);
    }

    public bool TryRemove(RemotePending call) => _pending.TryRemove(new KeyValuePair<ulong, RemotePending>(call.CorrelationId, call));

    public void OnFrame(SiloAddress from, ReadOnlySequence<byte> payload)
    {
        var reader = new MessageReader(payload, Runtime);
        FrameKind kind;
        ulong correlationId = 0;
        try
        {
            var first = reader.ReadByte();
            kind = (FrameKind)(first & ~GrainCallTracing.TracedFlag);
            switch (kind)
            {
                case FrameKind.Request:
                case FrameKind.OneWay:
                    var trace = (first & GrainCallTracing.TracedFlag) != 0 ? GrainCallTracing.Read(ref reader) : default;
                    if (kind == FrameKind.Request) correlationId = reader.ReadVarUInt64();
                    ReceiveRequest(from, correlationId, ref reader, trace);
                    return;
                case FrameKind.Response:
                    correlationId = reader.ReadVarUInt64();
                    var status = reader.ReadByte();
                    if (_pending.TryRemove(correlationId, out var pending)) pending.Complete(ref reader, status);
                    return;
                case FrameKind.Ping:
                    Transport.Send(from, new AckFrame(reader.ReadVarUInt64()));
                    return;
                case FrameKind.Ack:
                    if (_pending.TryRemove(reader.ReadVarUInt64(), out var acked)) acked.Complete(ref reader, 0);
                    return;
                case FrameKind.TableChanged:
                    Runtime.Cluster?.OnPeerChangedTable();
                    return;
                case FrameKind.Release:
                    correlationId = reader.ReadVarUInt64();
                    _ = ReleaseLocal(from, correlationId, GrainIdCodec.Read(ref reader));
                    return;
                case FrameKind.Leaving:
                    _ = AcknowledgeLeave(from, reader.ReadVarUInt64());
                    return;
                default:
                    LogMalformed(from.ToString(), $"unknown frame kind {(byte)kind}");
                    return;
            }
        }
        catch (Exception e) when (e is InvalidDataException or OverflowException or FormatException)
        {
            LogMalformed(from.ToString(), e.Message);
            if (correlationId != 0) Transport.Send(from, new ResponseFrame<VoidResult>(correlationId, default, new InvalidDataException($"Malformed request frame: {e.Message}")));
        }
    }

    private void ReceiveRequest(SiloAddress from, ulong correlationId, ref MessageReader reader, in System.Diagnostics.ActivityContext trace)
    {
        var hops = reader.ReadByte();
        var target = GrainIdCodec.Read(ref reader);
        var wireId = reader.ReadUInt32();
        if (!GrainTypeRegistry.TryGetMethod(wireId, out var method) || method.Factory is null)
        {
            var error = new RuntimeRejectedException($"Silo {Transport.LocalAddress} does not know grain method #{wireId} called on {target}: are all silos running the same grain interfaces?");
            if (correlationId != 0) Transport.Send(from, new ResponseFrame<VoidResult>(correlationId, default, error));
            return;
        }
        var request = method.Factory();
        try
        {
            request.ReadArguments(ref reader);
        }
        catch (Exception e) when (e is not InvalidDataException)
        {
            if (correlationId != 0) Transport.Send(from, new ResponseFrame<VoidResult>(correlationId, default, e));
            return;
        }
        // Routed and queued right here on the connection's read loop, so that calls from one silo reach an
        // activation's queue in the order they were sent (a thread-pool hop per call would let a later call
        // overtake an earlier one). Grain code runs here only after the connection's standby thread took over
        // reading (ReaderHandoff); otherwise the call waits for the activation's pump.
        if (correlationId != 0) InboundStarted();
        var span = GrainCallTracing.IsPresent(trace) ? GrainCallTracing.StartServerSpan(method, target, trace) : null;
        new RemoteRequest(this, from, correlationId, hops + 1, target, request) { Activity = span }.Dispatch();
    }

    /// <summary>Tells <paramref name="peer"/> that the membership table changed.</summary>
    public void SendTableChanged(SiloAddress peer) => Transport.Send(peer, TableChangedFrame.Instance);

    private async Task ReleaseLocal(SiloAddress from, ulong correlationId, GrainId grain)
    {
        try
        {
            // The new owner saw a newer view than this silo may have: catch up first, so that this silo
            // does not activate the grain again right after letting it go.
            if (Runtime.Cluster is { } cluster) await cluster.Membership.RefreshNowAsync().ConfigureAwait(false);
            await Runtime.ReleaseLocalActivationAsync(grain).ConfigureAwait(false);
        }
        finally
        {
            Transport.Send(from, new AckFrame(correlationId));
        }
    }

    private async Task AcknowledgeLeave(SiloAddress from, ulong correlationId)
    {
        try
        {
            // Once the view that says the sender is leaving is installed, placement sends it nothing new, and once the
            // calls routed under older views are queued, the Ack goes on the same connection after every one of them.
            if (Runtime.Cluster is { } cluster)
            {
                await cluster.Membership.RefreshNowAsync().ConfigureAwait(false);
                await cluster.Placement.Routes.DrainAsync().ConfigureAwait(false);
            }
        }
        catch (Exception e)
        {
            // Not confirmed: the leaving silo falls back to waiting for this silo's next refresh.
            LogLeaveNotConfirmed(from.ToString(), e);
            return;
        }
        Transport.Send(from, new AckFrame(correlationId));
    }

    public void OnConnectionLost(SiloAddress peer, Exception reason)
    {
        var error = reason as SiloUnavailableException ?? new SiloUnavailableException($"Connection to silo {peer} lost: {reason.Message}", reason);
        foreach (var (_, call) in _pending)
            if (call.Target == peer && TryRemove(call)) call.Fail(error);
        PeerLost?.Invoke(peer);
    }

    /// <summary>Raised after a connection to or from a peer broke (membership checks at once whether the peer is gone).</summary>
    public event Action<SiloAddress>? PeerLost;

    [LoggerMessage(EventId = 1202, Level = LogLevel.Warning, Message = "Silo {Silo} is leaving, but reading the membership table failed, so its leave is not confirmed")]
    private partial void LogLeaveNotConfirmed(string silo, Exception e);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Warning, Message = "Malformed frame from {Silo}: {Reason}")]
    private partial void LogMalformed(string silo, string reason);
}
