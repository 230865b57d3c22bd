using System.Text;

namespace Platform.Agent.Deploy;

/// <summary>
/// A cluster deploy's output: everything written (the deploy log and the commands' output) is handed on as UTF-8 in
/// order, one piece per flush, and the last <see cref="TailBytes"/> are kept for the result.
/// </summary>
public sealed class DeployOutput(Action<byte[]> chunk) : TextWriter
{
    /// <summary>The tail kept for the result.</summary>
    public const int TailBytes = 4096;

    private readonly Lock _lock = new();
    private readonly StringBuilder _pending = new();
    private readonly byte[] _tail = new byte[TailBytes];
    private int _tailLength;

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value)
    {
        lock (_lock) _pending.Append(value);
    }

    public override void Write(string? value)
    {
        lock (_lock) _pending.Append(value);
    }

    public override void Write(char[] buffer, int index, int count)
    {
        lock (_lock) _pending.Append(buffer, index, count);
    }

    public override void Flush()
    {
        lock (_lock)
        {
            if (_pending.Length == 0) return;
            var bytes = Encoding.UTF8.GetBytes(_pending.ToString());
            _pending.Clear();
            KeepTail(bytes);
            chunk(bytes);
        }
    }

    /// <summary>The last <see cref="TailBytes"/> bytes written (a character cut at the start is replaced).</summary>
    public string Tail()
    {
        Flush();
        lock (_lock) return Encoding.UTF8.GetString(_tail, 0, _tailLength);
    }

    private void KeepTail(byte[] bytes)
    {
        if (bytes.Length >= TailBytes)
        {
            Buffer.BlockCopy(bytes, bytes.Length - TailBytes, _tail, 0, TailBytes);
            _tailLength = TailBytes;
            return;
        }
        var keep = Math.Min(_tailLength, TailBytes - bytes.Length);
        Buffer.BlockCopy(_tail, _tailLength - keep, _tail, 0, keep);
        Buffer.BlockCopy(bytes, 0, _tail, keep, bytes.Length);
        _tailLength = keep + bytes.Length;
    }
}
