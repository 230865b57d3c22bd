using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using Platform.Grains.Nodes;
using Platform.Protocol;

namespace Platform.Silo.Agents;

/// <summary>Connections: hello, registration with the node grain, catch-up, the receive loop, heartbeats and the end of a connection.</summary>
public sealed partial class AgentHub
{
    /// <summary>Largest agent message read, in bytes; a larger one closes the connection (1009).</summary>
    private const int MaxMessageBytes = 64 * 1024;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, AgentConnection> _byName = new(StringComparer.Ordinal);
    private AgentConnection[] _all = [];
    private long _lastScan;
    private long _failNotBefore;
    private readonly SchedulingLagProbe _lag = new();
    private readonly AppliedWriteBudget _appliedWrites;

    /// <summary>
    /// Serves one agent's WebSocket until it ends; <paramref name="token"/> names the access token it connected with.
    /// Over <paramref name="stream"/>, writes go straight to the socket once the hello is read.
    /// </summary>
    internal async Task RunAsync(WebSocket socket, string? token = null, AgentStream? stream = null)
    {
        var connection = new AgentConnection(socket, Guid.NewGuid().ToString("N"), _options.SendQueueLimit, _stopping.Token) { Token = token };
        var buffer = ArrayPool<byte>.Shared.Rent(4096);
        var registered = false;
        try
        {
            if (_closing)
            {
                await CloseQuietly(socket, (WebSocketCloseStatus)AgentProtocol.SiloStoppingCloseStatus, "silo stopping");
                return;
            }
            // A connection registered before the hub hears from the fleet would miss the events in between.
            if (!Ready.IsCompleted && await Task.WhenAny(Ready, Task.Delay(_options.HelloTimeout)) != Ready)
            {
                await CloseQuietly(socket, WebSocketCloseStatus.InternalServerError, "the silo is not connected to the fleet yet; reconnect");
                return;
            }
            AgentFrame first;
            try
            {
                using var helloDeadline = new CancellationTokenSource(_options.HelloTimeout);
                (first, buffer) = await ReceiveFrameAsync(socket, buffer, helloDeadline.Token) ?? throw new JsonException("the connection closed before the hello");
                stream?.WriteDirect();
                connection.DirectWrites = stream?.Direct == true;
            }
            catch (Exception e) when (e is JsonException or OperationCanceledException)
            {
                await Refuse(connection, e is OperationCanceledException
                    ? $"no hello within {_options.HelloTimeout.TotalSeconds:0.###} s; the first frame must be a hello"
                    : $"the first frame is not a valid hello: {e.Message}");
                return;
            }
            if (first is not HelloFrame hello)
            {
                await Refuse(connection, $"the first frame is '{first.GetType().Name}'; expected a hello");
                return;
            }
            if (AgentFrameMapping.Validate(hello) is { } invalid)
            {
                await Refuse(connection, invalid);
                return;
            }

            // Registered before the node grain answers, so no live event falls between the grain's view and this one's.
            connection.Name = hello.Name;
            connection.Tags = hello.Tags;
            connection.MemberEvents = hello.MemberEvents;
            Add(connection);
            registered = true;
            var result = await Node(hello.Name).Connect(AgentFrameMapping.ToHello(hello), HubKey, connection.Session);
            if (result.Error is { } refused)
            {
                Remove(connection);
                registered = false;
                await Refuse(connection, refused);
                return;
            }
            connection.Incarnation = result.Self!.Incarnation;
            Accept(connection);
            var members = connection.MemberEvents ? await WelcomeMembersAsync() : MemberJson.EmptyList;
            connection.SendNow(_memberJson.EncodeWelcome(result.Self!, members,
                (int)_options.HeartbeatInterval.TotalMilliseconds, (int)_options.HeartbeatTimeout.TotalMilliseconds, (int)_options.PongAfter.TotalMilliseconds, SiloName));
            connection.Touch();
            connection.Welcomed = true;
            // Checks registered through the API, right after the welcome: a restarted agent runs them again.
            if (result.Checks is { } apiChecks) connection.SendNow(AgentProtocol.Encode(AgentFrameMapping.ToFrame(apiChecks)));
            // Missed events first, from the node's mark (the fleet's clock when the node was new, so no old history).
            var sentUpTo = result.LastEventLTime;
            foreach (var missed in await Fleet.UserEvents(sentUpTo))
            {
                connection.SendNow(AgentProtocol.Encode(AgentFrameMapping.ToFrame(missed)));
                sentUpTo = Math.Max(sentUpTo, missed.LTime);
            }
            connection.ReleaseHeld(sentUpTo);
            connection.Touch();
            buffer = await ReceiveLoop(connection, buffer);
            connection.Reconnecting = (int?)socket.CloseStatus == AgentProtocol.SiloSilentCloseStatus;
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException or JsonException)
        {
            LogConnectionEnded(_logger, e, connection.Session, connection.Name);
        }
        catch (Exception e) when (!connection.Accepted)
        {
            // The node grain or the fleet did not answer (a silo of the cluster just died, say): not a refusal, the agent retries.
            LogNodeNotRegistered(_logger, e, connection.Name);
            await CloseQuietly(socket, WebSocketCloseStatus.InternalServerError, "the node could not be registered now; reconnect");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (registered) Remove(connection);
            await connection.CompleteSends();
            if (registered && connection.Accepted)
            {
                if (connection.JobSlots > 0) AgentsChanged();
                if (connection.Reconnecting) _ = ReportEndUnlessBack(connection);
                else await ReportEnd(connection);
            }
        }
    }

