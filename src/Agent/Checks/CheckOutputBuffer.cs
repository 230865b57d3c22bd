using System.Text;

namespace Platform.Agent.Checks;

/// <summary>
/// Keeps the last <c>capacity</c> bytes written to it (Consul's circular buffer for check output), so a chatty
/// script costs a bounded amount of memory however much it prints. Safe for stdout and stderr writing at once.
/// </summary>
internal sealed class CheckOutputBuffer(int capacity)
{
    private readonly byte[] _ring = new byte[capacity];
    private readonly Lock _gate = new();
    private long _total;

    /// <summary>Bytes written so far, kept or not.</summary>
    public long TotalWritten
    {
        get
        {
            lock (_gate) return _total;
        }
    }

    /// <summary>Appends <paramref name="data"/>; only its last <c>capacity</c> bytes survive.</summary>
    public void Write(ReadOnlySpan<byte> data)
    {
        if (_ring.Length == 0) return;
        lock (_gate)
        {
            var written = data.Length;
            // Bytes that would be overwritten within this same write are skipped, as if written.
            if (data.Length > _ring.Length) data = data[^_ring.Length..];
            var at = (int)((_total + written - data.Length) % _ring.Length);
            var first = Math.Min(data.Length, _ring.Length - at);
            data[..first].CopyTo(_ring.AsSpan(at));
            data[first..].CopyTo(_ring);
            _total += written;
        }
    }

    /// <summary>The kept bytes as text, without a note.</summary>
    public string Text()
    {
        lock (_gate)
        {
            if (_total <= _ring.Length) return Encoding.UTF8.GetString(_ring, 0, (int)_total);
            var at = (int)(_total % _ring.Length);
            var ordered = new byte[_ring.Length];
            _ring.AsSpan(at).CopyTo(ordered);
            _ring.AsSpan(0, at).CopyTo(ordered.AsSpan(_ring.Length - at));
            return Encoding.UTF8.GetString(ordered);
        }
    }

    /// <summary>The kept bytes as text, led by Consul's note when earlier bytes were dropped.</summary>
    public string TextWithNote()
    {
        long total;
        lock (_gate) total = _total;
        var text = Text();
        return total > _ring.Length ? CheckOutputText.TailNote(_ring.Length, total) + text : text;
    }
}
