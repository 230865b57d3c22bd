using Platform.Runtime;

namespace Platform.Grains.Access;

/// <summary>The cluster's audit log (<c>audit/default</c>): the latest entries, durable.</summary>
public interface IAuditGrain : IGrainWithStringKey
{
    /// <summary>Appends <paramref name="entry"/>; durable when it returns.</summary>
    Task Append(AuditEntry entry);

    /// <summary>Up to <paramref name="count"/> latest entries, oldest first.</summary>
    [ReadOnly]
    Task<List<AuditEntry>> Recent(int count);
}
