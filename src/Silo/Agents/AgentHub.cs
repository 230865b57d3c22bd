using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Platform.Grains.Builds;
using Platform.Grains.Nodes;
using Platform.Protocol;
using Platform.Runtime.Hosting;
using Platform.Runtime;

namespace Platform.Silo.Agents;

/// <summary>
/// The agent connections this silo holds (docs/nodes.md). It subscribes once to the fleet grain and receives every
/// fleet event once, in order; each event is encoded once and the same bytes are queued on every local connection.
/// Liveness lives here, in memory: one timer scans every connection's last-seen time.
/// </summary>
public sealed partial class AgentHub : IFleetObserver, IHostedService, IDisposable
{
    private readonly IGrainFactory _grains;
    private readonly GrainRuntime _runtime;
    private readonly NodesOptions _options;
    private readonly BuildsOptions _builds;
    private readonly ILogger<AgentHub> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Channel<FleetEvent> _dispatch = Channel.CreateUnbounded<FleetEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _seqLock = new();
    private IFleetObserver? _self;
    private Task? _renewing;
    private Task? _dispatching;
    private Timer? _heartbeats;
    private ulong _lastSeq;
    private bool _subscribed;
    private int _catchUpRequested;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _closing;
    private readonly MemberJson _memberJson = new();

    /// <summary>Fan-outs started: a welcome's cached member list is valid while this has not moved.</summary>
    private long _fanOuts;

    public AgentHub(IGrainFactory grains, GrainRuntime runtime, IOptions<NodesOptions> options, IOptions<BuildsOptions> builds, ILogger<AgentHub> logger, IHostApplicationLifetime lifetime)
    {
        _builds = builds.Value;
        _grains = grains;
        _runtime = runtime;
        _options = options.Value;
        _appliedWrites = new AppliedWriteBudget(_options.AppliedWritesPerSecond);
        _logger = logger;
        SiloName = runtime.Options.SiloName;
        HubKey = $"{SiloName}/{Guid.NewGuid():N}";
        Monitor = new MonitorFeed(_options.MonitorQueueLimit);
        // Agents must hear of the stop before the grains go: they reconnect elsewhere and their nodes stay alive.
        lifetime.ApplicationStopping.Register(CloseAllForStop);
    }

    /// <summary>This hub in node state and fleet records: the silo's name and an id new for every start.</summary>
    public string HubKey { get; }

    public string SiloName { get; }

    public NodesOptions Options => _options;

    /// <summary>The silo's monitor streams (GET /v1/monitor).</summary>
    public MonitorFeed Monitor { get; }

    /// <summary>Connections accepted and open.</summary>
    public int ConnectionCount => Volatile.Read(ref _all).Length;

    /// <summary>Open connections whose frames are written straight to their socket (counted when read: a metrics scrape).</summary>
    public int DirectConnectionCount => Volatile.Read(ref _all).Count(c => c.DirectWrites);

    /// <summary>Completes once the hub has subscribed to the fleet: events from then on reach it.</summary>
    public Task Ready => _ready.Task;

    internal IFleetGrain Fleet => _grains.GetGrain<IFleetGrain>("default");

