using System.Text.Json;
using System.Text.Json.Serialization;

namespace Platform.Agent.Deploy;

/// <summary>
/// The cluster deploys this node has taken, by deploy id, in <c>deploys.json</c> in the agent's data directory: a deploy
/// is recorded as running before it starts, so a deploy frame sent again (a resend, a silo that died and came back,
/// an agent restart) never runs it twice; a finished one keeps its result until the silo acknowledges it.
/// </summary>
public sealed class ClusterDeployRecords
{
    /// <summary>Records kept; the oldest acknowledged ones go first.</summary>
    public const int Kept = 500;

    private readonly string _path;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ClusterDeployRecord> _records;

    private ClusterDeployRecords(string path, Dictionary<string, ClusterDeployRecord> records)
    {
        _path = path;
        _records = records;
    }

    /// <summary>Reads <c>deploys.json</c> under <paramref name="dataDir"/> (none yet: empty).</summary>
    public static ClusterDeployRecords Open(string dataDir)
    {
        var path = Path.Combine(dataDir, "deploys.json");
        Dictionary<string, ClusterDeployRecord> records;
        try
        {
            records = File.Exists(path) ? JsonSerializer.Deserialize(File.ReadAllBytes(path), ClusterDeployJson.Default.DictionaryStringClusterDeployRecord) ?? [] : [];
        }
        catch (JsonException e)
        {
            throw new DeployException($"deploy state {path}: not the expected JSON ({e.Message}); remove it to start afresh", e);
        }
        return new ClusterDeployRecords(path, records);
    }

    /// <summary>The record of <paramref name="deployId"/>, or null when this node never took it.</summary>
    public ClusterDeployRecord? Find(string deployId)
    {
        lock (_lock) return _records.GetValueOrDefault(deployId);
    }

    /// <summary>Records <paramref name="deployId"/> as running, durably, before it runs.</summary>
    public void Begin(string deployId, DateTimeOffset at) => Put(deployId, new ClusterDeployRecord { Status = ClusterDeployRecord.Running, Started = at });

    /// <summary>Records how <paramref name="deployId"/> ended, durably.</summary>
    public void Finish(string deployId, ClusterDeployRecord result) => Put(deployId, result);

    /// <summary>The silo stored the result: it is no longer resent.</summary>
    public void Acknowledge(string deployId)
    {
        lock (_lock)
        {
            if (!_records.TryGetValue(deployId, out var record) || record.Acknowledged || record.Status == ClusterDeployRecord.Running) return;
            _records[deployId] = record with { Acknowledged = true };
            Save();
        }
    }

    /// <summary>Finished deploys whose result the silo has not acknowledged.</summary>
    public List<(string Id, ClusterDeployRecord Record)> Unacknowledged()
    {
        var found = new List<(string, ClusterDeployRecord)>();
        lock (_lock)
            foreach (var (id, record) in _records)
                if (!record.Acknowledged && record.Status != ClusterDeployRecord.Running) found.Add((id, record));
        return found;
    }

    private void Put(string deployId, ClusterDeployRecord record)
    {
        lock (_lock)
        {
            _records[deployId] = record;
            if (_records.Count > Kept)
            {
                var oldest = _records.Where(r => r.Value.Acknowledged).OrderBy(r => r.Value.Started).Take(_records.Count - Kept).Select(r => r.Key).ToList();
                foreach (var id in oldest) _records.Remove(id);
            }
            Save();
        }
    }

    /// <summary>Writes a temporary file, fsyncs it and renames it over the old one.</summary>
    private void Save()
    {
        var temporary = _path + ".tmp";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(file, _records, ClusterDeployJson.Default.DictionaryStringClusterDeployRecord);
            file.Flush(flushToDisk: true);
        }
        File.Move(temporary, _path, overwrite: true);
    }
}

/// <summary>One cluster deploy on this node: running, or its result.</summary>
public sealed record ClusterDeployRecord
{
    public const string Running = "running";

    /// <summary>running, succeeded, failed or timed-out.</summary>
    public string Status { get; init; } = Running;

    public int ExitCode { get; init; }

    public long DurationMs { get; init; }

    public string OutputTail { get; init; } = "";

    public DateTimeOffset Started { get; init; }

    /// <summary>The silo stored the result.</summary>
    public bool Acknowledged { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(Dictionary<string, ClusterDeployRecord>))]
internal sealed partial class ClusterDeployJson : JsonSerializerContext;
