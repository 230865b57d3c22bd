using System.Globalization;
using System.Text;

namespace Platform.Agent.Deploy;

/// <summary>
/// The deploy's log: each line goes to standard error as it happens, in Go's log format (<c>2006/01/02 15:04:05 msg</c>)
/// as Stretcher writes it, and is kept so that the success and failure commands get the whole log on standard input.
/// </summary>
public sealed class DeployLog(TextWriter error, TimeProvider time)
{
    private readonly StringBuilder _kept = new();
    private readonly Lock _lock = new();

    /// <summary>Writes one line (more if <paramref name="message"/> has newlines) with the local time in front.</summary>
    public void Line(string message)
    {
        var stamp = time.GetLocalNow().ToString("yyyy/MM/dd HH:mm:ss ", CultureInfo.InvariantCulture);
        var line = stamp + message.TrimEnd('\n') + "\n";
        lock (_lock)
        {
            _kept.Append(line);
            error.Write(line);
            error.Flush();
        }
    }

    /// <summary>Everything logged so far, as UTF-8.</summary>
    public byte[] Snapshot()
    {
        lock (_lock) return Encoding.UTF8.GetBytes(_kept.ToString());
    }
}
