namespace Platform.Runtime.Membership;

/// <summary>
/// Failure detection: each active silo probes the next <see cref="MembershipOptions.ProbedSilos"/> active silos on the
/// ring, suspects a silo after <see cref="MembershipOptions.MissedProbesLimit"/> misses or a stale I-am-alive, and
/// declares it Dead once enough fresh suspicions agree.
/// </summary>
public sealed partial class MembershipService
{
    // Touched only by the probe loop, one round at a time.
    private readonly Dictionary<SiloAddress, int> _missedProbes = [];

    private async Task ProbeRoundAsync(CancellationToken cancellationToken)
    {
        var view = CurrentView;

        // Only an active silo watches others: a joining one may not reach them yet, a leaving one no longer cares.
        if (view.StatusOf(Self) != SiloStatus.Active)
        {
            _missedProbes.Clear();
            return;
        }

        var targets = ProbeTargets(view.ActiveSilos);
        foreach (var silo in _missedProbes.Keys.ToArray())
        {
            if (!targets.Contains(silo))
            {
                _missedProbes.Remove(silo);
            }
        }

        var answers = await Task.WhenAll(targets.Select(t => ProbeAsync(t, cancellationToken))).ConfigureAwait(false);
        var suspects = new List<(SiloAddress Silo, string Reason, bool Stale)>();
        for (var i = 0; i < targets.Count; i++)
        {
            var target = targets[i];
            if (answers[i] == ProbeOutcome.Answered)
            {
                _missedProbes[target] = 0;
                continue;
            }

            if (answers[i] == ProbeOutcome.NoVerdict)
            {
                continue;
            }

            var missed = _missedProbes[target] = _missedProbes.GetValueOrDefault(target) + 1;
            LogProbeMissed(target, missed);
            if (missed >= _options.MissedProbesLimit)
            {
                suspects.Add((target, $"{missed} probes missed in a row", false));
            }
        }

        var now = _time.GetUtcNow();
        var tableWorkedFor = now - new DateTimeOffset(Volatile.Read(ref _lastTableFailureTicks), TimeSpan.Zero);
        foreach (var member in view.Members)
        {
            if (tableWorkedFor > _options.IAmAliveStaleAfter && member.Silo != Self && member.Status is SiloStatus.Joining or SiloStatus.Active or SiloStatus.ShuttingDown
                && now - member.IAmAliveTime > _options.IAmAliveStaleAfter && !suspects.Exists(s => s.Silo == member.Silo))
            {
                suspects.Add((member.Silo, $"no I-am-alive since {member.IAmAliveTime:O}", true));
            }
        }

        foreach (var (silo, reason, stale) in suspects)
        {
            await VoteAsync(silo, reason, stale, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The next few active silos after this one on the ring of active silos (in address order).</summary>
    private List<SiloAddress> ProbeTargets(IReadOnlyList<SiloAddress> active)
    {
        var targets = new List<SiloAddress>();
        var self = -1;
        for (var i = 0; i < active.Count; i++)
        {
            if (active[i] == Self)
            {
                self = i;
                break;
            }
        }

        if (self < 0)
        {
            return targets;
        }

        var count = Math.Min(_options.ProbedSilos, active.Count - 1);
        for (var k = 1; k <= count; k++)
        {
            targets.Add(active[(self + k) % active.Count]);
        }

        return targets;
    }

    /// <summary>
    /// One probe; an error or an answer later than the timeout counts as a miss. A probe whose timeout fired more than
    /// half a timeout late gives no verdict: this silo was stalled itself (CPU starvation, a long GC pause), so the
    /// missing answer says nothing about the target, whose answer may be sitting unread in this silo's socket.
    /// </summary>
    private async Task<ProbeOutcome> ProbeAsync(SiloAddress target, CancellationToken cancellationToken)
    {
        var timeout = _options.ProbeTimeout;
        var sent = _time.GetTimestamp();
        using var expiry = new CancellationTokenSource(timeout, _time);
        using var probing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, expiry.Token);
        try
        {
            // WaitAsync bounds a prober that ignores its timeout, so one hung probe never stalls the round.
            if (await _prober.ProbeAsync(target, timeout, probing.Token).WaitAsync(timeout, _time, cancellationToken).ConfigureAwait(false))
            {
                return ProbeOutcome.Answered;
            }
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            LogProbeFailed(target, e.Message);
        }

        var took = _time.GetElapsedTime(sent);
        if (took > timeout + timeout / 2)
        {
            LogProbeNoVerdict(target, (long)took.TotalMilliseconds, (long)timeout.TotalMilliseconds);
            return ProbeOutcome.NoVerdict;
        }

        return ProbeOutcome.Missed;
    }

    private enum ProbeOutcome
    {
        Answered,
        Missed,
        NoVerdict,
    }

    /// <summary>
    /// Adds this silo's fresh suspicion to <paramref name="suspect"/>'s row, or writes it Dead when the fresh votes
    /// (this one included) reach the number needed. Decided on a fresh read, so a stale view never kills anyone.
    /// </summary>
    private async Task VoteAsync(SiloAddress suspect, string reason, bool stale, CancellationToken cancellationToken, bool onlyIfActive = false)
    {
        var votes = 0;
        var needed = 0;
        var written = await WriteAsync($"suspecting {suspect}", snapshot =>
        {
            if (Find(snapshot, Self) is not { Entry.Status: SiloStatus.Active } || Find(snapshot, suspect) is not { } row || row.Entry.Status == SiloStatus.Dead)
            {
                return null;
            }

            if (onlyIfActive && row.Entry.Status != SiloStatus.Active)
            {
                return null;
            }

            var now = _time.GetUtcNow();
            if (stale && now - row.Entry.IAmAliveTime <= _options.IAmAliveStaleAfter)
            {
                return null;
            }

            // Keep each other suspecter's latest fresh vote, then add ours, now.
            var fresh = new Dictionary<SiloAddress, SuspectVote>();
            foreach (var vote in row.Entry.Suspicions)
            {
                if (vote.Suspecter != Self && now - vote.Time <= _options.DeathVoteExpiration
                    && (!fresh.TryGetValue(vote.Suspecter, out var seen) || seen.Time < vote.Time))
                {
                    fresh[vote.Suspecter] = vote;
                }
            }

            List<SuspectVote> suspicions = [.. fresh.Values.OrderBy(v => v.Time), new SuspectVote(Self, now)];
            var activeOthers = snapshot.Rows.Count(r => r.Entry.Status == SiloStatus.Active && r.Entry.Silo != suspect);
            votes = suspicions.Count;
            needed = Math.Max(1, Math.Min(_options.VotesForDeathDeclaration, activeOthers));
            if (votes >= needed)
            {
                return new TableWrite(row.Entry with { Status = SiloStatus.Dead, Suspicions = suspicions }, row.ETag);
            }

            // Our vote is already on the row and still counts for a while: rewriting it would bump the version for nothing.
            var ours = row.Entry.Suspicions.Where(v => v.Suspecter == Self).Select(v => v.Time).DefaultIfEmpty(DateTimeOffset.MinValue).Max();
            if (now - ours < _options.DeathVoteExpiration / 2)
            {
                return null;
            }

            return new TableWrite(row.Entry with { Suspicions = suspicions }, row.ETag);
        }, cancellationToken).ConfigureAwait(false);

        if (written is null)
        {
            return;
        }

        if (written.Status == SiloStatus.Dead)
        {
            LogDeclaredSiloDead(suspect, reason, votes, CurrentView.Version);
        }
        else
        {
            LogSuspected(suspect, reason, votes, needed, CurrentView.Version);
        }
    }
}
