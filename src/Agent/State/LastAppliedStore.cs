using System.Globalization;
using System.Text;
using Platform.Agent.Configuration;

namespace Platform.Agent.State;

/// <summary>
/// The Lamport time of the last user event this node handled, kept in <c>data_dir/last-event-ltime</c> so a restarted
/// agent neither replays nor skips events. Written through a temporary file, fsync and rename.
/// </summary>
public sealed class LastAppliedStore
{
    /// <summary>The file's name inside the data directory.</summary>
    public const string FileName = "last-event-ltime";

    private readonly string _path;

    /// <summary>A store in <paramref name="dataDir"/> (created on the first write).</summary>
    public LastAppliedStore(string dataDir) => _path = System.IO.Path.Combine(dataDir, FileName);

    /// <summary>The file's path.</summary>
    public string Path => _path;

    /// <summary>The stored ltime, or null when this agent has never run with this data directory.</summary>
    public ulong? Load()
    {
        if (!File.Exists(_path)) return null;
        var text = File.ReadAllText(_path).Trim();
        return ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var ltime)
            ? ltime
            : throw new InvalidDataException($"{_path}: holds '{text}'; expected the decimal ltime of the last applied user event");
    }

    /// <summary>Records <paramref name="ltime"/> durably before returning.</summary>
    public void Save(ulong ltime)
        => AtomicFile.Write(_path, Encoding.ASCII.GetBytes(ltime.ToString(CultureInfo.InvariantCulture) + "\n"));
}
