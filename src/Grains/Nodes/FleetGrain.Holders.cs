namespace Platform.Grains.Nodes;

/// <summary>
/// The one hub holding a node's connection, for what goes to one agent (TTL reports, registered checks, deploy orders).
/// A fresh activation knows only the hubs that renewed since it started (each renews every second); a hub it does not
/// know yet is waited for until the orphan grace from activation has passed, so nothing sent while the grain moves
/// between silos is dropped because that hub's renewal had not come yet.
/// </summary>
internal sealed partial class FleetGrain
{
    private readonly Dictionary<string, TaskCompletionSource> _awaitedHubs = new(StringComparer.Ordinal);

    /// <summary>Hub <paramref name="key"/>, if it is live; null when it is gone or did not subscribe within the grace.</summary>
    private async Task<IFleetObserver?> HolderAsync(string key)
    {
        var now = DateTimeOffset.UtcNow;
        if (!_hubs.ContainsKey(key))
        {
            var left = _options.OrphanGrace - (now - _activatedAt);
            if (left <= TimeSpan.Zero) return null;
            if (!_awaitedHubs.TryGetValue(key, out var subscribed))
                _awaitedHubs[key] = subscribed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            try
            {
                await subscribed.Task.WaitAsync(left);
            }
            catch (TimeoutException)
            {
                if (_awaitedHubs.TryGetValue(key, out var still) && still == subscribed) _awaitedHubs.Remove(key);
                return null;
            }
            now = DateTimeOffset.UtcNow;
        }
        return _hubs.TryGetValue(key, out var hub) && HubIsLive(key, now) ? hub.Observer : null;
    }

    /// <summary>Hub <paramref name="key"/> subscribed: what waited for it goes on.</summary>
    private void HubSubscribed(string key)
    {
        if (_awaitedHubs.Remove(key, out var waiting)) waiting.TrySetResult();
    }
}
