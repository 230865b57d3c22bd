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
public sealed class GrainMethodDescriptor(string interfaceName, string methodName, GrainMethodFlags flags)
{
    public string InterfaceName { get; } = interfaceName;
    public string MethodName { get; } = methodName;
    public GrainMethodFlags Flags { get; } = flags;
    public bool IsAlwaysInterleave => (Flags & GrainMethodFlags.AlwaysInterleave) != 0;
    public bool IsReadOnly => (Flags & GrainMethodFlags.ReadOnly) != 0;
    public bool IsOneWay => (Flags & GrainMethodFlags.OneWay) != 0;

    /// <summary>Call counters for this method, updated by the runtime on every call.</summary>
    public MethodStatistics Statistics { get; } = new();

    public override string ToString() => $"{InterfaceName}.{MethodName}";
}
