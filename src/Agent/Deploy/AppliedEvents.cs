using System.Text.Json;
using System.Text.Json.Serialization;

namespace Platform.Agent.Deploy;

/// <summary>
/// The last deploy event applied per event name, in a small JSON file, so that a replayed event (a restarted
/// <c>consul watch</c> handing over its last event again, a Serf handler run twice) is not applied twice. A lock file
/// beside it makes deploys on one machine run one at a time.
/// </summary>
public sealed class AppliedEvents : IAsyncDisposable
{
    private readonly string _path;
    private readonly FileStream _lock;
    private readonly Dictionary<string, AppliedEvent> _events;

    private AppliedEvents(string path, FileStream lockFile, Dictionary<string, AppliedEvent> events)
    {
        _path = path;
        _lock = lockFile;
        _events = events;
    }

    /// <summary>Takes the lock (waiting while another deploy holds it) and reads the file at <paramref name="path"/>.</summary>
    public static async Task<AppliedEvents> OpenAsync(string path, TimeProvider time, CancellationToken cancellationToken)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        try
        {
            Directory.CreateDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DeployException($"state file {path}: cannot create its directory: {e.Message}", e);
        }
        FileStream lockFile;
        while (true)
        {
            try
            {
                // FileShare.None takes an advisory flock on Unix: held until disposed, released if the process dies.
                lockFile = new FileStream(path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                break;
            }
            catch (UnauthorizedAccessException e)
            {
                throw new DeployException($"state file {path}.lock: {e.Message}", e);
            }
            catch (IOException)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), time, cancellationToken).ConfigureAwait(false);
            }
        }
        Dictionary<string, AppliedEvent> events;
        try
        {
            events = File.Exists(path)
                ? JsonSerializer.Deserialize(await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false), AppliedEventsJson.Default.DictionaryStringAppliedEvent) ?? []
                : [];
        }
        catch (JsonException e)
        {
            await lockFile.DisposeAsync().ConfigureAwait(false);
            throw new DeployException($"state file {path}: not the expected JSON ({e.Message}); remove it to start afresh", e);
        }
        return new AppliedEvents(path, lockFile, events);
    }

    /// <summary>The event already applied that makes <paramref name="e"/> a replay (same ID, or a Lamport time not newer), or null.</summary>
    public AppliedEvent? AlreadyApplied(StretchEvent e)
    {
        if (e.Id is null && e.LTime is null) return null;
        if (!_events.TryGetValue(e.Name ?? "", out var last)) return null;
        if (e.Id is not null && e.Id == last.Id) return last;
        if (e.LTime is { } ltime && last.LTime is { } lastTime && ltime <= lastTime) return last;
        return null;
    }

    /// <summary>Records <paramref name="e"/> as applied, durably (write to a temporary file, fsync, rename).</summary>
    public async Task RecordAsync(StretchEvent e, bool succeeded, DateTimeOffset at, CancellationToken cancellationToken)
    {
        if (e.Id is null && e.LTime is null) return;
        _events[e.Name ?? ""] = new AppliedEvent { Id = e.Id, LTime = e.LTime, Url = LogSafe.Url(e.ManifestUrl), Succeeded = succeeded, AppliedAt = at };
        var temporary = _path + ".tmp";
        await using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            await JsonSerializer.SerializeAsync(file, _events, AppliedEventsJson.Default.DictionaryStringAppliedEvent, cancellationToken).ConfigureAwait(false);
            file.Flush(flushToDisk: true);
        }
        File.Move(temporary, _path, overwrite: true);
    }

    public ValueTask DisposeAsync() => _lock.DisposeAsync();
}

/// <summary>One applied deploy event as kept in the state file.</summary>
public sealed record AppliedEvent
{
    /// <summary>The Consul event ID, when it came from Consul.</summary>
    public string? Id { get; init; }

    /// <summary>The event's Lamport time, when known.</summary>
    public ulong? LTime { get; init; }

    /// <summary>The manifest URL (without its query).</summary>
    public string Url { get; init; } = "";

    /// <summary>Whether the deploy succeeded.</summary>
    public bool Succeeded { get; init; }

    /// <summary>When it finished.</summary>
    public DateTimeOffset AppliedAt { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Dictionary<string, AppliedEvent>))]
internal sealed partial class AppliedEventsJson : JsonSerializerContext;
