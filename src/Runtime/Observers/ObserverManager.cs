namespace Platform.Runtime.Observers;

/// <summary>
/// A grain's subscribers. Notifications are sent without waiting for subscribers, so a slow one
/// never holds the grain's turn; a subscriber whose call fails because it is gone (or timed out) is
/// dropped, and one that has not renewed within <see cref="Expiration"/> expires.
/// </summary>
public sealed class ObserverManager<TObserver>(TimeSpan expiration) where TObserver : class, IGrainObserver
{
    private readonly Dictionary<TObserver, DateTime> _subscribers = [];

    /// <summary>How long a subscription lasts without being renewed by another Subscribe.</summary>
    public TimeSpan Expiration { get; } = expiration;

    public int Count
    {
        get { lock (_subscribers) return _subscribers.Count; }
    }

    /// <summary>Adds or renews a subscriber.</summary>
    public void Subscribe(TObserver observer)
    {
        lock (_subscribers) _subscribers[observer] = DateTime.UtcNow;
    }

    public void Unsubscribe(TObserver observer)
    {
        lock (_subscribers) _subscribers.Remove(observer);
    }

    /// <summary>Sends a notification to every live subscriber; returns how many it was sent to.</summary>
    public int Notify(Func<TObserver, Task> notification)
    {
        var now = DateTime.UtcNow;
        List<TObserver> targets;
        lock (_subscribers)
        {
            targets = new List<TObserver>(_subscribers.Count);
            List<TObserver>? expired = null;
            foreach (var (observer, renewed) in _subscribers)
            {
                if (now - renewed > Expiration) (expired ??= []).Add(observer);
                else targets.Add(observer);
            }
            if (expired is not null)
                foreach (var e in expired) _subscribers.Remove(e);
        }
        foreach (var observer in targets)
        {
            Task sent;
            try
            {
                sent = notification(observer);
            }
            catch (Exception e) when (IsGone(e))
            {
                Unsubscribe(observer);
                continue;
            }
            if (!sent.IsCompleted) sent.ContinueWith(static (t, s) => ((ObserverManager<TObserver>)((object[])s!)[0]).OnSent(t, (TObserver)((object[])s!)[1]), new object[] { this, observer }, TaskContinuationOptions.ExecuteSynchronously);
            else OnSent(sent, observer);
        }
        return targets.Count;
    }

    private void OnSent(Task sent, TObserver observer)
    {
        if (sent.IsFaulted && sent.Exception!.InnerExceptions.Any(IsGone)) Unsubscribe(observer);
    }

    private static bool IsGone(Exception e) => e is ObserverNotFoundException or TimeoutException;
}
