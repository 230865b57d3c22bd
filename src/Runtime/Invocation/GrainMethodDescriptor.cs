using Platform.Runtime.Statistics;

namespace Platform.Runtime.Invocation;

/// <summary>How a method may be scheduled relative to other requests on its activation.</summary>
[Flags]
public enum GrainMethodFlags
{
    None = 0,
    AlwaysInterleave = 1,
    ReadOnly = 2,
    OneWay = 4,
}

/// <summary>Static metadata of one grain interface method; one instance per method, shared by every call.</summary>
public sealed class GrainMethodDescriptor(string interfaceName, string methodName, GrainMethodFlags flags, string? signature = null, Func<Invokable>? factory = null)
{
    /// <summary>Full signature ("Ns.IFoo.Bar(int, string)"), the same on every silo running the same interface.</summary>
    public string Signature { get; } = signature ?? $"{interfaceName}.{methodName}";

    /// <summary>The method's id on the wire: a stable 32-bit hash of <see cref="Signature"/>.</summary>
    public uint WireId { get; } = StableHash(signature ?? $"{interfaceName}.{methodName}");

    /// <summary>Creates an empty request of this method, for a call arriving from another silo.</summary>
    public Func<Invokable>? Factory { get; } = factory;

    public string InterfaceName { get; } = interfaceName;
    public string MethodName { get; } = methodName;
    public GrainMethodFlags Flags { get; } = flags;
    public bool IsAlwaysInterleave => (Flags & GrainMethodFlags.AlwaysInterleave) != 0;
    public bool IsReadOnly => (Flags & GrainMethodFlags.ReadOnly) != 0;
    public bool IsOneWay => (Flags & GrainMethodFlags.OneWay) != 0;

    /// <summary>Call counters for this method, updated by the runtime on every call.</summary>
    public MethodStatistics Statistics { get; } = new();

    private string? _traceName;

    /// <summary>The name of this method's spans: <c>{interface}/{method}</c>.</summary>
    public string TraceName => _traceName ??= $"{InterfaceName}/{MethodName}";

    public override string ToString() => $"{InterfaceName}.{MethodName}";

    /// <summary>FNV-1a over the UTF-16 code units: deterministic across processes, unlike string.GetHashCode.</summary>
    internal static uint StableHash(string text)
    {
        var hash = 2166136261u;
        foreach (var c in text)
        {
            hash = (hash ^ (byte)c) * 16777619u;
            hash = (hash ^ (byte)(c >> 8)) * 16777619u;
        }
        return hash;
    }
}
