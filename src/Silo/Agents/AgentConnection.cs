using System.Net.WebSockets;

namespace Platform.Silo.Agents;

/// <summary>
/// One agent's WebSocket on this silo: its sends (written by the thread that has the frame while the socket takes
/// them, queued behind one it could not take at once; the queue is bounded and never blocks the hub), its last-seen
/// time (memory only), and the buffer that holds live frames while its missed user events are sent first.
/// </summary>
internal sealed class AgentConnection
{
    private readonly Queue<OutgoingFrame> _queue = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationToken _cancellation;
    private readonly Lock _lock = new();

    /// <summary>A frame is on its way that the socket could not take at once: later frames queue behind it (under <see cref="_lock"/>).</summary>
    private bool _draining;

    /// <summary>Nothing more is sent (under <see cref="_lock"/>).</summary>
    private bool _completed;
    private List<(byte[] Frame, ulong LTime)>? _held = [];
    private long _lastSeen = Environment.TickCount64;
    private long _lastSent;
    private readonly int _limit;
    private int _ended;

    /// <summary>A connection whose sends waiting for a slow socket end with <paramref name="cancellation"/> (the silo stopping).</summary>
    public AgentConnection(WebSocket socket, string session, int sendQueueLimit, CancellationToken cancellation)
    {
        Socket = socket;
        Session = session;
        _limit = sendQueueLimit;
        _cancellation = cancellation;
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

    /// <summary>Frames are written straight to the agent's socket (a plain listener), not through the web server's stream.</summary>
    public bool DirectWrites { get; set; }

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
    /// Nothing was sent (or queued to be sent) to the agent in the <paramref name="ms"/> before <paramref name="now"/>
    /// (<see cref="Environment.TickCount64"/>): frames held back during catch-up do not count, they have not left.
    /// </summary>
    public bool QuietFor(long now, long ms) => now - Volatile.Read(ref _lastSent) >= ms;

    /// <summary>
    /// A frame of this agent is being handled (a grain call, which may wait out a dead silo's failover): its later pings
    /// wait unread behind it, so the silence is this silo's, not the agent's, and the heartbeat deadline does not apply.
    /// </summary>
    public volatile bool Handling;

    /// <summary>Sends a frame (shared bytes), or queues it behind frames still on their way; while catching up, live frames wait. A full queue ends the connection.</summary>
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
            SendOrQueue(frame, $"its send queue reached {_limit} frames (a slow reader)");
        }
    }

    /// <summary>Sends a frame ahead of the frames held back (the welcome, the missed events).</summary>
    public void SendNow(OutgoingFrame frame)
    {
        lock (_lock) SendOrQueue(frame, "its send queue filled while its missed events were sent");
    }

    /// <summary>Ends catch-up: sends the held live frames except user events at or before <paramref name="sentUpTo"/>.</summary>
    public void ReleaseHeld(ulong sentUpTo)
    {
        lock (_lock)
        {
            if (_held is not { } held) return;
            _held = null;
            foreach (var (frame, ltime) in held)
            {
                if (ltime != 0 && ltime <= sentUpTo) continue;
                if (!SendOrQueue(frame, "its send queue filled while its missed events were sent")) break;
            }
        }
    }

    /// <summary>
    /// With nothing queued, a whole frame is written on the calling thread (under the lock, so frames keep their
    /// order): over an <see cref="AgentStream"/> that is one non-blocking <c>send</c>, and a frame the socket cannot
    /// take at once is finished by <see cref="DrainAsync"/>, which then sends what queued behind it. False when the
    /// connection ended. Caller holds <see cref="_lock"/>.
    /// </summary>
    private bool SendOrQueue(OutgoingFrame frame, string fullReason)
    {
        if (_completed || Ended) return false;
        Volatile.Write(ref _lastSent, Environment.TickCount64);
        if (!_draining && frame.Shared is null && frame.Tail is null)
        {
            ValueTask sending;
            try
            {
                // The ReadOnlyMemory overload: a send that completes at once allocates nothing per agent.
                sending = Socket.SendAsync(new ReadOnlyMemory<byte>(frame.Head), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            }
            catch (Exception e) when (e is WebSocketException or IOException or ObjectDisposedException or InvalidOperationException)
            {
                // The receive side sees the same end and reports it.
                return false;
            }
            if (sending.IsCompletedSuccessfully) return true;
            _draining = true;
            _ = DrainAsync(sending);
            return true;
        }
        if (_queue.Count >= _limit)
        {
            End(fullReason);
            return false;
        }
        _queue.Enqueue(frame);
        if (!_draining)
        {
            _draining = true;
            _ = DrainAsync(ValueTask.CompletedTask);
        }
        return true;
    }

    /// <summary>Finishes <paramref name="first"/>, then sends the queued frames in order until none is left.</summary>
    private async Task DrainAsync(ValueTask first)
    {
        try
        {
            await first;
            while (true)
            {
                OutgoingFrame frame;
                lock (_lock)
                {
                    if (!_queue.TryDequeue(out frame))
                    {
                        _draining = false;
                        if (_completed) _drained.TrySetResult();
                        return;
                    }
                }
                if (frame.Shared is null && frame.Tail is null)
                {
                    await Socket.SendAsync(new ReadOnlyMemory<byte>(frame.Head), WebSocketMessageType.Text, endOfMessage: true, _cancellation);
                    continue;
                }
                // One message in fragments: the shared part is sent from its one copy.
                await Socket.SendAsync(new ReadOnlyMemory<byte>(frame.Head), WebSocketMessageType.Text, endOfMessage: false, _cancellation);
                if (frame.Shared is { } shared) await Socket.SendAsync(new ReadOnlyMemory<byte>(shared), WebSocketMessageType.Text, endOfMessage: false, _cancellation);
                await Socket.SendAsync(new ReadOnlyMemory<byte>(frame.Tail ?? []), WebSocketMessageType.Text, endOfMessage: true, _cancellation);
            }
        }
        catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            // The receive side sees the same end and reports it; nothing more is sent.
            lock (_lock)
            {
                _completed = true;
                _queue.Clear();
                _draining = false;
            }
            _drained.TrySetResult();
        }
    }

    /// <summary>Stops sending; the returned task completes once what was queued is sent (or the socket ended).</summary>
    public Task CompleteSends()
    {
        lock (_lock)
        {
            _completed = true;
            if (!_draining) _drained.TrySetResult();
        }
        return _drained.Task;
    }

    /// <summary>Ends the connection from the hub's side (first reason wins): the socket is aborted, so its receive loop ends.</summary>
    public void End(string reason)
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0) return;
        EndReason = reason;
        Socket.Abort();
    }

    public bool Ended => Volatile.Read(ref _ended) != 0;
}
