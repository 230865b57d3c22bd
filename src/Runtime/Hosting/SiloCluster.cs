using Microsoft.Extensions.Logging;
using Platform.Runtime.Catalog;
using Platform.Runtime.Membership;
using Platform.Runtime.Messaging;
using Platform.Runtime.Placement;
using Platform.Runtime.Transport;

namespace Platform.Runtime.Hosting;

/// <summary>The silo could not start; the message says which part and why.</summary>
public sealed class SiloStartupException(string message, Exception inner) : Exception(message, inner);

/// <summary>
/// The cluster side of a silo: its transport, message center, membership and placement, and
/// the reactions to a new view (grains this silo no longer owns deactivate and reactivate on
/// their new owner from storage).
/// </summary>
public sealed partial class SiloCluster
{
    private readonly GrainRuntime _runtime;
    private readonly ILogger<SiloCluster> _logger;
    private readonly ClusterOptions _options;
    private readonly Func<ISiloProber, MembershipService> _createMembership;

    internal SiloCluster(GrainRuntime runtime, ISiloTransport transport, Func<ISiloProber, MembershipService> membership, ClusterOptions options, ILoggerFactory loggers)
    {
        _runtime = runtime;
        _options = options;
        _logger = loggers.CreateLogger<SiloCluster>();
        Transport = transport;
        Messages = new MessageCenter(runtime, transport, loggers.CreateLogger<MessageCenter>());
        _createMembership = membership;
    }

    public SiloAddress Self => Transport.LocalAddress;
    public ISiloTransport Transport { get; }
    /// <summary>This silo's membership; exists once <see cref="StartAsync"/> bound the transport (the address is known only then).</summary>
    public MembershipService Membership { get; private set; } = null!;
    internal MessageCenter Messages { get; }
    internal RendezvousPlacement Placement { get; private set; } = null!;

    /// <summary>Raised after this silo applied a new view (placement updated, moved grains told to leave).</summary>
    public event Action<ClusterView>? ViewApplied;

    private void OnViewChanged(ClusterView view)
    {
        Placement.Update(view);
        var moved = 0;
        foreach (var activation in _runtime.Catalog.Snapshot())
        {
            if (activation.Class is null || activation.Class.StatelessWorkerMax > 0) continue;
            if (Placement.OwnerOf(activation.GrainId) == Self) continue;
            activation.RequestDeactivation(DeactivationReason.PlacementChanged);
            moved++;
        }
        LogViewApplied(view.Version, view.ActiveSilos.Count, moved);
        foreach (var m in view.Members)
            if (m.Status == SiloStatus.Dead) Transport.Disconnect(m.Silo);
        ViewApplied?.Invoke(view);
    }

    /// <summary>Peers would see the change at their next refresh; telling them shrinks the window in which views disagree.</summary>
    private void OnTableWritten()
    {
        foreach (var m in Membership.CurrentView.Members)
            if (m.Silo != Self && m.Status is SiloStatus.Joining or SiloStatus.Active or SiloStatus.ShuttingDown)
                Messages.SendTableChanged(m.Silo);
    }

    private int _refreshQueued;

    internal void OnPeerChangedTable()
    {
        // Coalesce a burst of notices into one read.
        if (Interlocked.Exchange(ref _refreshQueued, 1) != 0) return;
        _ = Task.Run(async () =>
        {
            Volatile.Write(ref _refreshQueued, 0);
            try
            {
                await Membership.RefreshNowAsync().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                LogRefreshFailed(e);
            }
        });
    }

    private void OnDeclaredDead()
    {
        LogDeclaredDead(Self.ToString());
        if (_options.OnDeclaredDead is { } handler) handler();
        else Environment.Exit(3);
    }

    /// <summary>Before a grain activates here, the silo that owned it under the previous view lets go of its activation.</summary>
    internal async Task HandOffAsync(GrainId grain)
    {
        var previous = Placement.PreviousOwnerOf(grain);
        if (previous is not { } owner || owner == Self) return;
        var status = Membership.CurrentView.StatusOf(owner);
        if (status is not (SiloStatus.Active or SiloStatus.ShuttingDown)) return;
        if (!await Messages.ReleaseAsync(owner, grain, _options.HandOffTimeout).ConfigureAwait(false))
            LogHandOffUnconfirmed(grain.ToString(), owner.ToString(), _options.HandOffTimeout);
    }

