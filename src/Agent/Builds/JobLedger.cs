using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Platform.Protocol;

namespace Platform.Agent.Builds;

/// <summary>
/// The jobs this agent ran, one small file per attempt under <c>data_dir/builds/ledger</c>: a job (id, attempt) it has a
/// file for is never started again, even after a restart, and a finished job's end is kept until the silo acknowledges it.
/// </summary>
internal sealed class JobLedger
{
    /// <summary>Acknowledged entries older than this are removed at start: a silo does not resend a job that old.</summary>
    public static readonly TimeSpan KeepAcknowledged = TimeSpan.FromDays(30);

    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.General) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };
    private readonly string _directory;

    public JobLedger(string dataDir)
    {
        _directory = Path.Combine(dataDir, "builds", "ledger");
    }

    /// <summary>What the ledger knows of one attempt.</summary>
    public sealed record Entry(
        [property: JsonPropertyName("job_id")] string JobId,
        [property: JsonPropertyName("attempt")] int Attempt,
        [property: JsonPropertyName("status")] string Status,
        [property: JsonPropertyName("done")] JobDoneFrame? Done = null,
        [property: JsonPropertyName("pipeline")] JobPipelineFrame? Pipeline = null);

    public const string Running = "running";
    public const string Done = "done";
    public const string Acknowledged = "acknowledged";

    /// <summary>Records that the attempt starts; false when it ran or runs already.</summary>
    public bool TryClaim(string jobId, int attempt)
    {
        Directory.CreateDirectory(_directory);
        var path = PathOf(jobId, attempt);
        try
        {
            using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
            file.Write(JsonSerializer.SerializeToUtf8Bytes(new Entry(jobId, attempt, Running), s_json));
            file.Flush(flushToDisk: true);
            return true;
        }
        catch (IOException) when (File.Exists(path))
        {
            return false;
        }
    }

    public bool Has(string jobId, int attempt) => File.Exists(PathOf(jobId, attempt));

    public void Write(Entry entry)
    {
        Directory.CreateDirectory(_directory);
        var path = PathOf(entry.JobId, entry.Attempt);
        var temporary = path + ".tmp";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write))
        {
            file.Write(JsonSerializer.SerializeToUtf8Bytes(entry, s_json));
            file.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Entries not acknowledged yet (done, or running when the agent stopped); old acknowledged ones are removed.</summary>
    public List<Entry> Unacknowledged()
    {
        var entries = new List<Entry>();
        if (!Directory.Exists(_directory)) return entries;
        foreach (var path in Directory.EnumerateFiles(_directory, "*.json"))
        {
            Entry? entry;
            try
            {
                entry = JsonSerializer.Deserialize<Entry>(File.ReadAllBytes(path), s_json);
            }
            catch (Exception e) when (e is JsonException or IOException)
            {
                continue;
            }
            if (entry is null) continue;
            if (entry.Status == Acknowledged)
            {
                if (DateTime.UtcNow - File.GetLastWriteTimeUtc(path) > KeepAcknowledged) File.Delete(path);
                continue;
            }
            entries.Add(entry);
        }
        return entries;
    }

    private string PathOf(string jobId, int attempt)
    {
        // Job ids come from the silo: hex-encode anything but plain characters so no id can name another path.
        var name = new StringBuilder(jobId.Length + 8);
        foreach (var c in jobId)
        {
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_') name.Append(c);
            else name.Append('%').Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
        }
        name.Append('.').Append(attempt.ToString(CultureInfo.InvariantCulture)).Append(".json");
        return Path.Combine(_directory, name.ToString());
    }
}
