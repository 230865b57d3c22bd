using System.Net.WebSockets;
using System.Threading.Channels;

namespace Platform.Silo.Agents;

/// <summary>
/// One agent's WebSocket on this silo: its send queue (bounded; never blocks the hub), its last-seen time (memory
/// only), and the buffer that holds live frames while its missed user events are sent first.
/// </summary>
internal sealed class AgentConnection
{
    private readonly Channel<OutgoingFrame> _sends;
    private readonly Lock _lock = new();
    private List<(byte[] Frame, ulong LTime)>? _held = [];
    private long _lastSeen = Environment.TickCount64;
    private readonly int _limit;
    private int _ended;

    public AgentConnection(WebSocket socket, string session, int sendQueueLimit)
    {
        Socket = socket;
        Session = session;
        _limit = sendQueueLimit;
        _sends = Channel.CreateBounded<OutgoingFrame>(new BoundedChannelOptions(sendQueueLimit) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    }

    public WebSocket Socket { get; }

    /// <summary>Names this connection in the node grain: reports about an older connection are ignored there.</summary>
    public string Session { get; }

    /// <summary>The name of the access token the agent connected with (<c>anonymous</c> on an open silo): its build jobs may upload with it.</summary>
    public string? Token { get; set; }

    /// <summary>The node name, once the hello was read.</summary>
    public string Name { get; set; } = "";

    /// <summary>The node's tags as last known here (queries match them); replaced whole, never changed in place.</summary>
    public volatile IReadOnlyDictionary<string, string> Tags = new Dictionary<string, string>();

    /// <summary>Accepted by its node grain: it takes events, queries and heartbeats.</summary>
    public volatile bool Accepted;

    /// <summary>The agent takes member events (its hello's <c>member_events</c>); when false, member fan-outs skip it.</summary>
    public bool MemberEvents { get; set; } = true;

    /// <summary>Welcomed: from now on the agent pings, and the heartbeat deadline applies.</summary>
    public volatile bool Welcomed;

    /// <summary>The agent sent leave: closing it is not a failure.</summary>
    public volatile bool Leaving;

    /// <summary>The agent closed the connection saying this silo had gone silent: it is reconnecting, not gone.</summary>
    public volatile bool Reconnecting;

    /// <summary>Build jobs the agent takes at once (its <c>job-capacity</c>); 0 until it says.</summary>
    public volatile int JobSlots;

    /// <summary>The agent's container engine (docker, podman); null when it has none.</summary>
    public volatile string? Engine;

    /// <summary>The node's incarnation when this connection was accepted: a job lost to a restarted agent is told apart by it.</summary>
    public long Incarnation;

    /// <summary>Deploys this node is part of, as checked with their grains: its output for them is stored (read loop only).</summary>
    public HashSet<string> DeploysIncluding { get; } = new(StringComparer.Ordinal);

    /// <summary>Build job logs on their way to their grains, by job and attempt (read loop only).</summary>
    public Dictionary<(string JobId, int Attempt), LogPipe> LogPipes { get; } = [];

    /// <summary>Why the hub ended the connection (heartbeat deadline, slow reader); null when the socket ended by itself.</summary>
    public string? EndReason { get; private set; }

    public long LastSeen => Volatile.Read(ref _lastSeen);

    private readonly Lock _appliedLock = new();
    private ulong _applied;
    private ulong _appliedWritten;
    private long _appliedWrittenAt;

    /// <summary>The agent handled every user event up to <paramref name="ltime"/> (kept here until written).</summary>
    public void ReportApplied(ulong ltime)
    {
        lock (_appliedLock)
            if (ltime > _applied) _applied = ltime;
    }

    /// <summary>The applied mark to write now: it moved, and the last write is at least <paramref name="intervalMs"/> old at <paramref name="now"/>.</summary>
    public ulong? TakeAppliedDue(long now, long intervalMs)
    {
        lock (_appliedLock)
        {
            if (_applied <= _appliedWritten || now - _appliedWrittenAt < intervalMs) return null;
            _appliedWritten = _applied;
            _appliedWrittenAt = now;
            return _applied;
        }
    }

    public void Touch() => Volatile.Write(ref _lastSeen, Environment.TickCount64);

    /// <summary>
    /// A frame of this agent is being handled (a grain call, which may wait out a dead silo's failover): its later pings
    /// wait unread behind it, so the silence is this silo's, not the agent's, and the heartbeat deadline does not apply.
    /// </summary>
    public volatile bool Handling;

    /// <summary>Queues a frame (shared bytes); while catching up, live frames wait. A full queue ends the connection.</summary>
    public void Send(byte[] frame, ulong userLTime = 0)
    {
        lock (_lock)
        {
            if (_held is { } held)
            {
                if (held.Count >= _limit) End("too many live frames arrived while its missed events were sent");
                else held.Add((frame, userLTime));
                return;
            }
        }
        if (!_sends.Writer.TryWrite(frame)) End($"its send queue reached {_limit} frames (a slow reader)");
    }

    /// <summary>Queues a frame ahead of the frames held back (the welcome, the missed events).</summary>
    public void SendNow(OutgoingFrame frame)
    {
        if (!_sends.Writer.TryWrite(frame)) End("its send queue filled while its missed events were sent");
    }

    /// <summary>Ends catch-up: sends the held live frames except user events at or before <paramref name="sentUpTo"/>.</summary>
    public void ReleaseHeld(ulong sentUpTo)
    {
        lock (_lock)
        {
            if (_held is not { } held) return;
            foreach (var (frame, ltime) in held)
            {
                if (ltime != 0 && ltime <= sentUpTo) continue;
                if (!_sends.Writer.TryWrite(frame))
                {
                    End("its send queue filled while its missed events were sent");
                    break;
                }
            }
            _held = null;
        }
    }

    /// <summary>Writes queued frames to the socket until the connection ends.</summary>
    public async Task SendLoopAsync(CancellationToken cancellationToken)
    {
        try
        {
            // The ReadOnlyMemory overload: a send that completes at once (the usual case) allocates nothing per agent.
            await foreach (var frame in _sends.Reader.ReadAllAsync(cancellationToken))
            {
                if (frame.Shared is null && frame.Tail is null)
                {
                    await Socket.SendAsync(new ReadOnlyMemory<byte>(frame.Head), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
                    continue;
                }
                // One message in fragments: the shared part is sent from its one copy.
                await Socket.SendAsync(new ReadOnlyMemory<byte>(frame.Head), WebSocketMessageType.Text, endOfMessage: false, cancellationToken);
                if (frame.Shared is { } shared) await Socket.SendAsync(new ReadOnlyMemory<byte>(shared), WebSocketMessageType.Text, endOfMessage: false, cancellationToken);
                await Socket.SendAsync(new ReadOnlyMemory<byte>(frame.Tail ?? []), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The receive side sees the same end and reports it.
        }
    }

    /// <summary>Stops sending: the send loop ends once the queue drains.</summary>
    public void CompleteSends() => _sends.Writer.TryComplete();

    /// <summary>Ends the connection from the hub's side (first reason wins): the socket is aborted, so its receive loop ends.</summary>
    public void End(string reason)
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0) return;
        EndReason = reason;
        _sends.Writer.TryComplete();
        Socket.Abort();
    }

    public bool Ended => Volatile.Read(ref _ended) != 0;
}
