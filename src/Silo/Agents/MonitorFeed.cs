using System.Threading.Channels;

namespace Platform.Silo.Agents;

/// <summary>
/// The silo's monitor streams: every line (encoded once) goes to every open stream's bounded queue; a stream that
/// reads too slowly loses lines and is told how many, so a slow reader never makes the silo hold more.
/// </summary>
public sealed class MonitorFeed(int queueLimit)
{
    private readonly Lock _lock = new();
    private MonitorStream[] _streams = [];

    /// <summary>Opens a stream; dispose it when the reader goes.</summary>
    public MonitorStream Open()
    {
        var stream = new MonitorStream(this, queueLimit);
        lock (_lock) _streams = [.. _streams, stream];
        return stream;
    }

    /// <summary>Sends one NDJSON line (without its newline) to every stream.</summary>
    public void Publish(byte[] line)
    {
        var streams = Volatile.Read(ref _streams);
        foreach (var s in streams) s.Offer(line);
    }

    /// <summary>Ends every stream (the silo is stopping).</summary>
    public void CloseAll()
    {
        MonitorStream[] streams;
        lock (_lock) (streams, _streams) = (_streams, []);
        foreach (var s in streams) s.Complete();
    }

    internal void Close(MonitorStream stream)
    {
        lock (_lock) _streams = Array.FindAll(_streams, s => s != stream);
    }
}

/// <summary>One reader of the monitor feed.</summary>
public sealed class MonitorStream : IDisposable
{
    private readonly MonitorFeed _feed;
    private readonly Channel<byte[]> _lines;
    private long _dropped;

    internal MonitorStream(MonitorFeed feed, int queueLimit)
    {
        _feed = feed;
        _lines = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(queueLimit) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    }

    public ChannelReader<byte[]> Lines => _lines.Reader;

    /// <summary>How many lines were dropped since the last call.</summary>
    public long TakeDropped() => Interlocked.Exchange(ref _dropped, 0);

    internal void Offer(byte[] line)
    {
        if (!_lines.Writer.TryWrite(line)) Interlocked.Increment(ref _dropped);
    }

    internal void Complete() => _lines.Writer.TryComplete();

    public void Dispose()
    {
        _feed.Close(this);
        _lines.Writer.TryComplete();
    }
}
