namespace Platform.Grains.Deploys;

/// <summary>
/// A node's live output as it arrives in chunks with their byte offsets: a repeated chunk is dropped, and past
/// <see cref="DeployGrain.LiveLogLimit"/> the oldest bytes go (a reader asking for them gets what is left).
/// </summary>
internal sealed class LiveLog(long start)
{
    private byte[] _data = new byte[4096];
    private int _length;

    /// <summary>The log offset of the first byte kept.</summary>
    public long Start { get; private set; } = start;

    public long End => Start + _length;

    public void Append(long offset, byte[] chunk)
    {
        if (offset > End)
        {
            // A gap (chunks lost with a silo that died): what follows starts a new stretch.
            Start = offset;
            _length = 0;
        }
        var skip = End - offset;
        if (skip >= chunk.Length) return;
        var add = chunk.AsSpan((int)skip);
        if (_length + add.Length > DeployGrain.LiveLogLimit)
        {
            var drop = Math.Min(_length, _length + add.Length - DeployGrain.LiveLogLimit);
            Buffer.BlockCopy(_data, drop, _data, 0, _length - drop);
            _length -= drop;
            Start += drop;
            if (add.Length > DeployGrain.LiveLogLimit)
            {
                Start += add.Length - DeployGrain.LiveLogLimit;
                add = add[^DeployGrain.LiveLogLimit..];
            }
        }
        if (_length + add.Length > _data.Length) Array.Resize(ref _data, Math.Max(_data.Length * 2, _length + add.Length));
        add.CopyTo(_data.AsSpan(_length));
        _length += add.Length;
    }

    public DeployLogRead Read(long offset, bool done)
    {
        var from = Math.Clamp(offset, Start, End);
        return new DeployLogRead(from, _data.AsSpan((int)(from - Start), (int)(End - from)).ToArray(), done, true);
    }
}
