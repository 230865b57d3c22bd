namespace Platform.Agent.Deploy;

/// <summary>Reads no faster than a number of bytes per second on average (Stretcher's <c>-max-bandwidth</c>).</summary>
public sealed class ThrottledStream(Stream inner, long bytesPerSecond, TimeProvider time) : Stream
{
    private readonly long _started = time.GetTimestamp();
    private long _read;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        // Small reads keep the rate smooth: at most a tenth of a second's worth at once.
        var chunk = (int)Math.Clamp(bytesPerSecond / 10, 1, buffer.Length);
        var n = await inner.ReadAsync(buffer[..chunk], cancellationToken).ConfigureAwait(false);
        _read += n;
        var due = TimeSpan.FromSeconds((double)_read / bytesPerSecond) - time.GetElapsedTime(_started);
        if (due > TimeSpan.Zero) await Task.Delay(due, time, cancellationToken).ConfigureAwait(false);
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => _read; set => throw new NotSupportedException(); }

    public override void Flush() { }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }
}
