using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Platform.Agent.Handlers;

/// <summary>
/// Runs the handlers that accept each event. Member and user events go through one lane, queries through another, each
/// with <c>handler_concurrency</c> workers: with 1 (the default, as Serf) events are handled one at a time in order,
/// and a slow event handler never holds a query back. The workers are async loops, not threads.
/// </summary>
public sealed partial class HandlerDispatcher : IAsyncDisposable
{
    private volatile IReadOnlyList<EventScript> _scripts;
    private readonly HandlerProcess _process;
    private readonly Func<(string Name, IReadOnlyDictionary<string, string> Tags)> _self;
    private readonly TimeSpan? _timeout;
    private readonly Channel<Work> _events = Channel.CreateUnbounded<Work>(new UnboundedChannelOptions { SingleWriter = false });
    private readonly Channel<Work> _queries = Channel.CreateUnbounded<Work>(new UnboundedChannelOptions { SingleWriter = false });
    private readonly CancellationTokenSource _stopping = new();
    private volatile bool _draining;
    private readonly Task[] _workers;
    private readonly ILogger _logger;

    private sealed record Work(HandlerEvent Event, Func<HandlerEvent, IReadOnlyList<HandlerResult>, Task>? Done, Action? Finished);

    /// <summary>Starts <paramref name="concurrency"/> workers per lane.</summary>
    public HandlerDispatcher(
        IReadOnlyList<EventScript> scripts,
        HandlerProcess process,
        Func<(string Name, IReadOnlyDictionary<string, string> Tags)> self,
        TimeSpan? timeout,
        int concurrency,
        ILogger logger)
    {
        _scripts = scripts;
        _process = process;
        _self = self;
        _timeout = timeout;
        _logger = logger;
        _workers = new Task[concurrency * 2];
        for (var i = 0; i < concurrency; i++)
        {
            _workers[i] = Task.Run(() => WorkAsync(_events.Reader));
            _workers[concurrency + i] = Task.Run(() => WorkAsync(_queries.Reader));
        }
    }

    /// <summary>Replaces the handlers (a configuration reload, as Serf's <c>UpdateScripts</c>): events dispatched from now on use the new ones; runs under way finish.</summary>
    public void UpdateScripts(IReadOnlyList<EventScript> scripts) => _scripts = scripts;

    /// <summary>Raised after each handler run (tests and logs observe runs through it).</summary>
    public event Action<HandlerResult>? HandlerCompleted;

    /// <summary>True when some handler accepts <paramref name="e"/>.</summary>
    public bool HasHandlerFor(HandlerEvent e)
    {
        foreach (var script in _scripts)
            if (script.Accepts(e)) return true;
        return false;
    }

    /// <summary>
    /// Queues <paramref name="e"/>; <paramref name="done"/> gets every run's result once all accepting handlers ran (an
    /// empty list when none accepts it); <paramref name="finished"/> is called once the event leaves the lane, however
    /// its runs ended (failed to start, cut short by a stop, or dropped from the queue by a stop).
    /// </summary>
    public void Enqueue(HandlerEvent e, Func<HandlerEvent, IReadOnlyList<HandlerResult>, Task>? done = null, Action? finished = null)
    {
        var lane = e is QueryHandlerEvent ? _queries : _events;
        if (!lane.Writer.TryWrite(new Work(e, done, finished)))
            throw new InvalidOperationException("the handler dispatcher is stopped");
    }

    private async Task WorkAsync(ChannelReader<Work> reader)
    {
        await foreach (var work in reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                await HandleAsync(work).ConfigureAwait(false);
            }
            finally
            {
                try { work.Finished?.Invoke(); }
                catch (Exception failure) { LogObserverFailed(_logger, failure); }
            }
        }
    }

    private async Task HandleAsync(Work work)
    {
        var results = new List<HandlerResult>(1);
        var whole = true;
        var (name, tags) = _self();
        foreach (var script in _scripts)
        {
            if (!script.Accepts(work.Event)) continue;
            if (_draining)
            {
                whole = false;
                break;
            }
            var result = await _process.RunAsync(script, work.Event, name, tags, _timeout, _stopping.Token).ConfigureAwait(false);
            results.Add(result);
            if (result.ExitCode is null && !result.TimedOut) whole = false;
            if (result.Error is null && !result.Succeeded)
                LogScriptFailed(_logger, script.Script, result.ExitCode);
            try { HandlerCompleted?.Invoke(result); }
            catch (Exception failure) { LogObserverFailed(_logger, failure); }
        }
        // An event cut short by a stop is not done: it must not be recorded as applied.
        if (work.Done is null || !whole) return;
        try { await work.Done(work.Event, results).ConfigureAwait(false); }
        catch (Exception failure) { LogResultsFailed(_logger, failure, work.Event.Type); }
    }

    /// <summary>
    /// Stops: queued events are dropped (not recorded as applied); handlers already running get <paramref name="grace"/>
    /// to finish, then are killed with their process groups.
    /// </summary>
    public async Task StopAsync(TimeSpan grace)
    {
        _draining = true;
        _events.Writer.TryComplete();
        _queries.Writer.TryComplete();
        var all = Task.WhenAll(_workers);
        if (grace > TimeSpan.Zero) await Task.WhenAny(all, Task.Delay(grace)).ConfigureAwait(false);
        await _stopping.CancelAsync().ConfigureAwait(false);
        await all.ConfigureAwait(false);
    }

    /// <summary>Stops at once: running handlers are killed.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.Zero).ConfigureAwait(false);
        _stopping.Dispose();
    }
}
