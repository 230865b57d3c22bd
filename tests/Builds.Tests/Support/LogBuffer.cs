using System.Text;

namespace Platform.Builds.Tests.Support;

/// <summary>A job's output as the runner writes it, readable while the job runs.</summary>
public sealed class LogBuffer
{
    private readonly MemoryStream _bytes = new();

    public void Write(ReadOnlySpan<byte> data)
    {
        lock (_bytes) _bytes.Write(data);
    }

    public string Text
    {
        get { lock (_bytes) return Encoding.UTF8.GetString(_bytes.GetBuffer(), 0, (int)_bytes.Length); }
    }
}