    internal INodeGrain Node(string name) => _grains.GetGrain<INodeGrain>(name);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _self = _grains.CreateObjectReference<IFleetObserver>(this);
        _renewing = RenewLoop(_stopping.Token);
        _dispatching = DispatchLoop();
        _heartbeats = new Timer(static s => ((AgentHub)s!).CheckHeartbeats(), this, _options.HeartbeatCheckInterval, _options.HeartbeatCheckInterval);
        StartJobs();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        CloseAllForStop();
        await _stopping.CancelAsync();
        if (_heartbeats is { } timer) await timer.DisposeAsync();
        _dispatch.Writer.TryComplete();
        await StopJobsAsync(cancellationToken);
        if (_renewing is { } renewing) await renewing.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (_dispatching is { } dispatching) await dispatching.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _ready.TrySetException(new OperationCanceledException("the silo is stopping"));
        if (_self is { } self) _grains.DeleteObjectReference(self);
    }

    public void Dispose()
    {
        _heartbeats?.Dispose();
        _stopping.Dispose();
    }

    /// <summary>Fleet events, in sequence order; a gap asks the fleet for what is missing.</summary>
    public Task OnEvents(FleetEventBatch batch)
    {
        var gap = false;
        lock (_seqLock)
        {
            foreach (var e in batch.Events)
            {
                if (e.Seq <= _lastSeq) continue;
                if (_subscribed && e.Seq != _lastSeq + 1)
                {
                    gap = true;
                    break;
                }
                _lastSeq = e.Seq;
                _dispatch.Writer.TryWrite(e);
            }
        }
        if (gap && Interlocked.Exchange(ref _catchUpRequested, 1) == 0) _ = CatchUpOnceAsync();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Delivers fleet events in order, so every connection gets them in order even when a fan-out is split over the
    /// cores. Member events that are waiting together go out as one frame (<see cref="MemberBatchDelay"/>); a user
    /// event never waits for a batch: the member events before it are sent first, then it.
    /// </summary>
    private async Task DispatchLoop()
    {
        var reader = _dispatch.Reader;
        var batch = new List<FleetEvent>();
        while (await reader.WaitToReadAsync())
        {
            try
            {
                var user = await GatherMembers(reader, batch);
                if (batch.Count != 0) await DispatchMembers(batch);
                if (user is not null) await DispatchUser(user);
            }
            catch (Exception failure)
            {
                LogFleetDeliveryFailed(_logger, failure);
            }
            finally
            {
                batch.Clear();
            }
        }
    }

    /// <summary>
    /// Takes the member events waiting (and those arriving within the batch delay) into <paramref name="batch"/>; stops
    /// at a user event, which it returns.
    /// </summary>
    private async Task<UserEvent?> GatherMembers(ChannelReader<FleetEvent> reader, List<FleetEvent> batch)
    {
        var delay = MemberBatchDelay(ConnectionCount);
        var deadline = 0L;
        while (true)
        {
            while (reader.TryRead(out var e))
            {
                if (e.User is { } user) return user;
                if (e.Member is not null && e.MemberEvent is not null) batch.Add(e);
            }
            if (batch.Count == 0 || delay <= TimeSpan.Zero) return null;
            if (deadline == 0) deadline = Environment.TickCount64 + (long)delay.TotalMilliseconds;
            var left = deadline - Environment.TickCount64;
            if (left <= 0) return null;
            using var wait = new CancellationTokenSource(TimeSpan.FromMilliseconds(left));
            try
            {
                if (!await reader.WaitToReadAsync(wait.Token)) return null;
            }
            catch (OperationCanceledException)
            {
                return null;
            }
        }
    }

    /// <summary>
    /// How long member events are gathered before they are sent: none below 256 connections, then 1 ms per 50
    /// connections up to 200 ms (10,000 agents). Every batch costs one send per connection, so during a join ramp the
    /// sends per second stay bounded however many agents are connected; agents hold member events for a second anyway
    /// (Serf's quiescent period).
    /// </summary>
    internal static TimeSpan MemberBatchDelay(int connections)
        => connections < 256 ? TimeSpan.Zero : TimeSpan.FromMilliseconds(Math.Min(200, connections / 50));

    private async Task DispatchUser(UserEvent user)
    {
        Interlocked.Increment(ref _fanOuts);
        var frame = AgentProtocol.Encode(AgentFrameMapping.ToFrame(user));
        await (user.NodeFilter is null && user.TagFilter is null ? Broadcast(frame, user.LTime) : SendMatching(user, frame));
        Monitor.Publish(JsonSerializer.SerializeToUtf8Bytes(new MonitorLine("user", null, null, user.Name, user.LTime, user.Id, user.Payload), MonitorLine.Json));
    }

    private async Task DispatchMembers(List<FleetEvent> batch)
    {
        foreach (var e in batch)
        {
            var member = e.Member!;
            AgentConnection? local;
            lock (_lock) _byName.TryGetValue(member.Name, out local);
            if (local is not null)
            {
                local.Tags = member.Tags;
                if (e.PushTags) local.Send(AgentProtocol.Encode(new TagsFrame(member.Tags)));
            }
        }
        Interlocked.Increment(ref _fanOuts);
        await Broadcast(_memberJson.EncodeEvents(batch), 0, membersOnly: true);
        foreach (var e in batch)
        {
            Monitor.Publish(JsonSerializer.SerializeToUtf8Bytes(new MonitorLine("member", e.MemberEvent, AgentFrameMapping.ToInfo(e.Member!), null, null, null, null), MonitorLine.Json));
            if (e.MemberEvent == MemberEvents.Reap) _memberJson.Forget(e.Member!.Name);
        }
    }

    /// <summary>The fleet asks the hub holding <paramref name="name"/> to make its agent leave.</summary>
    public Task OnLeaveRequested(string name)
    {
        AgentConnection? connection;
        lock (_lock) _byName.TryGetValue(name, out connection);
        connection?.Send(AgentProtocol.Encode(new LeaveFrame()));
        return Task.CompletedTask;
    }

    private async Task CatchUpOnceAsync()
    {
        try
        {
            await CatchUpAsync();
        }
        catch (Exception e) when (!_stopping.IsCancellationRequested)
        {
            LogCatchUpFailed(_logger, e);
        }
    }

    private async Task CatchUpAsync()
    {
        Volatile.Write(ref _catchUpRequested, 0);
        ulong? after;
        lock (_seqLock) after = _subscribed ? _lastSeq : null;
        var answer = await Fleet.Subscribe(_self!, HubKey, _runtime.Cluster?.Self.ToString(), after);
        if (after is null)
        {
            lock (_seqLock)
            {
                // Events that arrived while the first subscription was under way are newer; keep them.
                if (!_subscribed && _lastSeq < answer.LastSeq) _lastSeq = answer.LastSeq;
                _subscribed = true;
            }
            return;
        }
        if (answer.Cleared || answer.LastSeq < after)
        {
            LogFleetEventsLost(_logger, after, answer.LastSeq);
            lock (_seqLock) _lastSeq = answer.LastSeq;
            return;
        }
        if (answer.Events.Count != 0) await OnEvents(new FleetEventBatch(answer.Events));
    }

    /// <summary>Renews the subscription every second: the fleet takes a hub that stops renewing as gone, and fails its nodes.</summary>
    private async Task RenewLoop(CancellationToken stopping)
    {
        var delay = TimeSpan.FromMilliseconds(50);
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await CatchUpAsync();
                _ready.TrySetResult();
                delay = TimeSpan.FromSeconds(1);
            }
            catch (Exception e) when (!stopping.IsCancellationRequested)
            {
                LogFleetUnreachable(_logger, e.Message);
                delay = TimeSpan.FromMilliseconds(Math.Min(1000, delay.TotalMilliseconds * 2));
            }
            catch (Exception) when (stopping.IsCancellationRequested)
            {
                break;
            }
            try
            {
                await Task.Delay(delay, stopping);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    [LoggerMessage(EventId = 3218, Level = LogLevel.Error, Message = "agent hub: delivering fleet events failed")]
    private static partial void LogFleetDeliveryFailed(ILogger logger, Exception? exception);

    [LoggerMessage(EventId = 3219, Level = LogLevel.Warning, Message = "agent hub: catching up with the fleet failed; retrying at the next renewal")]
    private static partial void LogCatchUpFailed(ILogger logger, Exception? exception);

    [LoggerMessage(EventId = 3220, Level = LogLevel.Warning, Message = "agent hub: fleet events after {After} are no longer kept (the fleet is at {Seq}); agents get the events from here on")]
    private static partial void LogFleetEventsLost(ILogger logger, ulong? after, ulong seq);

    [LoggerMessage(EventId = 3221, Level = LogLevel.Warning, Message = "agent hub: fleet not reachable ({Error}); retrying")]
    private static partial void LogFleetUnreachable(ILogger logger, string error);
}

/// <summary>One line of GET /v1/monitor: a member event, a user event or a query.</summary>
internal sealed record MonitorLine(string Type, string? Event, MemberInfo? Member, string? Name, ulong? LTime, string? Id, byte[]? Payload,
    string? Node = null, NodeCheck? Check = null)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };
}
