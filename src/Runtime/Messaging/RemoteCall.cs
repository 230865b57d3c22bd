using System.Buffers;
using System.Diagnostics;
using System.Threading.Tasks.Sources;
using Platform.Runtime.Invocation;
using Platform.Runtime.Membership;
using Platform.Runtime.Serialization;
using Platform.Runtime.Transport;

namespace Platform.Runtime.Messaging;

/// <summary>A call waiting for another silo's response.</summary>
internal abstract class RemotePending : PendingResponse, IOutgoingFrame
{
    public ulong CorrelationId;
    public SiloAddress Target;
    public MessageCenter Center = null!;

    public abstract void Write(IBufferWriter<byte> output);

    /// <summary>Reads the response payload and completes the caller.</summary>
    public abstract void Complete(ref MessageReader reader, byte status);

    public abstract void Fail(Exception error);

    public void OnSendFailed(Exception error)
    {
        if (Center.TryRemove(this)) Fail(error);
    }

    internal override void TimeOut(TimeSpan timeout, int epoch)
    {
        if (Center.TryRemove(this)) Fail(TimeoutError(timeout));
    }

    protected abstract Exception TimeoutError(TimeSpan timeout);
}

/// <summary>A grain call sent to the silo that owns the grain.</summary>
internal sealed class RemoteCall<T>(GrainId grain, Invokable<T> request, int hops, ActivityContext trace) : RemotePending, IValueTaskSource<T>
{
    private ManualResetValueTaskSourceCore<T> _response;
    private int _responded;

    public ValueTask<T> AsValueTask() => new(this, _response.Version);

    public override void Write(IBufferWriter<byte> output)
    {
        var w = new MessageWriter(output);
        if (GrainCallTracing.IsPresent(trace))
        {
            w.WriteByte((byte)FrameKind.Request | GrainCallTracing.TracedFlag);
            GrainCallTracing.Write(ref w, trace);
        }
        else
        {
            w.WriteByte((byte)FrameKind.Request);
        }
        w.WriteVarUInt64(CorrelationId);
        w.WriteByte((byte)hops);
        GrainIdCodec.Write(ref w, grain);
        w.WriteUInt32(request.Method.WireId);
        request.WriteArguments(ref w);
        w.Commit();
    }

    public override void Complete(ref MessageReader reader, byte status)
    {
        if (status == 0)
        {
            T value;
            try
            {
                value = Codec<T>.Read(ref reader);
            }
            catch (Exception e)
            {
                Fail(e);
                return;
            }
            Respond(value, null);
        }
        else
        {
            Fail(ExceptionCodec.Read(ref reader));
        }
    }

    public override void Fail(Exception error) => Respond(default!, error);

    protected override Exception TimeoutError(TimeSpan timeout)
        => new TimeoutException($"Call to {grain}.{request.Method.MethodName} ({request.Method.InterfaceName}) on silo {Target} timed out after {timeout.TotalSeconds:0.###} s: no response within the deadline.");

    private void Respond(T value, Exception? error)
    {
        if (Interlocked.Exchange(ref _responded, 1) != 0) return;
        Center.Deadlines.Unregister(this);
        if (error is null) _response.SetResult(value);
        else _response.SetException(error);
    }

    public T GetResult(short token) => _response.GetResult(token);
    public ValueTaskSourceStatus GetStatus(short token) => _response.GetStatus(token);
    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _response.OnCompleted(continuation, state, token, flags);
}

/// <summary>A control request (Ping or Release) answered by an Ack.</summary>
internal sealed class ControlCall(FrameKind kind, GrainId grain) : RemotePending
{
    private readonly TaskCompletionSource<bool> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<bool> Task => _done.Task;

    /// <summary>Why the call failed (a refused connection, a lost one), once <see cref="Task"/> is false.</summary>
    public Exception? Error { get; private set; }

    public override void Write(IBufferWriter<byte> output)
    {
        var w = new MessageWriter(output);
        w.WriteByte((byte)kind);
        w.WriteVarUInt64(CorrelationId);
        if (kind == FrameKind.Release) GrainIdCodec.Write(ref w, grain);
        w.Commit();
    }

    public override void Complete(ref MessageReader reader, byte status)
    {
        Center.Deadlines.Unregister(this);
        _done.TrySetResult(true);
    }

    public override void Fail(Exception error)
    {
        Center.Deadlines.Unregister(this);
        Error ??= error;
        _done.TrySetResult(false);
    }

    internal override void TimeOut(TimeSpan timeout, int epoch)
    {
        if (Center.TryRemove(this)) Fail(new TimeoutException());
    }

    protected override Exception TimeoutError(TimeSpan timeout) => new TimeoutException();
}
