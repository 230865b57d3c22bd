using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Protocol;

namespace Platform.Agent.Checks;

/// <summary>
/// The checks registered for the node through the API, as the silo sends them (a <c>checks</c> frame): each runs in a
/// <see cref="CheckSet"/> of its own, so adding or removing one leaves the others' timers and TTLs alone. A check that
/// may not run here (a script without <c>enable_script_checks</c>, a definition the agent cannot read) is kept as a
/// critical state whose output says why. Rules in docs/checks.md.
/// </summary>
public sealed partial class RegisteredChecks : IAsyncDisposable
{
    private readonly Dictionary<string, Entry> _checks = new(StringComparer.Ordinal);
    private readonly IReadOnlySet<string> _configIds;
    private readonly bool _allowScripts;
    private readonly Action<CheckState> _changed;
    private readonly int _outputMaxSize;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private long _version = -1;
    private bool _disposed;

    /// <summary>
    /// Registered checks beside the configuration's (<paramref name="configIds"/>, which they may not take);
    /// <paramref name="allowScripts"/>: the configuration sets <c>enable_script_checks</c>.
    /// </summary>
    public RegisteredChecks(IReadOnlySet<string> configIds, bool allowScripts, Action<CheckState> changed, int outputMaxSize = CheckOptions.DefaultOutputMaxSize,
        TimeProvider? time = null, ILoggerFactory? loggerFactory = null)
    {
        _configIds = configIds;
        _allowScripts = allowScripts;
        _changed = changed;
        _outputMaxSize = outputMaxSize;
        _time = time ?? TimeProvider.System;
        _loggers = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggers.CreateLogger<RegisteredChecks>();
    }

    /// <summary>Whether any registered check is held: the hello says so, and the silo then sends the set even when it is now empty.</summary>
    public bool Any
    {
        get { lock (_checks) return _checks.Count != 0; }
    }

    /// <summary>Every registered check's state now, by id.</summary>
    public IReadOnlyList<CheckState> Current
    {
        get
        {
            lock (_checks) return [.. _checks.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => c.Value.State)];
        }
    }

    /// <summary>A new connection: the next set is taken whatever its version (the node may have been reaped and joined anew).</summary>
    public void ResetVersion() => Interlocked.Exchange(ref _version, -1);

    /// <summary>
    /// Makes the registered checks exactly <paramref name="checks"/>: new ones start, changed ones start over, missing ones
    /// stop (running scripts are killed and awaited). Every check's state is reported, so a silo that just welcomed the
    /// agent has them all. A set older than one applied is ignored.
    /// </summary>
    public async Task ApplyAsync(long version, IReadOnlyList<RegisteredCheck> checks)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_disposed || version < Interlocked.Read(ref _version)) return;
            Interlocked.Exchange(ref _version, version);
            var wanted = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var check in checks) wanted[check.Id] = check.Definition;

            List<Entry> stopping = [];
            lock (_checks)
            {
                foreach (var (id, entry) in _checks.ToList())
                {
                    if (wanted.TryGetValue(id, out var definition) && definition == entry.Definition) continue;
                    _checks.Remove(id);
                    stopping.Add(entry);
                }
            }
            foreach (var entry in stopping)
                if (entry.Set is not null) await entry.Set.DisposeAsync().ConfigureAwait(false);

            foreach (var (id, definition) in wanted)
            {
                Entry? kept;
                lock (_checks) _checks.TryGetValue(id, out kept);
                if (kept is not null)
                {
                    Report(kept.State);
                    continue;
                }
                if (_configIds.Contains(id))
                {
                    // The silo refuses such a registration; a configuration changed since then wins.
                    LogRefused(_logger, id, "the agent's configuration has a check with this id");
                    continue;
                }
                var entry = Start(id, definition);
                lock (_checks) _checks[id] = entry;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// A TTL report for registered check <paramref name="id"/>; false when no registered check has the id. Throws as
    /// <see cref="CheckSet.Update"/> does for a check without a TTL.
    /// </summary>
    public bool TryUpdate(string id, string status, string? note)
    {
        Entry? entry;
        lock (_checks) _checks.TryGetValue(id, out entry);
        if (entry is null) return false;
        if (entry.Set is null) throw new InvalidOperationException($"CheckID \"{id}\" is not running: {entry.State.Output}");
        entry.Set.Update(id, status, note);
        return true;
    }

    /// <summary>Stops every registered check, killing running scripts and waiting for them.</summary>
    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_disposed) return;
            _disposed = true;
            List<Entry> all;
            lock (_checks)
            {
                all = [.. _checks.Values];
                _checks.Clear();
            }
            foreach (var entry in all)
                if (entry.Set is not null) await entry.Set.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private Entry Start(string id, string text)
    {
        CheckDefinition definition;
        try
        {
            using var document = JsonDocument.Parse(text);
            // Scripts are read here and refused below, so the refusal can name the setting.
            var read = CheckDefinitionReader.Read(document.RootElement, new CheckOptions { EnableScriptChecks = true, OutputMaxSize = _outputMaxSize });
            if (read.Count != 1) return Refused(id, id, text, $"the registered definition holds {read.Count} checks; expected one");
            definition = read[0];
        }
        catch (Exception e) when (e is JsonException or CheckDefinitionException)
        {
            return Refused(id, id, text, $"the registered definition cannot be read: {e.Message}");
        }
        if (definition.Id != id) return Refused(id, definition.Name, text, $"the registered definition has id '{definition.Id}'; expected '{id}'");
        if (definition.Kind == CheckKind.Script && !_allowScripts)
            return Refused(id, definition.Name, text,
                "script checks registered through the API are disabled on this node; set enable_script_checks to true in its agent's configuration to run them");

        var set = new CheckSet([definition], Report, new CheckOptions { EnableScriptChecks = true, OutputMaxSize = _outputMaxSize }, _time,
            _loggers.CreateLogger<CheckSet>());
        // The initial state first: the set reports only changes, and its first run may change it at once.
        var entry = new Entry(text, set, set.Current[0]);
        Report(entry.State);
        set.Start();
        return entry;
    }

    private Entry Refused(string id, string name, string text, string reason)
    {
        LogRefused(_logger, id, reason);
        var state = new CheckState(id, name, CheckStatus.Critical, reason);
        Report(state);
        return new Entry(text, null, state);
    }

    private void Report(CheckState state)
    {
        try
        {
            _changed(state);
        }
        catch (Exception e)
        {
            LogListenerFailed(_logger, e, state.Id);
        }
    }

    /// <summary>
    /// One registered check: its definition text, its running set (null when refused) and, for a refused one, its state.
    /// A running check's state is its set's.
    /// </summary>
    private sealed class Entry(string definition, CheckSet? set, CheckState refusedOrInitial)
    {
        public string Definition { get; } = definition;

        public CheckSet? Set { get; } = set;

        public CheckState State => Set?.Current[0] ?? refusedOrInitial;
    }

    [LoggerMessage(EventId = 549, Level = LogLevel.Warning, Message = "Registered check {CheckId} is not run: {Reason}")]
    private static partial void LogRefused(ILogger logger, string checkId, string reason);

    [LoggerMessage(EventId = 550, Level = LogLevel.Error, Message = "The listener of check changes failed on registered check {CheckId}")]
    private static partial void LogListenerFailed(ILogger logger, Exception? exception, string checkId);
}
