using Microsoft.Extensions.Logging;
using Platform.Grains.Keys;
using Platform.Grains.Nodes;
using Platform.Runtime;

namespace Platform.Grains.Rules;

/// <summary>
/// The feeds: the engine subscribes to the keyspace and to the fleet as a watch hub and an agent hub do (pushed
/// events, a renewal every second that also fetches anything missed), only while some enabled rule needs them.
/// </summary>
internal sealed partial class RuleEngineGrain
{
    private IKeyspaceObserver? _keyFeed;
    private IFleetObserver? _fleetFeed;
    private readonly string _hubKey = "rules-" + Guid.NewGuid().ToString("N")[..12];
    private bool _keysOn;
    private bool _eventsOn;
    private ulong _keyIndex;
    private ulong _lTime;
    private int _renewFailures;

    private IKeyspaceGrain Keyspace => GrainFactory.GetGrain<IKeyspaceGrain>(KeyWatchHub.DefaultKeyspace);

    private IFleetGrain Fleet => GrainFactory.GetGrain<IFleetGrain>(FleetGrain.DefaultKey);

    public async Task OnKeyEvents(KeyEventBatch batch)
    {
        if (_keysOn) await HandleKeyEventsAsync(batch.Events, catchingUp: false);
    }

    public async Task OnFleetEvents(FleetEventBatch batch)
    {
        if (!_eventsOn) return;
        List<UserEvent>? events = null;
        foreach (var e in batch.Events)
            if (e.User is { } user) (events ??= []).Add(user);
        if (events is not null) await HandleUserEventsAsync(events, catchingUp: false);
    }

    /// <summary>
    /// Starts or stops the feeds the rules need. <paramref name="resume"/> (activation): a feed that was on carries on
    /// from its stored cursor, so changes made while the engine was away are seen; otherwise a new feed starts now, so
    /// a rule added now does not fire for what happened before it.
    /// </summary>
    private async Task SyncFeedsAsync(bool resume)
    {
        var wantKeys = _rules.Rules.Exists(r => r.Enabled && r.Trigger.Type == RuleTriggerTypes.KeyChanged);
        var wantEvents = _rules.Rules.Exists(r => r.Enabled && r.Trigger.Type == RuleTriggerTypes.UserEvent);
        var changed = false;
        if (wantKeys && !_keysOn)
        {
            _keyFeed ??= GrainFactory.CreateObjectReference<IKeyspaceObserver>(new RuleKeyFeed(Self));
            _keysOn = true;
            if (resume && S.KeyCursor is { } cursor)
            {
                _keyIndex = cursor;
                await CatchUpKeysAsync();
            }
            else
            {
                _keyIndex = (await Keyspace.Subscribe(_keyFeed, ulong.MaxValue)).DurableIndex;
            }
            changed = true;
        }
        else if (!wantKeys && (_keysOn || S.KeyCursor is not null))
        {
            _keysOn = false;
            changed = true;
        }
        if (wantEvents && !_eventsOn)
        {
            _fleetFeed ??= GrainFactory.CreateObjectReference<IFleetObserver>(new RuleFleetFeed(Self, _hubKey));
            _eventsOn = true;
            await Fleet.Subscribe(_fleetFeed, _hubKey, null, null);
            if (resume && S.EventCursor is { } cursor)
            {
                _lTime = cursor;
                await HandleUserEventsAsync(await Fleet.UserEvents(_lTime), catchingUp: true);
            }
            else
            {
                _lTime = await Fleet.UserLTime();
            }
            changed = true;
        }
        else if (!wantEvents && (_eventsOn || S.EventCursor is not null))
        {
            _eventsOn = false;
            changed = true;
        }
        if (changed) await WriteAsync();
    }

    private void DropFeeds()
    {
        if (_keyFeed is { } keys) GrainFactory.DeleteObjectReference(keys);
        if (_fleetFeed is { } fleet) GrainFactory.DeleteObjectReference(fleet);
        _keyFeed = null;
        _fleetFeed = null;
    }

    /// <summary>Every second: renews both subscriptions, takes what was missed, saves cursors that moved far, retries recorded intents.</summary>
    private async Task RenewAsync()
    {
        try
        {
            if (_keysOn) await CatchUpKeysAsync();
            if (_eventsOn)
            {
                await Fleet.Subscribe(_fleetFeed!, _hubKey, null, null);
                var missed = await Fleet.UserEvents(_lTime);
                if (missed.Count != 0) await HandleUserEventsAsync(missed, catchingUp: true);
            }
            // Cursors are saved with every intent; far-moved ones are saved too, so a restart re-reads little history.
            if (CursorsMoved(500)) await WriteAsync();
            if (_renewFailures > 0) LogFeedsReachable(logger, _renewFailures);
            _renewFailures = 0;
        }
        catch (Exception e)
        {
            if (++_renewFailures == 1 || _renewFailures % 10 == 0)
                LogFeedsRenewFailed(logger, e.Message, _renewFailures);
        }
        if (S.Pending.Count != 0) _ = Self.RunPending();
    }

    private bool CursorsMoved(ulong by)
        => (_keysOn && _keyIndex >= (S.KeyCursor ?? 0) + by) || (_eventsOn && _lTime >= (S.EventCursor ?? 0) + by)
            || (!_keysOn && S.KeyCursor is not null) || (!_eventsOn && S.EventCursor is not null);

    private async Task CatchUpKeysAsync()
    {
        var answer = await Keyspace.Subscribe(_keyFeed!, _keyIndex);
        if (answer.Cleared || answer.DurableIndex < _keyIndex)
        {
            LogKeyChangesLost(logger, _keyIndex, answer.DurableIndex);
            _keyIndex = answer.DurableIndex;
            return;
        }
        if (answer.Events.Count != 0) await HandleKeyEventsAsync(answer.Events, catchingUp: true);
    }

    private async Task HandleKeyEventsAsync(IReadOnlyList<KeyEvent> events, bool catchingUp)
    {
        var intents = new List<RuleIntent>();
        var refused = new List<RuleRun>();
        var gap = false;
        foreach (var e in events)
        {
            if (e.Index <= _keyIndex) continue;
            if (e.Index != _keyIndex + 1 && !catchingUp)
            {
                gap = true;
                break;
            }
            _keyIndex = e.Index;
            if (e.Refresh) continue;
            await CollectAsync($"key:{e.Index}", RuleTriggerTypes.KeyChanged, () => RuleMatching.KeyFacts(e), t => RuleMatching.KeyChanged(t, e), intents, refused);
        }
        await CommitAsync(intents, refused);
        if (gap) await CatchUpKeysAsync();
    }

    private async Task HandleUserEventsAsync(List<UserEvent> events, bool catchingUp)
    {
        var intents = new List<RuleIntent>();
        var refused = new List<RuleRun>();
        var gap = false;
        foreach (var e in events)
        {
            if (e.LTime <= _lTime) continue;
            if (e.LTime != _lTime + 1)
            {
                if (!catchingUp)
                {
                    gap = true;
                    break;
                }
                LogUserEventsLost(logger, _lTime, e.LTime - 1);
            }
            _lTime = e.LTime;
            await CollectAsync($"event:{e.Id}", RuleTriggerTypes.UserEvent, () => RuleMatching.EventFacts(e.Name, e.Payload), t => RuleMatching.UserEvent(t, e.Name), intents, refused);
        }
        await CommitAsync(intents, refused);
        if (gap) await HandleUserEventsAsync(await Fleet.UserEvents(_lTime), catchingUp: true);
    }
}
