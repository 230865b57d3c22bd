using Platform.Grains.Nodes;
using Platform.Protocol;

namespace Platform.Silo.Agents;

/// <summary>User events fired with Consul's node or tag filter: sent only to the local agents they match.</summary>
public sealed partial class AgentHub
{
    /// <summary>
    /// Queues <paramref name="frame"/> on the connections whose node matches the event's filters. Agents check the
    /// filters again (their tags may have changed since), and an agent reconnecting gets the event in its catch-up and
    /// skips it there: the hub's check only saves sending.
    /// </summary>
    private Task SendMatching(UserEvent e, byte[] frame)
    {
        if (!UserEventFilter.TryCreate(e.NodeFilter, e.TagFilter, out var filter, out var error))
        {
            // The silo that fired it checked the filters; one that does not compile here reaches no node.
            LogEventFilterBroken(_logger, e.Name, e.LTime, error);
            return Task.CompletedTask;
        }
        foreach (var connection in Volatile.Read(ref _all))
        {
            if (connection.Ended) continue;
            if (filter is null || filter.Matches(connection.Name, connection.Tags)) connection.Send(frame, e.LTime);
        }
        return Task.CompletedTask;
    }

    [LoggerMessage(EventId = 3210, Level = LogLevel.Warning, Message = "agent hub: user event {Name} at ltime {LTime}: {Error}; sent to no node here")]
    private static partial void LogEventFilterBroken(ILogger logger, string name, ulong lTime, string? error);
}
