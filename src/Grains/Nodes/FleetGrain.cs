using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Platform.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Platform.Runtime.Catalog;
using Platform.Runtime.Hosting;
using Platform.Runtime.Membership;
using Platform.Runtime.Storage;

namespace Platform.Grains.Nodes;

/// <summary>
/// The fleet: member changes and user events are applied to the <see cref="FleetLog"/> in their turn (which orders
/// them and gives them their sequence number and Lamport time), journaled, and published to every hub once durable.
/// A timer fails nodes whose hub went away and reaps old failed and left nodes.
/// </summary>
/// <remarks>Reentrant: records arriving while an append is in flight go into the next append (group commit), as in the keyspace grain.</remarks>
[Reentrant]
[GrainType("fleet")]
internal sealed partial class FleetGrain(IGrainJournal journal, IOptions<NodesOptions> options, ILogger<FleetGrain> logger) : Grain, IFleetGrain
{
    /// <summary>The fleet every node belongs to.</summary>
    public const string DefaultKey = "default";

    private readonly NodesOptions _options = options.Value;
    private readonly Dictionary<string, Hub> _hubs = new(StringComparer.Ordinal);
    private readonly HashSet<string> _pending = new(StringComparer.Ordinal);
    /// <summary>When this activation first saw each hub's silo no longer Active or Joining.</summary>
    private readonly Dictionary<string, DateTimeOffset> _goneSince = new(StringComparer.Ordinal);
    private FleetLog _log = null!;
    private DateTimeOffset _activatedAt;

    /// <summary>The last event published (durable); the log may have applied more that are still in the journal's queue.</summary>
    private ulong _publishedSeq;

    /// <summary>This silo's event counters; none when the host registers none (unit tests).</summary>
    private EventCounters? Counters => ServiceProvider.GetService(typeof(EventCounters)) as EventCounters;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _log = new FleetLog(_options.UserEventHistory, _options.RecentEvents);
        await OpenJournalAsync(cancellationToken);
        _activatedAt = DateTimeOffset.UtcNow;
        RegisterGrainTimer(_ => CheckNodes(), _options.FleetCheckInterval, _options.FleetCheckInterval);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => CloseJournalAsync();

    public Task<FleetCatchUp> Subscribe(IFleetObserver hub, string hubKey, string? silo, ulong? afterSeq)
    {
        ArgumentNullException.ThrowIfNull(hub);
        _hubs[hubKey] = new Hub(hub, DateTimeOffset.UtcNow, silo);
        _goneSince.Remove(hubKey);
        HubSubscribed(hubKey);
        return Task.FromResult(_log.CatchUp(afterSeq, _publishedSeq));
    }

    public Task Record(MemberChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        return Append(new FleetRecord(change, null));
    }

    public async Task<UserEvent> FireEvent(string name, byte[] payload, bool coalesce, string? nodeFilter, string? tagFilter)
    {
        var e = _log.NewUserEvent(name, payload, coalesce, DateTimeOffset.UtcNow) with { NodeFilter = nodeFilter, TagFilter = tagFilter };
        await Append(new FleetRecord(null, e));
        Counters?.OnFired();
        return e;
    }

    public Task<ulong> UserLTime() => Task.FromResult(_log.UserLTime);

    public Task<List<UserEvent>> UserEvents(ulong afterLTime) => Task.FromResult(_log.UserEventsAfter(afterLTime));

    public Task<List<MemberEntry>> Members() => Task.FromResult<List<MemberEntry>>([.. _log.Members]);

    public Task<QueryStart> StartQuery(FleetQuery query, IQueryCollector collector)
    {
        ArgumentNullException.ThrowIfNull(query);
        var timeout = query.TimeoutMs > 0 ? query.TimeoutMs : (int)_options.DefaultQueryTimeout(_log.AliveCount).TotalMilliseconds;
        var sent = query with { LTime = _log.NextQueryLTime(), TimeoutMs = timeout };
        var hubs = 0;
        foreach (var hub in LiveHubs())
        {
            Send(hub, h => h.OnQuery(sent, collector));
            hubs++;
        }
        Counters?.OnQuery();
        return Task.FromResult(new QueryStart(sent, hubs));
    }

    public Task RequestLeave(string name)
    {
        foreach (var hub in LiveHubs()) Send(hub, h => h.OnLeaveRequested(name));
        return Task.CompletedTask;
    }

    /// <summary>Applies a record in this turn (fixing its order), queues it for the journal and publishes it once durable.</summary>
    private Task Append(FleetRecord record)
    {
        var published = _log.Apply(record);
        return Enqueue(record.Encode(), published);
    }

