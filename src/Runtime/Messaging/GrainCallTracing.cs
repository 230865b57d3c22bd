using System.Diagnostics;
using Platform.Runtime.Invocation;
using Platform.Runtime.Serialization;

namespace Platform.Runtime.Messaging;

/// <summary>
/// W3C trace context across silos. A call sent while an <see cref="Activity"/> is current carries its trace id, span id
/// and flags (the fields of a <c>traceparent</c> header, 25 bytes in binary) and has the high bit of its frame kind set;
/// a call sent without one is unchanged, byte for byte. The receiving silo, when something listens to
/// <see cref="RuntimeActivitySource.Name"/>, runs the grain call inside a server span <c>{interface}/{method}</c> whose
/// parent is the caller's span, so one request's trace spans silos.
/// </summary>
internal static class GrainCallTracing
{
    /// <summary>Set on the frame kind byte of a request or one-way call that carries a trace context.</summary>
    public const byte TracedFlag = 0x80;

    private const int ContextLength = 16 + 8 + 1;

    public static readonly ActivitySource Source = new(RuntimeActivitySource.Name);

    /// <summary>The caller's trace context, or default (nothing sent) when no activity is current.</summary>
    public static ActivityContext Capture() => Activity.Current is { } current ? current.Context : default;

    public static bool IsPresent(in ActivityContext context) => context.TraceId != default;

    public static void Write(ref MessageWriter writer, in ActivityContext context)
    {
        Span<byte> bytes = stackalloc byte[ContextLength];
        context.TraceId.CopyTo(bytes[..16]);
        context.SpanId.CopyTo(bytes[16..24]);
        bytes[24] = (byte)context.TraceFlags;
        writer.WriteRaw(bytes);
    }

    public static ActivityContext Read(ref MessageReader reader)
    {
        Span<byte> bytes = stackalloc byte[ContextLength];
        reader.ReadRaw(bytes);
        return new ActivityContext(ActivityTraceId.CreateFromBytes(bytes[..16]), ActivitySpanId.CreateFromBytes(bytes[16..24]), (ActivityTraceFlags)bytes[24], isRemote: true);
    }

    /// <summary>Starts the server span of a call that arrived with <paramref name="parent"/>; null when nothing listens.</summary>
    public static Activity? StartServerSpan(GrainMethodDescriptor method, GrainId target, in ActivityContext parent)
    {
        if (!Source.HasListeners()) return null;
        // Started but not left current: this runs on a connection's reading thread, where a later call may run grain
        // code (ReaderHandoff); RemoteRequest.Dispatch makes the span current only while it routes the call.
        var previous = Activity.Current;
        var activity = Source.StartActivity(method.TraceName, ActivityKind.Server, parent);
        Activity.Current = previous;
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("rpc.system", "platform");
            activity.SetTag("rpc.service", method.InterfaceName);
            activity.SetTag("rpc.method", method.MethodName);
            activity.SetTag("platform.grain", target.ToString());
        }
        return activity;
    }
}
