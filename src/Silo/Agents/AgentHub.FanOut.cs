namespace Platform.Silo.Agents;

/// <summary>Fan-out: the same bytes queued on every connection, split over the cores when there are many.</summary>
public sealed partial class AgentHub
{
    /// <summary>A fan-out smaller than this runs on the dispatching thread.</summary>
    private const int FanOutChunk = 256;

    /// <summary>Queues <paramref name="frame"/> on every connection (held back on those still catching up); completes once every queue has it.</summary>
    private Task Broadcast(byte[] frame, ulong userLTime)
    {
        var all = Volatile.Read(ref _all);
        var chunks = Math.Clamp(all.Length / FanOutChunk, 1, Environment.ProcessorCount);
        if (chunks == 1)
        {
            SendRange(all, frame, userLTime, 0, all.Length);
            return Task.CompletedTask;
        }
        var parts = new Task[chunks];
        for (var c = 0; c < chunks; c++)
        {
            var from = (int)((long)all.Length * c / chunks);
            var to = (int)((long)all.Length * (c + 1) / chunks);
            parts[c] = Task.Factory.StartNew(static s =>
            {
                var (connections, bytes, ltime, start, end) = ((AgentConnection[], byte[], ulong, int, int))s!;
                SendRange(connections, bytes, ltime, start, end);
            }, (all, frame, userLTime, from, to), CancellationToken.None, TaskCreationOptions.DenyChildAttach, TaskScheduler.Default);
        }
        return Task.WhenAll(parts);
    }

    private static void SendRange(AgentConnection[] connections, byte[] frame, ulong userLTime, int from, int to)
    {
        for (var i = from; i < to; i++)
        {
            var connection = connections[i];
            if (!connection.Ended) connection.Send(frame, userLTime);
        }
    }
}
