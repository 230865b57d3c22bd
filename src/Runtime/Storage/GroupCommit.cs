namespace Platform.Runtime.Storage;

/// <summary>
/// Group commit of one activation's state: changes made while a write is in flight share the next write, so N changes
/// that arrive together cost two writes, not N (a deploy's state holds every node: a write per node result would be
/// quadratic). Each caller returns once a write that began after its change is durable. For use from one activation's
/// turns only (an <see cref="AlwaysInterleaveAttribute"/> method lets the callers meet): no locks.
/// </summary>
public sealed class GroupCommit(Func<Task> write)
{
    private long _changes;
    private long _written;
    private Task? _writing;

    /// <summary>Writes completed.</summary>
    public long Writes { get; private set; }

    /// <summary>Records a change made to the state and returns once it is durable.</summary>
    public Task CommitAsync()
    {
        _changes++;
        return DurableAsync();
    }

    /// <summary>
    /// Returns once every change recorded so far is durable: for a caller that changed nothing but must not answer
    /// before another's change is stored (a resent report of a result whose first report is still being written).
    /// </summary>
    public async Task DurableAsync()
    {
        var target = _changes;
        while (_written < target)
        {
            if (_writing is { } busy)
            {
                try
                {
                    await busy;
                }
                catch (Exception)
                {
                    // Its owner gets the failure; this caller's change still needs a write, which it makes itself.
                }
                continue;
            }
            var write = WriteAsync(_changes);
            if (!write.IsCompleted) _writing = write;
            await write;
        }
    }

    private async Task WriteAsync(long upTo)
    {
        try
        {
            await write();
            _written = Math.Max(_written, upTo);
            Writes++;
        }
        finally
        {
            _writing = null;
        }
    }
}
