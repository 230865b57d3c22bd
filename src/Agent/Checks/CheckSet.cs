using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging;
using Platform.Protocol;

namespace Platform.Agent.Checks;

/// <summary>
/// The node's health checks: runs every interval check on its timer, holds TTL checks' reported states, and calls
/// <c>changed</c> (one call at a time) only when a check's status or output changes. Rules in docs/checks.md.
/// </summary>
public sealed partial class CheckSet : IAsyncDisposable
{
    private readonly Dictionary<string, RunningCheck> _checks = new(StringComparer.Ordinal);
    private readonly RunningCheck[] _ordered;
    private readonly Action<CheckState> _changed;
    private readonly CheckOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly HttpClient _http;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private bool _started;

    /// <summary>A set of <paramref name="definitions"/> (from <see cref="CheckDefinitionReader"/>); nothing runs before <see cref="Start"/>.</summary>
    public CheckSet(
        IReadOnlyList<CheckDefinition> definitions,
        Action<CheckState> changed,
        CheckOptions? options = null,
        TimeProvider? time = null,
        ILogger<CheckSet>? logger = null)
    {
        _changed = changed;
        _options = options ?? new CheckOptions();
        _time = time ?? TimeProvider.System;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _http = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { Timeout = Timeout.InfiniteTimeSpan };

        _ordered = new RunningCheck[definitions.Count];
        for (var i = 0; i < definitions.Count; i++)
        {
            var definition = definitions[i];
            if (_checks.ContainsKey(definition.Id))
                throw new ArgumentException($"check id '{definition.Id}' is defined twice; expected each check to have its own id", nameof(definitions));
            if (definition.Kind == CheckKind.Script && !_options.EnableScriptChecks)
                throw new ArgumentException(
                    $"check '{definition.Name}' runs a command, but script checks are disabled; set enable_local_script_checks (or enable_script_checks) to true to allow them",
                    nameof(definitions));
            var check = new RunningCheck(definition, CreateProbe(definition));
            _checks.Add(definition.Id, check);
            _ordered[i] = check;
        }
    }

    /// <summary>Every check's state now, in definition order: what the agent's hello frame carries.</summary>
    public IReadOnlyList<CheckState> Current
    {
        get
        {
            var states = new CheckState[_ordered.Length];
            lock (_gate)
            {
                for (var i = 0; i < _ordered.Length; i++) states[i] = StateOf(_ordered[i]);
            }
            return states;
        }
    }

    /// <summary>Raised after each probe run with its raw result, before thresholds: lets tests see a run that changed nothing.</summary>
    internal event Action<string, CheckResult>? ProbeFinished;

    /// <summary>Stops every check, kills running scripts and waits for them to end.</summary>
    public async ValueTask DisposeAsync()
    {
        Task[] running;
        lock (_gate)
        {
            if (_stopping.IsCancellationRequested) return;
            _stopping.Cancel();
            running = new Task[_ordered.Length];
            for (var i = 0; i < _ordered.Length; i++)
            {
                _ordered[i].Timer?.Dispose();
                running[i] = _ordered[i].Running;
            }
        }
        await Task.WhenAll(running).ConfigureAwait(false);
        _http.Dispose();
        _stopping.Dispose();
    }

    private ICheckProbe? CreateProbe(CheckDefinition definition) => definition.Kind switch
    {
        CheckKind.Script => new ScriptProbe(definition, _options.OutputMaxSize, _time, _logger),
        CheckKind.Http => new HttpProbe(definition, _http, _options.OutputMaxSize, _time, _logger),
        CheckKind.Tcp => new TcpProbe(definition, _time),
        _ => null,
    };

    /// <summary>Applies <paramref name="result"/> to <paramref name="check"/>; tells the listener when something changed.</summary>
    private void Report(RunningCheck check, CheckResult result)
    {
        lock (_gate)
        {
            if (_stopping.IsCancellationRequested) return;
            if (check.Status == result.Status && check.Output == result.Output) return;
            if (check.Status != result.Status)
                LogCheckChanged(_logger, check.Definition.Id, result.Status);
            check.Status = result.Status;
            check.Output = result.Output;
            try
            {
                _changed(StateOf(check));
            }
            catch (Exception e)
            {
                LogListenerFailed(_logger, e, check.Definition.Id);
            }
        }
    }

    private static CheckState StateOf(RunningCheck check)
        => new(check.Definition.Id, check.Definition.Name, check.Status, check.Output);
}
