namespace Platform.Grains.Access;

/// <summary>The audit grain's durable state: the latest entries, oldest first.</summary>
public sealed class AuditState
{
    public List<AuditEntry> Entries { get; set; } = [];
}
