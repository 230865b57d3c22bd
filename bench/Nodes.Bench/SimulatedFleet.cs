using System.Diagnostics;
using Platform.Protocol;

namespace Platform.Nodes.Bench;

/// <summary>
/// N simulated agents in this process, each on its own WebSocket to one silo. One thread of its own pings them all every
/// heartbeat interval, spread over it (the frame encoded once per slice): on the thread pool, behind 10,000 receive continuations, the
/// ping rounds came up to 1.5 s apart and the silo rightly failed agents whose pings this process had not sent. A round
/// waits for one user event or query to reach every agent.
/// </summary>
public sealed class SimulatedFleet : IAsyncDisposable
{
    private const int ConnectConcurrency = 16;
    private readonly List<SimulatedAgent> _agents = [];
    private SimulatedAgent[] _pinged = [];
    private readonly CancellationTokenSource _stop = new();
    private Thread? _pings;

    private string? _awaited;
    private long[] _arrivals = [];
    private int _arrived;
    private TaskCompletionSource? _all;

    private int _retries;
    private long _bytesReceived;

    /// <summary>WebSocket payload bytes all agents have read so far (welcomes, member events, pongs, events).</summary>
    public long BytesReceived => Interlocked.Read(ref _bytesReceived);

    internal void CountReceived(int bytes) => Interlocked.Add(ref _bytesReceived, bytes);
    private long _longestPingGapMs;

    /// <summary>The longest time between two ping rounds of this driver: above the silo's heartbeat timeout, a lost node is the driver's fault.</summary>
    public long LongestPingGapMs => Volatile.Read(ref _longestPingGapMs);

    public int Count => _agents.Count;

    /// <summary>Whether the agents' hellos ask for member events.</summary>
    public bool MemberEvents { get; init; }

    /// <summary>How many slices each heartbeat interval's pings are spread over (1: all agents at once).</summary>
    public int PingSlices { get; init; } = 20;

    /// <summary>Timed rounds run in a no-GC region of the driver (<see cref="NoDriverGc"/>).</summary>
    public bool QuietDriverGc { get; init; } = true;

    /// <summary>Connection attempts that failed and were retried.</summary>
    public int Retries => Volatile.Read(ref _retries);

    /// <summary>Connects <paramref name="count"/> agents named <c>sim-00000</c>…, <see cref="ConnectConcurrency"/> handshakes at a time.</summary>
    public async Task ConnectAsync(string siloUrl, int count, TimeSpan timeout)
    {
        var connect = new Uri(siloUrl.Replace("http://", "ws://", StringComparison.Ordinal) + AgentProtocol.ConnectPath);
        using var cts = new CancellationTokenSource(timeout);
        var started = Stopwatch.GetTimestamp();
        var next = _agents.Count;
        var end = _agents.Count + count;
        for (var i = next; i < end; i++) _agents.Add(new SimulatedAgent(i, $"sim-{i:00000}", this));
        Volatile.Write(ref _pinged, _agents.ToArray());
        if (_pings is null)
        {
            _pings = new Thread(PingLoop) { IsBackground = true, Name = "pings", Priority = ThreadPriority.AboveNormal };
            _pings.Start();
        }
        var workers = Enumerable.Range(0, ConnectConcurrency).Select(async _ =>
        {
            while (true)
            {
                var i = Interlocked.Increment(ref next) - 1;
                if (i >= end) return;
                // A real agent retries a connection the silo dropped; so do these, a few times.
                for (var attempt = 1; ; attempt++)
                {
                    try
                    {
                        await _agents[i].ConnectAsync(connect, cts.Token);
                        break;
                    }
                    catch (Exception e) when (e is System.Net.WebSockets.WebSocketException or OperationCanceledException or System.Text.Json.JsonException)
                    {
                        Interlocked.Increment(ref _retries);
                        if (attempt == 3 || cts.IsCancellationRequested)
                            throw new BenchFailure($"simulated agent {i} could not connect ({e.GetType().Name}: {e.Message}) after {Stopwatch.GetElapsedTime(started).TotalSeconds:0.0} s, attempt {attempt}; longest gap between this driver's ping rounds {LongestPingGapMs} ms");
                    }
                }
            }
        });
        await Task.WhenAll(workers);
    }

