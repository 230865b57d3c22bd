namespace Platform.Runtime.Timers;

/// <summary>A durable reminder row.</summary>
public sealed record ReminderEntry(string GrainType, string GrainKey, string Name, DateTimeOffset StartAt, TimeSpan Period, string ETag);

/// <summary>Durable reminder storage. Providers: memory, SQLite, PostgreSQL.</summary>
public interface IReminderTable
{
    /// <summary>Every reminder (one silo owns them all until the cluster divides them).</summary>
    Task<IReadOnlyList<ReminderEntry>> ReadAllAsync(CancellationToken cancellationToken = default);

    /// <summary>One grain's reminder, or null.</summary>
    Task<ReminderEntry?> ReadAsync(string grainType, string grainKey, string name, CancellationToken cancellationToken = default);

    /// <summary>Inserts or replaces a reminder; returns the new ETag.</summary>
    Task<string> UpsertAsync(string grainType, string grainKey, string name, DateTimeOffset startAt, TimeSpan period, CancellationToken cancellationToken = default);

    /// <summary>Removes a reminder if its ETag matches; returns false when it did not.</summary>
    Task<bool> RemoveAsync(string grainType, string grainKey, string name, string eTag, CancellationToken cancellationToken = default);
}