    internal async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Transport.StartAsync(Messages, cancellationToken).ConfigureAwait(false);
        }
        catch (SiloTlsException e)
        {
            throw new SiloStartupException($"silo-to-silo TLS: {e.Message}", e);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new SiloStartupException($"silo-to-silo port: {e.Message}", e);
        }
        Placement = new RendezvousPlacement(Transport.LocalAddress);
        Membership = _createMembership(Messages);
        Membership.ViewChanged += OnViewChanged;
        Membership.SelfDeclaredDead += OnDeclaredDead;
        Membership.TableWritten += OnTableWritten;
        Messages.PeerLost += Membership.OnPeerConnectionLost;
        try
        {
            await Membership.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new SiloStartupException($"membership table: {e.Message}", e);
        }
    }

    internal async Task BecomeActiveAsync()
    {
        await CheckPeersAcceptAsync().ConfigureAwait(false);
        await Membership.BecomeActiveAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Before taking grains, this silo pings every active silo. If one refuses it (its certificate is not of the
    /// cluster's CA, it speaks plain TCP to TLS silos, or the other way round), it never becomes Active: it writes
    /// its row Dead and the start fails saying why, so a misconfigured silo cannot take a share of the grains that
    /// no peer can reach. A peer that merely does not answer (just died) is left to failure detection.
    /// </summary>
    private async Task CheckPeersAcceptAsync()
    {
        var peers = new List<SiloAddress>();
        foreach (var silo in Membership.CurrentView.ActiveSilos)
            if (silo != Self) peers.Add(silo);
        if (peers.Count == 0) return;
        var timeout = 2 * Membership.Options.ProbeTimeout + TimeSpan.FromSeconds(3);
        var answers = await Task.WhenAll(peers.Select(p => Messages.PingAsync(p, timeout))).ConfigureAwait(false);
        var refusals = new List<string>();
        for (var i = 0; i < peers.Count; i++)
            if (answers[i] is SiloUnavailableException { Refused: true } refused) refusals.Add(refused.Message);
        if (refusals.Count == 0) return;

        var why = string.Join("; ", refusals);
        LogRefusedByCluster(Self.ToString(), why);
        await Membership.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await Transport.DisposeAsync().ConfigureAwait(false);
        throw new SiloStartupException($"silo-to-silo connections were refused, so this silo does not join the cluster: {why}", new InvalidOperationException(why));
    }

    private long _shutDownAt;
    private Task<bool> _leaveConfirmed = Task.FromResult(false);

    internal async Task ShutDownAsync(CancellationToken cancellationToken)
    {
        await Membership.ShutDownAsync(cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _shutDownAt, Environment.TickCount64);
        // While grains deactivate, each peer reads the table and confirms: from then on it routes nothing new here.
        _leaveConfirmed = ConfirmLeaveAsync();
    }

    private async Task<bool> ConfirmLeaveAsync()
    {
        var peers = new List<SiloAddress>();
        foreach (var m in Membership.CurrentView.Members)
            if (m.Silo != Self && m.Status is SiloStatus.Joining or SiloStatus.Active or SiloStatus.ShuttingDown) peers.Add(m.Silo);
        var answers = await Task.WhenAll(peers.Select(p => Messages.LeavingAsync(p, _options.DrainTimeout))).ConfigureAwait(false);
        var unconfirmed = peers.Where((_, i) => !answers[i]).Select(p => p.ToString()).ToList();
        if (unconfirmed.Count > 0) LogLeaveUnconfirmed(string.Join(", ", unconfirmed));
        return unconfirmed.Count == 0;
    }

    internal async Task StopAsync(CancellationToken cancellationToken)
    {
        // Connections close once every peer confirmed it routes nothing new here (or, for a peer that did not
        // answer, had two table refreshes to see the leave), every call in either direction was answered, and
        // every response was handed to the kernel: a FIN then follows the last of them.
        var deadline = Environment.TickCount64 + (long)_options.DrainTimeout.TotalMilliseconds;
        bool confirmed;
        try
        {
            confirmed = await _leaveConfirmed.WaitAsync(_options.DrainTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            confirmed = false;
        }
        var refresh = (long)Membership.Options.TableRefreshInterval.TotalMilliseconds;
        var quietUntil = confirmed ? 0 : Volatile.Read(ref _shutDownAt) + 2 * refresh + 100;
        while (Environment.TickCount64 < deadline
               && (Environment.TickCount64 < quietUntil || Messages.PendingCount > 0 || Messages.InboundCount > 0 || Transport.HasUnsentFrames))
            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        await Membership.StopAsync(cancellationToken).ConfigureAwait(false);
        await Transport.DisposeAsync().ConfigureAwait(false);
    }

    [LoggerMessage(EventId = 1401, Level = LogLevel.Information, Message = "View {Version}: {Active} active silos; {Moved} activations leave this silo")]
    private partial void LogViewApplied(int version, int active, int moved);

    [LoggerMessage(EventId = 1402, Level = LogLevel.Critical, Message = "Silo {Silo} was declared Dead by the cluster; stopping at once")]
    private partial void LogDeclaredDead(string silo);

    [LoggerMessage(EventId = 1405, Level = LogLevel.Critical, Message = "Silo {Silo} does not join the cluster: {Reason}")]
    private partial void LogRefusedByCluster(string silo, string reason);

    [LoggerMessage(EventId = 1406, Level = LogLevel.Warning, Message = "Leaving: {Peers} did not confirm reading the table in time; waiting for their next refresh instead")]
    private partial void LogLeaveUnconfirmed(string peers);

    [LoggerMessage(EventId = 1404, Level = LogLevel.Warning, Message = "Reading the membership table after a peer's notice failed; the next refresh tries again")]
    private partial void LogRefreshFailed(Exception e);

    // The activation that asked may have ended meanwhile (told to leave while it waited): say what happens, not that it activates.
    [LoggerMessage(EventId = 1403, Level = LogLevel.Warning, Message = "Previous owner {Owner} did not confirm releasing {GrainId} within {Timeout}; an activation still waiting for it goes ahead (storage ETags guard the state)")]
    private partial void LogHandOffUnconfirmed(string grainId, string owner, TimeSpan timeout);
}
