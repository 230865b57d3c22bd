namespace Platform.Silo.Agents;

/// <summary>Fan-out: the same bytes queued on every connection, split over the cores when there are many.</summary>
public sealed partial class AgentHub
{
    /// <summary>A fan-out smaller than this runs on the dispatching thread.</summary>
    private const int FanOutChunk = 256;

    /// <summary>
    /// Queues <paramref name="frame"/> on every connection (held back on those still catching up), or with
    /// <paramref name="membersOnly"/> on those that take member events; completes once every queue has it.
    /// </summary>
    private Task Broadcast(byte[] frame, ulong userLTime, bool membersOnly = false)
    {
        var all = Volatile.Read(ref _all);
        var chunks = Math.Clamp(all.Length / FanOutChunk, 1, Environment.ProcessorCount);
        if (chunks == 1)
        {
            SendRange(all, frame, userLTime, membersOnly, 0, all.Length);
            return Task.CompletedTask;
        }
        var parts = new Task[chunks];
        for (var c = 0; c < chunks; c++)
        {
            var from = (int)((long)all.Length * c / chunks);
            var to = (int)((long)all.Length * (c + 1) / chunks);
            parts[c] = Task.Factory.StartNew(static s =>
            {
                var (connections, bytes, ltime, members, start, end) = ((AgentConnection[], byte[], ulong, bool, int, int))s!;
                SendRange(connections, bytes, ltime, members, start, end);
            }, (all, frame, userLTime, membersOnly, from, to), CancellationToken.None, TaskCreationOptions.DenyChildAttach, TaskScheduler.Default);
        }
        return Task.WhenAll(parts);
    }

    private static void SendRange(AgentConnection[] connections, byte[] frame, ulong userLTime, bool membersOnly, int from, int to)
    {
        for (var i = from; i < to; i++)
        {
            var connection = connections[i];
            if (!connection.Ended && (connection.MemberEvents || !membersOnly)) connection.Send(frame, userLTime);
        }
    }
}
