using System.Threading.Channels;

namespace Platform.Silo.Endpoints.Feeds;

/// <summary>
/// One reader of a silo's change feed: a bounded queue of changes; one that reads too slowly loses changes and is told
/// (<see cref="TakeDropped"/>), so it reads the current state again. <typeparamref name="TWant"/> says what it follows.
/// </summary>
public sealed class FeedFollower<TWant> : IDisposable
{
    private const int QueueLimit = 256;
    private readonly Action<FeedFollower<TWant>> _close;
    private readonly Channel<object> _changes = Channel.CreateBounded<object>(new BoundedChannelOptions(QueueLimit) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private long _dropped;

    internal FeedFollower(TWant want, Action<FeedFollower<TWant>> close)
    {
        Want = want;
        _close = close;
    }

    public TWant Want { get; }

    public ChannelReader<object> Changes => _changes.Reader;

    public long TakeDropped() => Interlocked.Exchange(ref _dropped, 0);

    internal void Offer(object change)
    {
        if (!_changes.Writer.TryWrite(change)) Interlocked.Increment(ref _dropped);
    }

    internal void Complete() => _changes.Writer.TryComplete();

    public void Dispose()
    {
        _close(this);
        _changes.Writer.TryComplete();
    }
}
