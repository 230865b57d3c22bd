using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Platform.Runtime.Hosting;
using Platform.Runtime.Invocation;

namespace Platform.Runtime.Timers;

/// <summary>
/// Durable reminders: rows live in the <see cref="IReminderTable"/>; this silo keeps one local timer
/// per row, loaded again at start, so a reminder fires after a restart and reactivates its grain.
/// Ticks follow the grid StartAt + k·Period; ticks missed while the silo was down collapse into one.
/// Time comes from the <see cref="TimeProvider"/> registered in the container, or the system clock.
/// </summary>
public sealed partial class ReminderService(GrainRuntime runtime, IReminderTable table, ILogger<ReminderService> logger, TimeProvider? timeProvider = null) : IAsyncDisposable
{
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;

    private readonly ConcurrentDictionary<(GrainId Grain, string Name), LocalReminder> _local = new();
    private volatile bool _stopped;

    /// <summary>Loads every stored reminder and arms those of grains this silo owns; in a cluster, again after each view change.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (runtime.Cluster is { } cluster) cluster.ViewApplied += view => RebalanceAsync().ContinueWith(static t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted);
        await RebalanceAsync(cancellationToken).ConfigureAwait(false);
    }

    private readonly SemaphoreSlim _rebalance = new(1, 1);

    /// <summary>Arms the reminders of grains this silo owns and disarms the others (ownership follows the cluster view).</summary>
    private async Task RebalanceAsync(CancellationToken cancellationToken = default)
    {
        if (_stopped) return;
        await _rebalance.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            IReadOnlyList<ReminderEntry> rows;
            try
            {
                rows = await table.ReadAllAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (_local.Count > 0 || runtime.Cluster is not null)
            {
                // Keep what is armed; the next view change tries again.
                LogRebalanceFailed(e);
                return;
            }
            var owned = new HashSet<(GrainId, string)>();
            foreach (var row in rows)
            {
                var grain = new GrainId(row.GrainType, row.GrainKey);
                if (!IsOwned(grain)) continue;
                owned.Add((grain, row.Name));
                if (_local.TryGetValue((grain, row.Name), out var armed) && armed.Row.ETag == row.ETag) continue;
                Arm(row);
            }
            foreach (var key in _local.Keys)
                if (!owned.Contains(key) && _local.TryRemove(key, out var gone)) gone.Dispose();
            LogLoaded(owned.Count);
        }
        finally
        {
            _rebalance.Release();
        }
    }

    private bool IsOwned(GrainId grain) => runtime.Cluster is not { } cluster || cluster.Placement.OwnerOf(grain) == cluster.Self;

    /// <summary>Stores a reminder and arms it; replaces one of the same name.</summary>
    public async Task RegisterOrUpdateAsync(GrainId grainId, string name, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (period < runtime.Options.MinimumReminderPeriod)
            throw new ArgumentOutOfRangeException(nameof(period), period, $"Reminder '{name}' of {grainId}: period {period} is shorter than the minimum {runtime.Options.MinimumReminderPeriod} (SiloOptions.MinimumReminderPeriod).");
        if (dueTime < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(dueTime), dueTime, $"Reminder '{name}' of {grainId}: due time must be zero or positive.");
        var startAt = _time.GetUtcNow() + dueTime;
        var etag = await table.UpsertAsync(grainId.Type, grainId.Key, name, startAt, period).ConfigureAwait(false);
        Arm(new ReminderEntry(grainId.Type, grainId.Key, name, startAt, period, etag));
    }

    /// <summary>Removes a reminder; false when there was none.</summary>
    public async Task<bool> UnregisterAsync(GrainId grainId, string name)
    {
        if (_local.TryRemove((grainId, name), out var local)) local.Dispose();
        var row = await table.ReadAsync(grainId.Type, grainId.Key, name).ConfigureAwait(false);
        if (row is null) return false;
        return await table.RemoveAsync(grainId.Type, grainId.Key, name, row.ETag).ConfigureAwait(false);
    }

    /// <summary>Reminders armed on this silo.</summary>
    public int Count => _local.Count;

    private void Arm(ReminderEntry row)
    {
        if (_stopped) return;
        var key = (new GrainId(row.GrainType, row.GrainKey), row.Name);
        var local = new LocalReminder(this, key.Item1, row);
        _local.AddOrUpdate(key, local, (_, old) =>
        {
            old.Dispose();
            return local;
        });
        local.ArmNext();
    }

    private async Task FireAsync(LocalReminder reminder, DateTimeOffset tickTime)
    {
        try
        {
            var status = new TickStatus(reminder.Row.StartAt, reminder.Row.Period, tickTime);
            await runtime.InvokeAsync(reminder.Grain, new ReceiveReminderRequest(reminder.Grain, reminder.Row.Name, status)).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            LogTickFailed(reminder.Row.Name, reminder.Grain.ToString(), e);
        }
    }

    public ValueTask DisposeAsync()
    {
        _stopped = true;
        foreach (var r in _local.Values) r.Dispose();
        _local.Clear();
        return ValueTask.CompletedTask;
    }

    [LoggerMessage(EventId = 1103, Level = LogLevel.Warning, Message = "Could not reload reminders after a view change")]
    private partial void LogRebalanceFailed(Exception e);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "{Count} reminders armed on this silo")]
    private partial void LogLoaded(int count);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "Reminder {Name} of {GrainId} failed")]
    private partial void LogTickFailed(string name, string grainId, Exception e);

    private sealed class LocalReminder : IDisposable
    {
        private readonly ReminderService _service;
        private readonly ITimer _timer;
        private DateTimeOffset _nextTick;
        private DateTimeOffset _lastFired;
        private volatile bool _disposed;

        public LocalReminder(ReminderService service, GrainId grain, ReminderEntry row)
        {
            _service = service;
            Grain = grain;
            Row = row;
            _timer = service._time.CreateTimer(static s => ((LocalReminder)s!).OnDue(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        public GrainId Grain { get; }
        public ReminderEntry Row { get; }

        /// <summary>Arms the timer for the first grid point StartAt + k·Period not before now (and after the last tick fired).</summary>
        public void ArmNext()
        {
            if (_disposed) return;
            var now = _service._time.GetUtcNow();
            var next = Row.StartAt;
            if (next < now) next = Row.StartAt + Row.Period * Math.Ceiling((now - Row.StartAt) / Row.Period);
            if (next <= _lastFired) next = _lastFired + Row.Period;
            _nextTick = next;
            var delay = next - now;
            try
            {
                _timer.Change(delay < TimeSpan.Zero ? TimeSpan.Zero : delay, Timeout.InfiniteTimeSpan);
            }
            catch (ObjectDisposedException)
            {
            }
        }

        private void OnDue()
        {
            if (_disposed) return;
            _ = Fire(_nextTick);
        }

        private async Task Fire(DateTimeOffset tick)
        {
            await _service.FireAsync(this, tick).ConfigureAwait(false);
            _lastFired = tick;
            ArmNext();
        }

        public void Dispose()
        {
            _disposed = true;
            _timer.Dispose();
        }
    }
}

/// <summary>The call a reminder tick makes: <see cref="IRemindable.ReceiveReminder"/> on the grain.</summary>
internal sealed class ReceiveReminderRequest(GrainId grainId, string name, TickStatus status) : Invokable<VoidResult>
{
    private static readonly GrainMethodDescriptor Unregistered = new(nameof(IRemindable), nameof(IRemindable.ReceiveReminder), GrainMethodFlags.None);

    public override GrainMethodDescriptor Method { get; } = GrainTypeRegistry.TryGetClass(grainId.Type, out var c) ? c.ReminderMethod : Unregistered;

    public override object?[] GetArguments() => [name, status];

    public override ValueTask<VoidResult> Invoke(object target)
    {
        if (target is not IRemindable remindable)
            throw new InvalidOperationException($"Grain {grainId} has reminder '{name}' but does not implement IRemindable.");
        return FromTask(remindable.ReceiveReminder(name, status));
    }
}
