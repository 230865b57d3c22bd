using System.Text.Json;
using System.Threading.Channels;
using Platform.Agent.Checks;
using Platform.Protocol;

namespace Platform.Agent.Tests.Checks;

/// <summary>A check set under test with what it reported: every change and every finished run, awaited with a deadline.</summary>
public sealed class CheckRecorder : IAsyncDisposable
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(20);
    private readonly Channel<CheckState> _changes = Channel.CreateUnbounded<CheckState>();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Channel<CheckResult>> _runs = new();

    public CheckRecorder(string checksJson, TimeProvider? time = null, CheckOptions? options = null)
    {
        options ??= new CheckOptions { EnableScriptChecks = true };
        using var document = JsonDocument.Parse(checksJson);
        Definitions = CheckDefinitionReader.Read(document.RootElement, options);
        Set = new CheckSet(Definitions, state => _changes.Writer.TryWrite(state), options, time);
        Set.ProbeFinished += (id, result) => Runs(id).Writer.TryWrite(result);
    }

    public IReadOnlyList<CheckDefinition> Definitions { get; }

    public CheckSet Set { get; }

    /// <summary>Changes reported and not yet taken by <see cref="NextChange"/>.</summary>
    public int PendingChanges => _changes.Reader.Count;

    public async Task<CheckState> NextChange()
    {
        using var deadline = new CancellationTokenSource(s_deadline);
        return await _changes.Reader.ReadAsync(deadline.Token);
    }

    /// <summary>The next finished run of check <paramref name="id"/>; runs of other checks stay queued for them.</summary>
    public async Task<CheckResult> NextRun(string id)
    {
        using var deadline = new CancellationTokenSource(s_deadline);
        return await Runs(id).Reader.ReadAsync(deadline.Token);
    }

    private Channel<CheckResult> Runs(string id) => _runs.GetOrAdd(id, static _ => Channel.CreateUnbounded<CheckResult>());

    public ValueTask DisposeAsync() => Set.DisposeAsync();
}
