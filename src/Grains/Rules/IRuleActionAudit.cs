namespace Platform.Grains.Rules;

/// <summary>Where a rule's actions record what they started, as requests with a token are recorded (the silo's audit log).</summary>
public interface IRuleActionAudit
{
    /// <summary>Records that <paramref name="actor"/> (<c>rule:{rule id}</c>) did <paramref name="action"/> to <paramref name="target"/>.</summary>
    Task RecordAsync(string actor, string action, string target, CancellationToken cancellationToken);
}
