using Platform.Runtime.Storage;
using System.Globalization;

namespace Platform.Runtime.Timers;

/// <summary>Reminders held in process memory, with the same ETag rules as the durable tables. For tests.</summary>
public sealed class MemoryReminderTable : IReminderTable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Type, string Key, string Name), ReminderEntry> _reminders = [];

    // Never reused, so an ETag read before a remove cannot remove the reminder inserted after it.
    private long _lastETag;

    /// <inheritdoc />
    public Task<IReadOnlyList<ReminderEntry>> ReadAllAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<ReminderEntry>>([.. _reminders.Values]);
        }
    }

    /// <inheritdoc />
    public Task<ReminderEntry?> ReadAsync(string grainType, string grainKey, string name, CancellationToken cancellationToken = default)
    {
        StorageAddress.Validate(grainType, grainKey, name);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult(_reminders.GetValueOrDefault((grainType, grainKey, name)));
        }
    }

    /// <inheritdoc />
    public Task<string> UpsertAsync(string grainType, string grainKey, string name, DateTimeOffset startAt, TimeSpan period, CancellationToken cancellationToken = default)
    {
        StorageAddress.Validate(grainType, grainKey, name);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var eTag = (++_lastETag).ToString(CultureInfo.InvariantCulture);
            _reminders[(grainType, grainKey, name)] = new ReminderEntry(grainType, grainKey, name, startAt, period, eTag);
            return Task.FromResult(eTag);
        }
    }

    /// <inheritdoc />
    public Task<bool> RemoveAsync(string grainType, string grainKey, string name, string eTag, CancellationToken cancellationToken = default)
    {
        StorageAddress.Validate(grainType, grainKey, name);
        ArgumentNullException.ThrowIfNull(eTag);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var address = (grainType, grainKey, name);
            if (!_reminders.TryGetValue(address, out var entry) || !string.Equals(entry.ETag, eTag, StringComparison.Ordinal))
            {
                return Task.FromResult(false);
            }

            _reminders.Remove(address);
            return Task.FromResult(true);
        }
    }

}
