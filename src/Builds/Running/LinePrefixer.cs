using System.Text;

namespace Platform.Builds.Running;

/// <summary>Writes a step's output line by line with a prefix (<c>[key] </c>), holding a partial line until it ends.</summary>
public sealed class LinePrefixer(TextWriter writer, string prefix)
{
    private readonly List<byte> _partial = [];

    /// <summary>Adds output; every complete line is written at once.</summary>
    public void Write(ReadOnlySpan<byte> data)
    {
        lock (_partial)
        {
            foreach (var b in data)
            {
                if (b == (byte)'\n')
                {
                    writer.WriteLine(prefix + Encoding.UTF8.GetString([.. _partial]));
                    _partial.Clear();
                }
                else _partial.Add(b);
            }
            writer.Flush();
        }
    }

    /// <summary>Writes a last line that had no newline.</summary>
    public void Flush()
    {
        lock (_partial)
        {
            if (_partial.Count == 0) return;
            writer.WriteLine(prefix + Encoding.UTF8.GetString([.. _partial]));
            _partial.Clear();
            writer.Flush();
        }
    }
}