    private void Publish(List<FleetEvent> events)
    {
        _publishedSeq = events[^1].Seq;
        var batch = new FleetEventBatch(events);
        foreach (var hub in LiveHubs()) Send(hub, h => h.OnEvents(batch));
    }

    private List<IFleetObserver> LiveHubs()
    {
        var now = DateTimeOffset.UtcNow;
        var live = new List<IFleetObserver>(_hubs.Count);
        List<string>? gone = null;
        foreach (var (key, hub) in _hubs)
        {
            // A hub that stopped renewing for a long time is dropped; a short silence still gets events.
            if (now - hub.Renewed > _options.OrphanGrace * 10) (gone ??= []).Add(key);
            else live.Add(hub.Observer);
        }
        if (gone is not null)
            foreach (var key in gone)
            {
                _hubs.Remove(key);
                _goneSince.Remove(key);
            }
        return live;
    }

    private void Send(IFleetObserver hub, Func<IFleetObserver, Task> call)
    {
        try
        {
            _ = call(hub).ContinueWith(static (t, s) => LogHubNotificationFailed((ILogger)s!, t.Exception),
                logger, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        catch (Exception e)
        {
            LogHubNotificationThrew(logger, e);
        }
    }

    /// <summary>
    /// Whether hub <paramref name="key"/> may still hold its nodes: it renewed within the grace (a fresh activation
    /// gives every hub one), it runs in this grain's own process, or its silo is still Active or Joining in the
    /// cluster view, or left it less than the grace ago (a stalled silo is the membership's to judge: once declared
    /// dead it stops, and its agents reconnect elsewhere).
    /// </summary>
    private bool HubIsLive(string key, DateTimeOffset now)
    {
        var known = _hubs.TryGetValue(key, out var hub);
        if (now - (known ? hub.Renewed : _activatedAt) <= _options.OrphanGrace) return true;
        if (!known) return false;
        // A hub in this very process cannot be gone while this grain runs: a late renewal means the process is
        // starved (thousands of agents joining at once), and failing its nodes for it would fail healthy agents.
        var cluster = ServiceProvider.GetService<GrainRuntime>()?.Cluster;
        if (hub.Silo is not { } silo) return cluster is null;
        if (cluster is null) return false;
        if (silo == cluster.Self.ToString()) return true;
        SiloAddress address;
        try
        {
            address = SiloAddress.Parse(silo);
        }
        catch (FormatException)
        {
            return false;
        }
        if (cluster.Membership.CurrentView.StatusOf(address) is SiloStatus.Active or SiloStatus.Joining) return true;
        // Until its silo was declared dead, an agent of that hub could not register elsewhere (its node grain was
        // still placed there): the grace to reconnect starts when this grain first sees the silo gone.
        if (!_goneSince.TryGetValue(key, out var since)) _goneSince[key] = since = now;
        return now - since <= _options.OrphanGrace;
    }

    /// <summary>Fails nodes whose hub went away (they did not reconnect elsewhere in time) and reaps old failed and left nodes.</summary>
    private Task CheckNodes()
    {
        var now = DateTimeOffset.UtcNow;
        List<(string Name, string Hub, bool Reap)>? due = null;
        foreach (var entry in _log.Members)
        {
            var status = entry.Member.Status;
            if (status is NodeStatus.Alive or NodeStatus.Leaving)
            {
                if (!HubIsLive(entry.Hub, now)) (due ??= []).Add((entry.Member.Name, entry.Hub, false));
            }
            else if (now - entry.Changed > _options.ReconnectTimeout)
            {
                (due ??= []).Add((entry.Member.Name, entry.Hub, true));
            }
        }
        if (due is null) return Task.CompletedTask;
        foreach (var (name, hub, reap) in due)
        {
            if (!_pending.Add(name)) continue;
            var node = GrainFactory.GetGrain<INodeGrain>(name);
            var call = reap ? node.Reap() : node.Orphaned(hub, $"its silo's hub {hub} went away and the agent did not reconnect within {_options.OrphanGrace.TotalSeconds:0.###} s");
            _ = Finish(name, call);
        }
        return Task.CompletedTask;
    }

    private async Task Finish(string name, Task call)
    {
        try
        {
            await call;
        }
        catch (Exception e)
        {
            LogNodeUpdateFailed(logger, e, name);
        }
        finally
        {
            _pending.Remove(name);
        }
    }

    private readonly record struct Hub(IFleetObserver Observer, DateTimeOffset Renewed, string? Silo);
}
