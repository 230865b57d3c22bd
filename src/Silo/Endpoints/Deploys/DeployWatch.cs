using Platform.Grains.Deploys;
using Platform.Runtime;

namespace Platform.Silo.Endpoints.Deploys;

/// <summary>
/// This silo's followers of deploys (<c>GET /v1/deploys/{id}?follow=true</c>) and of the history
/// (<c>GET /v1/deploys?follow=true</c>). The silo subscribes once per followed deploy (and once to the history) however
/// many streams follow it, renews every <see cref="DeployFollow.Renew"/> (which also publishes the deploy as it is then,
/// so a change missed while the deploy's grain moved to another silo arrives at the latest then), and drops the
/// subscription when the last stream goes. The grains push each change; nothing is polled.
/// </summary>
public sealed partial class DeployWatch(IGrainFactory grains, ILogger<DeployWatch> logger) : IDeployObserver, IDisposable
{
    private const string History = "";

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Topic> _topics = new(StringComparer.Ordinal);
    private IDeployObserver? _self;

    /// <summary>Deploys (and the history) this silo follows now.</summary>
    public int Followed
    {
        get { lock (_lock) return _topics.Count; }
    }

    /// <summary>Follows deploy <paramref name="id"/>: changes from the moment this returns; dispose to stop.</summary>
    public Task<DeployFollower<DeployView>> FollowDeploy(string id, CancellationToken ct) => Open<DeployView>(id, ct);

    /// <summary>Follows the history: every summary recorded from the moment this returns; dispose to stop.</summary>
    public async Task<DeployFollower<DeploySummary>> FollowHistory(CancellationToken ct)
        => await Open<DeploySummary>(History, ct);

    private async Task<DeployFollower<T>> Open<T>(string key, CancellationToken ct) where T : class
    {
        Topic topic;
        var follower = new DeployFollower<T>(this, key);
        lock (_lock)
        {
            _self ??= grains.CreateObjectReference<IDeployObserver>(this);
            if (!_topics.TryGetValue(key, out topic!))
            {
                topic = new Topic();
                _topics[key] = topic;
                topic.Renewing = Task.Run(() => Renew(key, topic));
            }
            topic.Followers.Add(follower);
        }
        try
        {
            await topic.Subscribed.Task.WaitAsync(ct);
        }
        catch
        {
            follower.Dispose();
            throw;
        }
        return follower;
    }

    /// <summary>Subscribes, then renews until the topic's last follower goes.</summary>
    private async Task Renew(string key, Topic topic)
    {
        var stop = topic.Stop.Token;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                if (key == History)
                {
                    await grains.GetGrain<IDeployIndexGrain>("default").Follow(_self!);
                }
                else if (await grains.GetGrain<IDeployGrain>(key).Follow(_self!) is { } now)
                {
                    Deliver(key, now, now.Revision);
                }
                topic.Subscribed.TrySetResult();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A grain moving between silos: the next renewal subscribes again; a first failure fails the follower.
                if (topic.Subscribed.TrySetException(e)) return;
                LogRenewFailed(logger, key, e.Message);
            }
            try
            {
                await Task.Delay(DeployFollow.Renew, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public Task DeployChanged(DeployView deploy)
    {
        Deliver(deploy.Id, deploy, deploy.Revision);
        return Task.CompletedTask;
    }

    public Task SummaryChanged(DeploySummary summary)
    {
        Deliver(History, summary, summary.Revision);
        return Task.CompletedTask;
    }

    private void Deliver<T>(string key, T value, long revision) where T : class
    {
        object[] followers;
        lock (_lock)
        {
            if (!_topics.TryGetValue(key, out var topic)) return;
            followers = [.. topic.Followers];
        }
        var id = value is DeploySummary s ? s.Id : key;
        foreach (var f in followers)
            if (f is DeployFollower<T> follower) follower.Offer(id, value, revision);
    }

    internal void Close(string key, object follower)
    {
        Topic? ended = null;
        lock (_lock)
        {
            if (_topics.TryGetValue(key, out var topic) && topic.Followers.Remove(follower) && topic.Followers.Count == 0)
            {
                _topics.Remove(key);
                ended = topic;
            }
        }
        // The grain's subscription expires on its own (DeployFollow.Expiry); until then its notes find no topic here.
        ended?.Dispose();
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var topic in _topics.Values) topic.Dispose();
            _topics.Clear();
            if (_self is { } self) grains.DeleteObjectReference(self);
            _self = null;
        }
    }

    [LoggerMessage(EventId = 2110, Level = LogLevel.Debug, Message = "deploy follow {Key}: renewal failed: {Reason}")]
    private static partial void LogRenewFailed(ILogger logger, string key, string reason);

    private sealed class Topic : IDisposable
    {
        public void Dispose()
        {
            Stop.Cancel();
            Stop.Dispose();
        }

        public readonly List<object> Followers = [];
        public readonly TaskCompletionSource Subscribed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly CancellationTokenSource Stop = new();
        public Task? Renewing;
    }
}

/// <summary>
/// One stream's share of a <see cref="DeployWatch"/> topic: the newest value per deploy not yet taken. Bounded by the
/// number of deploys (one pending value each, however fast they change or slowly the stream reads); an older revision
/// than one already seen is dropped.
/// </summary>
public sealed class DeployFollower<T>(DeployWatch watch, string key) : IDisposable where T : class
{
    /// <summary>Revisions remembered per deploy before the memory of them is cleared (ordering is then only per new note).</summary>
    private const int RevisionsKept = 4096;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, T> _pending = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];
    private readonly Dictionary<string, long> _seen = new(StringComparer.Ordinal);
    private TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Offers a value; kept if newer than what this stream was already offered of deploy <paramref name="id"/>.</summary>
    public void Offer(string id, T value, long revision)
    {
        TaskCompletionSource ready;
        lock (_lock)
        {
            if (_seen.TryGetValue(id, out var seen) && seen >= revision) return;
            if (_seen.Count >= RevisionsKept) _seen.Clear();
            _seen[id] = revision;
            if (!_pending.ContainsKey(id)) _order.Add(id);
            _pending[id] = value;
            ready = _ready;
        }
        ready.TrySetResult();
    }

    /// <summary>Waits for at least one value and takes every pending one, in the order their deploys first changed.</summary>
    public async Task<List<T>> TakeAsync(CancellationToken ct)
    {
        while (true)
        {
            Task wait;
            lock (_lock)
            {
                if (_order.Count != 0)
                {
                    var taken = new List<T>(_order.Count);
                    foreach (var id in _order) taken.Add(_pending[id]);
                    _order.Clear();
                    _pending.Clear();
                    return taken;
                }
                if (_ready.Task.IsCompleted) _ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _ready.Task;
            }
            await wait.WaitAsync(ct);
        }
    }

    public void Dispose() => watch.Close(key, this);
}
