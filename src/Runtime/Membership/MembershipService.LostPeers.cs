using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Threading.Channels;

namespace Platform.Runtime.Membership;

/// <summary>
/// The fast path of failure detection. A peer whose connection broke is dialed again at once; when its host refuses the
/// dial, nothing listens on the peer's port any more (its process is gone: killed, crashed, OOM-killed), so this silo
/// votes it dead then, instead of after <see cref="MembershipOptions.MissedProbesLimit"/> probe rounds. A dial that
/// connects, or times out (a host down or a partition), says nothing certain and is left to the probe rounds.
/// </summary>
public sealed partial class MembershipService
{
    private readonly Channel<SiloAddress> _lostPeers = Channel.CreateUnbounded<SiloAddress>(new() { SingleReader = true });
    private readonly ConcurrentDictionary<SiloAddress, bool> _lostQueued = new();
    private long _lostPeersChecked;

    /// <summary>Lost peers checked so far (whatever the verdict): tests wait for a check instead of sleeping.</summary>
    internal long LostPeersChecked => Interlocked.Read(ref _lostPeersChecked);

    /// <summary>A connection to or from <paramref name="peer"/> broke: check at once whether its process is still there.</summary>
    public void OnPeerConnectionLost(SiloAddress peer)
    {
        // Only an Active peer: one that is leaving closes its connections on purpose and writes its own row.
        if (peer == Self || _leaving || CurrentView.StatusOf(peer) != SiloStatus.Active || !_lostQueued.TryAdd(peer, true)) return;
        _lostPeers.Writer.TryWrite(peer);
    }

    private Task RunLostPeersLoopAsync(CancellationToken stopping) =>
        Task.Run(async () =>
        {
            try
            {
                await foreach (var peer in _lostPeers.Reader.ReadAllAsync(stopping).ConfigureAwait(false))
                {
                    _lostQueued.TryRemove(peer, out _);
                    try
                    {
                        await CheckLostPeerAsync(peer, stopping).ConfigureAwait(false);
                    }
                    catch (Exception e) when (!stopping.IsCancellationRequested)
                    {
                        // The table unreachable, most often: the probe rounds still judge the peer.
                        LogLostPeerCheckFailed(peer, e.Message);
                    }
                    finally
                    {
                        Interlocked.Increment(ref _lostPeersChecked);
                    }
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
            }
        }, CancellationToken.None);

    private async Task CheckLostPeerAsync(SiloAddress peer, CancellationToken stopping)
    {
        var view = CurrentView;
        if (view.StatusOf(Self) != SiloStatus.Active || view.StatusOf(peer) != SiloStatus.Active) return;
        var failure = await _prober.DialAsync(peer, _options.ProbeTimeout, stopping).ConfigureAwait(false);
        if (!IsRefused(failure)) return;
        await VoteAsync(peer, $"its connection broke and its port refused a new one ({failure!.Message})", stale: false, stopping, onlyIfActive: true).ConfigureAwait(false);
    }

    /// <summary>True when the host answered the dial with a reset: no process listens on the port.</summary>
    internal static bool IsRefused(Exception? failure)
    {
        for (var e = failure; e is not null; e = e.InnerException)
            if (e is SocketException { SocketErrorCode: SocketError.ConnectionRefused }) return true;
        return false;
    }
}
