using System.Buffers;
using System.Diagnostics;
using Platform.Runtime.Invocation;
using Platform.Runtime.Membership;
using Platform.Runtime.Serialization;
using Platform.Runtime.Transport;

namespace Platform.Runtime.Messaging;

/// <summary>A call that arrived from another silo: queued on its target (or forwarded) and answered once it ran.</summary>
internal sealed class RemoteRequest(MessageCenter center, SiloAddress from, ulong correlationId, int hops, GrainId target, Invokable request)
{
    public int Hops { get; } = hops;

    /// <summary>The server span of a traced call (see <see cref="GrainCallTracing"/>); ended with the response.</summary>
    public Activity? Activity { get; init; }

    /// <summary>Routes the call; it runs here only on a reading thread that handed reading over first (see <see cref="ReaderHandoff"/>).</summary>
    public void Dispatch()
    {
        if (Activity is not { } activity)
        {
            request.DispatchRemote(center.Runtime, target, this);
            return;
        }
        // Current while the call is routed, so the queued message (or a forwarded call) takes it along.
        var previous = Activity.Current;
        Activity.Current = activity;
        try
        {
            request.DispatchRemote(center.Runtime, target, this);
        }
        finally
        {
            Activity.Current = previous;
        }
    }

    public void Respond<T>(T value)
    {
        Activity?.Stop();
        if (correlationId == 0) return;
        center.Transport.Send(from, new ResponseFrame<T>(correlationId, value, null, center.Transport, from));
        center.InboundFinished();
    }

    public void RespondError(Exception error)
    {
        if (Activity is { } activity)
        {
            activity.SetStatus(ActivityStatusCode.Error, error.GetType().Name);
            activity.Stop();
        }
        if (correlationId == 0) return;
        center.Transport.Send(from, new ResponseFrame<VoidResult>(correlationId, default, error, center.Transport, from));
        center.InboundFinished();
    }
}

/// <summary>A response, serialized into the connection's buffer by its writer loop (once, no intermediate copy).</summary>
internal sealed class ResponseFrame<T>(ulong correlationId, T value, Exception? error, ISiloTransport? transport = null, SiloAddress from = default) : IOutgoingFrame
{
    public void Write(IBufferWriter<byte> output)
    {
        var w = new MessageWriter(output);
        w.WriteByte((byte)FrameKind.Response);
        w.WriteVarUInt64(correlationId);
        if (error is null)
        {
            w.WriteByte(0);
            Codec<T>.Write(ref w, value);
        }
        else
        {
            w.WriteByte(1);
            ExceptionCodec.Write(ref w, error);
        }
        w.Commit();
    }

    public void OnSendFailed(Exception sendError)
    {
        // A lost connection is reported to the caller by its own side. A response that could not be
        // written (too large, not serializable) becomes an error response, so the caller isn't left waiting.
        if (transport is null || sendError is SiloUnavailableException or SiloOverloadedException or ObjectDisposedException) return;
        var why = new InvalidOperationException($"The result of the call could not be sent back: {sendError.GetType().Name}: {sendError.Message}");
        transport.Send(from, new ResponseFrame<VoidResult>(correlationId, default, why));
    }
}

/// <summary>A one-way call or an Ack; no response expected.</summary>
internal sealed class OneWayFrame(GrainId grain, Invokable request, int hops, ActivityContext trace) : IOutgoingFrame
{
    public void Write(IBufferWriter<byte> output)
    {
        var w = new MessageWriter(output);
        if (GrainCallTracing.IsPresent(trace))
        {
            w.WriteByte((byte)FrameKind.OneWay | GrainCallTracing.TracedFlag);
            GrainCallTracing.Write(ref w, trace);
        }
        else
        {
            w.WriteByte((byte)FrameKind.OneWay);
        }
        w.WriteByte((byte)hops);
        GrainIdCodec.Write(ref w, grain);
        w.WriteUInt32(request.Method.WireId);
        request.WriteArguments(ref w);
        w.Commit();
    }

    public void OnSendFailed(Exception error)
    {
    }
}

internal sealed class AckFrame(ulong correlationId) : IOutgoingFrame
{
    public void Write(IBufferWriter<byte> output)
    {
        var w = new MessageWriter(output);
        w.WriteByte((byte)FrameKind.Ack);
        w.WriteVarUInt64(correlationId);
        w.Commit();
    }

    public void OnSendFailed(Exception error)
    {
    }
}

internal sealed class TableChangedFrame : IOutgoingFrame
{
    public static readonly TableChangedFrame Instance = new();

    public void Write(IBufferWriter<byte> output)
    {
        var w = new MessageWriter(output);
        w.WriteByte((byte)FrameKind.TableChanged);
        w.Commit();
    }

    public void OnSendFailed(Exception error)
    {
    }
}
