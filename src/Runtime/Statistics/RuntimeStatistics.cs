using Platform.Runtime.Invocation;

namespace Platform.Runtime.Statistics;

/// <summary>Reads the per grain type and method counters the runtime keeps.</summary>
public interface IRuntimeStatistics
{
    /// <summary>Every registered grain type with its activations and per-method calls, failures and latency.</summary>
    IReadOnlyList<GrainTypeStatisticsSnapshot> GetGrainStatistics();
}

internal sealed class RuntimeStatistics : IRuntimeStatistics
{
    public IReadOnlyList<GrainTypeStatisticsSnapshot> GetGrainStatistics()
    {
        var interfaces = GrainTypeRegistry.AllInterfaces.ToList();
        var result = new List<GrainTypeStatisticsSnapshot>();
        foreach (var cls in GrainTypeRegistry.Classes.OrderBy(c => c.GrainType, StringComparer.Ordinal))
        {
            var methods = new List<MethodStatisticsSnapshot>();
            foreach (var itf in interfaces)
            {
                if (itf.Implementation != cls) continue;
                foreach (var m in itf.Methods)
                    methods.Add(m.Statistics.Snapshot(cls.GrainType, m.InterfaceName, m.MethodName));
            }
            foreach (var m in new[] { cls.TimerMethod, cls.ReminderMethod })
                if (m.Statistics.Calls > 0) methods.Add(m.Statistics.Snapshot(cls.GrainType, m.InterfaceName, m.MethodName));
            result.Add(new GrainTypeStatisticsSnapshot(cls.GrainType, cls.ClassType.FullName ?? cls.ClassType.Name, cls.ActivationCount, cls.ActivationAttempts, cls.ActivationFailures, methods));
        }
        return result;
    }
}