    /// <summary>Tells the node grain how the connection ended: leave → left; silo stopping → nothing (the agent reconnects); anything else → failed.</summary>
    private async Task ReportEnd(AgentConnection connection)
    {
        await WriteApplied(connection);
        if (_closing && !connection.Leaving && connection.EndReason is null) return;
        var reason = connection.Leaving ? "left" : connection.EndReason ?? "its connection closed or was reset without a leave";
        try
        {
            await Node(connection.Name).Disconnected(connection.Session, reason);
        }
        catch (Exception e)
        {
            LogEndNotReported(_logger, e, connection.Name);
        }
    }

    /// <summary>
    /// An agent that dropped this silo as silent is reconnecting: its node fails only if no new connection of it (to any
    /// silo) registers within the heartbeat timeout, as if the agent had stayed connected and silent that long.
    /// </summary>
    private async Task ReportEndUnlessBack(AgentConnection connection)
    {
        try
        {
            await Task.Delay(_options.HeartbeatTimeout, _stopping.Token);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        // A new connection has a new session, and the node grain ignores the end of an older one.
        await ReportEnd(connection);
    }

    private async Task<byte[]> ReceiveLoop(AgentConnection connection, byte[] buffer)
    {
        var node = Node(connection.Name);
        while (true)
        {
            var received = await ReceiveFrameAsync(connection.Socket, buffer, CancellationToken.None);
            if (received is not { } got) return buffer;
            buffer = got.Buffer;
            connection.Touch();
            connection.Handling = true;
            try
            {
                if (await Handle(connection, node, got.Frame)) return buffer;
            }
            catch (Exception e) when (e is not (WebSocketException or OperationCanceledException or ObjectDisposedException))
            {
                // A grain call failed (its silo went away mid-call): the report is lost, not the connection.
                LogFrameFailed(_logger, e, connection.Name, got.Frame.GetType().Name);
            }
            finally
            {
                // Seen first, then not handling: a scan that finds the frame handled also finds it seen (the scan reads
                // the two the other way round), never the silence of a long handling without its excuse.
                connection.Touch();
                connection.Handling = false;
            }
        }
    }

    /// <summary>Handles one frame from an agent; true when the connection is done (the agent left).</summary>
    private async Task<bool> Handle(AgentConnection connection, INodeGrain node, AgentFrame frame)
    {
        switch (frame)
        {
            case PingFrame ping:
                // Any frame tells the agent this silo is alive: a pong only after a quiet spell (about every second ping
                // when idle, none around a fan-out), half of the heartbeat frames there were.
                if (connection.QuietFor(Environment.TickCount64, (long)_options.PongAfter.TotalMilliseconds))
                    connection.Send(AgentProtocol.Encode(new PongFrame(ping.Seq)));
                if (ping.Applied != 0) connection.ReportApplied(ping.Applied);
                break;
            case AppliedFrame applied:
                // Written by the heartbeat scan, at most once per AppliedWriteInterval: an event to N agents is not N writes in its fan-out.
                connection.ReportApplied(applied.LTime);
                break;
            case QueryAckFrame ack:
                if (FindQuery(ack.QueryId) is { } acked) Forward(acked.Collector.OnAck(connection.Name));
                break;
            case QueryResponseFrame response:
                OnQueryResponse(connection, response);
                break;
            case TagsFrame tags:
                var delete = new List<string>();
                foreach (var key in connection.Tags.Keys)
                    if (!tags.Tags.ContainsKey(key)) delete.Add(key);
                await node.UpdateTags(new Dictionary<string, string>(tags.Tags, StringComparer.Ordinal), delete, fromAgent: true);
                connection.Tags = tags.Tags;
                break;
            case CheckFrame check:
                await node.UpdateCheck(connection.Session, AgentFrameMapping.ToCheck(check.Check));
                break;
            case DeployLogFrame log:
                await OnDeployLog(connection, log);
                break;
            case DeployResultFrame result:
                // Not awaited: a slow grain (reactivating after its silo died) must not hold up this connection's pings.
                _ = OnDeployResult(connection, result);
                break;
            case LeaveFrame:
                connection.Leaving = true;
                await node.Leave(connection.Session);
                // Leaving is no member event (Serf has none either), but monitors see it, as Serf logs the leave intent.
                Monitor.Publish(JsonSerializer.SerializeToUtf8Bytes(new MonitorLine("leaving", null, null, null, null, null, null, connection.Name), MonitorLine.Json));
                await CloseQuietly(connection.Socket, WebSocketCloseStatus.NormalClosure, "left");
                return true;
            default:
                if (await HandleJobFrame(connection, frame)) break;
                LogUnexpectedFrame(_logger, connection.Name, frame.GetType().Name);
                break;
        }
        return false;
    }

    /// <summary>Reads one whole message; null when the peer closed. Throws <see cref="JsonException"/> when it is not a frame.</summary>
    private static async Task<(AgentFrame Frame, byte[] Buffer)?> ReceiveFrameAsync(WebSocket socket, byte[] buffer, CancellationToken cancellationToken)
    {
        var length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                if (buffer.Length >= MaxMessageBytes)
                {
                    await CloseQuietly(socket, WebSocketCloseStatus.MessageTooBig, $"a message is over {MaxMessageBytes} bytes");
                    return null;
                }
                var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                buffer.AsSpan(0, length).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = larger;
            }
            var result = await socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                await CloseQuietly(socket, WebSocketCloseStatus.NormalClosure, "");
                return null;
            }
            length += result.Count;
            if (result.EndOfMessage) return (AgentProtocol.Decode(buffer.AsSpan(0, length)), buffer);
        }
    }

    private static async Task CloseQuietly(WebSocket socket, WebSocketCloseStatus status, string description)
    {
        try
        {
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await socket.CloseOutputAsync(status, description, deadline.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            socket.Abort();
        }
    }

    private async Task Refuse(AgentConnection connection, string error)
    {
        LogAgentRefused(_logger, error);
        connection.SendNow(AgentProtocol.Encode(new RefusedFrame(error)));
        await connection.CompleteSends().WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await CloseQuietly(connection.Socket, (WebSocketCloseStatus)AgentProtocol.RefusedCloseStatus, Truncate(error));
    }

    /// <summary>A close description is at most 123 bytes.</summary>
    private static string Truncate(string text) => System.Text.Encoding.UTF8.GetByteCount(text) <= 123 ? text : text[..Math.Min(text.Length, 40)] + "...";

    private void Add(AgentConnection connection)
    {
        lock (_lock) _all = [.. _all, connection];
    }

    private void Accept(AgentConnection connection)
    {
        AgentConnection? previous;
        lock (_lock)
        {
            _byName.TryGetValue(connection.Name, out previous);
            _byName[connection.Name] = connection;
            connection.Accepted = true;
        }
        // The same agent again on this silo: its older socket is stale; the grain already moved to the new session.
        if (previous is not null && previous != connection) previous.End("replaced by a newer connection of the same node");
    }

    private void Remove(AgentConnection connection)
    {
        lock (_lock)
        {
            _all = Array.FindAll(_all, c => c != connection);
            if (_byName.TryGetValue(connection.Name, out var current) && current == connection) _byName.Remove(connection.Name);
        }
    }

    /// <summary>Ends every connection silent for longer than the heartbeat timeout, writes the applied marks due (as many as <see cref="AppliedWriteBudget"/> allows, round-robin), and forgets queries past their deadline.</summary>
    private void CheckHeartbeats()
    {
        var now = Environment.TickCount64;
        var timeout = (long)_options.HeartbeatTimeout.TotalMilliseconds;
        // A scan that comes a third of the timeout late means this silo stalled (CPU starved, paused): the pings that
        // arrived meanwhile are still unread, so nobody is failed until the receive loops had as long again to read them.
        // The same holds while the thread pool, where those reads wait, runs its work a third of the timeout late.
        var previous = Interlocked.Exchange(ref _lastScan, now);
        if ((previous != 0 && now - previous > timeout / 3) || _lag.Check(now) > timeout / 3) Volatile.Write(ref _failNotBefore, now + (timeout / 3));
        var mayFail = now >= Volatile.Read(ref _failNotBefore);
        var all = Volatile.Read(ref _all);
        var writes = _appliedWrites.Take(now);
        var start = _appliedWrites.Start(all.Length);
        var resume = start;
        for (var k = 0; k < all.Length; k++)
        {
            var i = start + k < all.Length ? start + k : start + k - all.Length;
            var connection = all[i];
            if (!connection.Welcomed || connection.Ended) continue;
            var handling = connection.Handling;
            var silent = now - connection.LastSeen;
            if (silent > timeout && mayFail && !handling) connection.End($"no heartbeat for {silent} ms (timeout {timeout} ms)");
            else if (silent <= timeout && writes > 0 && connection.TakeAppliedDue(now, AppliedWriteIntervalMs) is { } applied)
            {
                Forward(Node(connection.Name).Applied(connection.Session, applied));
                if (--writes == 0) resume = i + 1;
            }
        }
        _appliedWrites.ResumeAt(resume);
        ExpireQueries(now);
    }

    /// <summary>The silo is stopping: every agent is told (4002) to reconnect elsewhere; their nodes stay alive.</summary>
    private void CloseAllForStop()
    {
        if (_closing) return;
        _closing = true;
        Monitor.CloseAll();
        foreach (var connection in Volatile.Read(ref _all)) _ = CloseForStop(connection.Socket);
    }

    /// <summary>Asks the agent to close (4002) and aborts the socket if it has not within 2 s, so no agent holds up the stop.</summary>
    private static async Task CloseForStop(WebSocket socket)
    {
        await CloseQuietly(socket, (WebSocketCloseStatus)AgentProtocol.SiloStoppingCloseStatus, "silo stopping");
        await Task.Delay(TimeSpan.FromSeconds(2));
        if (socket.State != WebSocketState.Closed) socket.Abort();
    }

    private void Forward(Task call) => _ = call.ContinueWith(static (t, s) => LogForwardFailed((ILogger)s!, t.Exception),
        _logger, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    [LoggerMessage(EventId = 3200, Level = LogLevel.Debug, Message = "agent hub: connection {Session} ({Name}) ended")]
    private static partial void LogConnectionEnded(ILogger logger, Exception? exception, string session, string name);

    [LoggerMessage(EventId = 3201, Level = LogLevel.Warning, Message = "agent hub: node {Name} could not be registered; its agent is asked to reconnect")]
    private static partial void LogNodeNotRegistered(ILogger logger, Exception? exception, string name);

    [LoggerMessage(EventId = 3202, Level = LogLevel.Warning, Message = "agent hub: reporting the end of node {Name}'s connection failed; the fleet fails it when its hub is gone")]
    private static partial void LogEndNotReported(ILogger logger, Exception? exception, string name);

    [LoggerMessage(EventId = 3203, Level = LogLevel.Warning, Message = "agent hub: node {Name}'s {Frame} frame could not be handled")]
    private static partial void LogFrameFailed(ILogger logger, Exception? exception, string name, string frame);

    [LoggerMessage(EventId = 3204, Level = LogLevel.Debug, Message = "agent hub: node {Name} sent an unexpected {Frame} frame; ignored")]
    private static partial void LogUnexpectedFrame(ILogger logger, string name, string frame);

    [LoggerMessage(EventId = 3205, Level = LogLevel.Information, Message = "agent hub: refused an agent: {Error}")]
    private static partial void LogAgentRefused(ILogger logger, string error);

    [LoggerMessage(EventId = 3206, Level = LogLevel.Debug, Message = "agent hub: forwarding to a query collector failed")]
    private static partial void LogForwardFailed(ILogger logger, Exception? exception);
}
