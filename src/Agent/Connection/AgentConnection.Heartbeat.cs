using System.Net.WebSockets;
using Platform.Protocol;

namespace Platform.Agent.Connection;

/// <summary>Pings on a connection, and the silence after which the silo is taken as gone.</summary>
public sealed partial class AgentConnection
{
    /// <summary>
    /// How long the silo may stay silent: <see cref="AgentConnectionOptions.MissedHeartbeats"/> intervals, plus the quiet
    /// the silo waits for before it answers a ping (its welcome's <c>pong_after_ms</c>; a silo that speaks to this agent
    /// for other reasons sends no pong at all).
    /// </summary>
    internal TimeSpan SilentLimit(TimeSpan interval, int pongAfterMs) =>
        interval * _options.MissedHeartbeats + TimeSpan.FromMilliseconds(Math.Max(0, pongAfterMs));

    private async Task HeartbeatAsync(ClientWebSocket socket, TimeSpan interval, TimeSpan silentLimit, Liveness watch, CancellationToken cancellationToken)
    {
        long sequence = 0;
        ulong appliedSent = 0;
        try
        {
            while (true)
            {
                var ticked = _time.GetTimestamp();
                await Task.Delay(interval, _time, cancellationToken).ConfigureAwait(false);
                // A tick that comes late means this process did not run (starved of CPU, paused, its pool behind): the
                // silo heard no ping and its answers may sit unread here, so that silence is this agent's, not the silo's.
                var late = _time.GetElapsedTime(ticked) - interval;
                if (late > TimeSpan.Zero) watch.Excuse(late);
                var silent = watch.Silent;
                if (silent > silentLimit)
                {
                    watch.DeadReason = $"the silo was silent for {silent.TotalMilliseconds:0} ms (limit {silentLimit.TotalMilliseconds:0} ms: {_options.MissedHeartbeats} heartbeat intervals and the silo's pong delay)";
                    await SayReconnectingAsync(socket, interval).ConfigureAwait(false);
                    socket.Abort();
                    return;
                }
                // The applied mark rides on the ping when it moved: one frame per interval, not one per event handled.
                var applied = Interlocked.Read(ref _applied);
                if (await SendOnAsync(socket, AgentProtocol.Encode(new PingFrame(++sequence, applied != appliedSent ? applied : 0)), cancellationToken).ConfigureAwait(false))
                    appliedSent = applied;
            }
        }
        catch (OperationCanceledException)
        {
            // The session ended.
        }
    }

    /// <summary>
    /// Tells a silent silo that this agent is reconnecting (<see cref="AgentProtocol.SiloSilentCloseStatus"/>), so that a
    /// silo that was only slow does not fail the node; bounded, since a silo that reads nothing may never take it.
    /// </summary>
    private async Task SayReconnectingAsync(ClientWebSocket socket, TimeSpan bound)
    {
        using var limit = new CancellationTokenSource(bound);
        try
        {
            if (!await _sendLock.WaitAsync(bound).ConfigureAwait(false)) return;
            try
            {
                await socket.CloseOutputAsync((WebSocketCloseStatus)AgentProtocol.SiloSilentCloseStatus, "the silo was silent; reconnecting", limit.Token).ConfigureAwait(false);
            }
            finally
            {
                _sendLock.Release();
            }
        }
        catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The silo is gone or its socket is full: it hears nothing, and fails the node as it would anyway.
        }
    }

    /// <summary>
    /// When the silo was last heard from, shared by the receive and heartbeat loops: how long it has been silent,
    /// counting only time this agent ran on schedule (as Lifeguard's local health keeps a slow member from judging
    /// others). A stall of this process is excused until the silo is next heard.
    /// </summary>
    private sealed class Liveness(TimeProvider time)
    {
        private readonly Lock _lock = new();
        private long _heard = time.GetTimestamp();
        private TimeSpan _excused;

        public string? DeadReason { get; set; }

        public TimeSpan Silent
        {
            get
            {
                lock (_lock) return time.GetElapsedTime(_heard) - _excused;
            }
        }

        public void Heard()
        {
            lock (_lock)
            {
                _heard = time.GetTimestamp();
                _excused = TimeSpan.Zero;
            }
        }

        /// <summary>This process ran <paramref name="late"/> behind schedule: that much of the silence is not the silo's.</summary>
        public void Excuse(TimeSpan late)
        {
            // Never more than the silence itself: lateness from before the silo was last heard is no longer owed.
            lock (_lock) _excused = TimeSpan.FromTicks(Math.Min((_excused + late).Ticks, time.GetElapsedTime(_heard).Ticks));
        }
    }
}