    /// <summary>
    /// Every heartbeat interval (the silo's default, which it also sends in the welcome) pings every agent welcomed, in
    /// <see cref="PingSlices"/> slices spread evenly over the interval (agent i in slice i mod N), as a fleet's agents,
    /// whose timers started at different moments, do; a send that does not complete at once finishes on the thread pool.
    /// </summary>
    private void PingLoop()
    {
        var slices = Math.Max(1, PingSlices);
        var step = AgentProtocol.DefaultHeartbeatInterval / slices;
        var wait = step;
        long seq = 0;
        var last = new long[slices];
        Array.Fill(last, Stopwatch.GetTimestamp());
        var slice = 0;
        while (!_stop.Token.WaitHandle.WaitOne(wait))
        {
            var now = Stopwatch.GetTimestamp();
            var gap = (long)Stopwatch.GetElapsedTime(last[slice], now).TotalMilliseconds;
            last[slice] = now;
            if (gap > Volatile.Read(ref _longestPingGapMs)) Volatile.Write(ref _longestPingGapMs, gap);
            var ping = AgentProtocol.Encode(new PingFrame(++seq));
            // After an event nearly every agent carries the same mark: one encoding per mark and slice.
            Dictionary<ulong, byte[]>? withApplied = null;
            var agents = Volatile.Read(ref _pinged);
            for (var i = slice; i < agents.Length; i += slices)
            {
                var agent = agents[i];
                if (!agent.Ready || agent.Closed) continue;
                var applied = Volatile.Read(ref agent.Applied);
                if (applied == agent.AppliedSent)
                {
                    _ = agent.SendAsync(ping);
                    continue;
                }
                withApplied ??= [];
                if (!withApplied.TryGetValue(applied, out var carrying)) withApplied[applied] = carrying = AgentProtocol.Encode(new PingFrame(seq, applied));
                agent.AppliedSent = applied;
                _ = agent.SendAsync(carrying);
            }
            slice = (slice + 1) % slices;
            // The next slice is due one step after this one started, not after it ended.
            wait = step - Stopwatch.GetElapsedTime(now);
            if (wait < TimeSpan.Zero) wait = TimeSpan.Zero;
        }
    }

    /// <summary>Arms a round: the next user event or query named <paramref name="name"/> is timed on every agent.</summary>
    public Task Arm(string name)
    {
        _arrivals = new long[_agents.Count];
        _arrived = 0;
        _all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _awaited, name);
        return _all.Task;
    }

    /// <summary>Stopwatch timestamps at which each agent got the armed event (0: not yet).</summary>
    public long[] Arrivals => _arrivals;

    public int Arrived => Volatile.Read(ref _arrived);

    internal void OnUserEvent(SimulatedAgent agent, UserEventFrame frame, long timestamp) => Record(agent, frame.Name, timestamp);

    internal void OnQuery(SimulatedAgent agent, QueryFrame frame, long timestamp) => Record(agent, frame.Name, timestamp);

    /// <summary>What <see cref="Arm"/> takes for a deploy round: the deploy's id is known only once the POST answers.</summary>
    public const string DeployRound = "\u0001deploy";

    internal void OnDeploy(SimulatedAgent agent, long timestamp) => Record(agent, DeployRound, timestamp);

    private void Record(SimulatedAgent agent, string name, long timestamp)
    {
        if (name != Volatile.Read(ref _awaited)) return;
        if (Interlocked.CompareExchange(ref _arrivals[agent.Index], timestamp, 0) != 0) return;
        if (Interlocked.Increment(ref _arrived) == _arrivals.Length) _all!.TrySetResult();
    }

    public int ClosedCount => _agents.Count(a => a.Closed);

    /// <summary>Agents whose socket closed before the armed event reached them.</summary>
    public int ClosedWithoutArrival
    {
        get
        {
            var n = 0;
            for (var i = 0; i < _agents.Count && i < _arrivals.Length; i++)
                if (_agents[i].Closed && Volatile.Read(ref _arrivals[i]) == 0) n++;
            return n;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _pings?.Join();
        var agents = _agents.ToArray();
        for (var i = 0; i < agents.Length; i += 256)
            await Task.WhenAll(agents.Skip(i).Take(256).Select(a => a.DisposeAsync().AsTask()));
    }
}
