using System.Text;
using System.Text.Json;
using Platform.Grains.Keys;
using Platform.Grains.Nodes;

namespace Platform.Grains.Deploys;

/// <summary>The rollout: lost and timed-out nodes, the threshold, the next nodes to start, and the end.</summary>
internal sealed partial class DeployGrain
{
    /// <summary>A running node without a result is sent its order (or the cancel) again after this long (the agent runs a deploy id once).</summary>
    internal static readonly TimeSpan ResendAfter = TimeSpan.FromSeconds(5);

    /// <summary>What a node gets past its timeout to report timed-out itself before the silo decides it.</summary>
    internal static readonly TimeSpan TimeoutGrace = TimeSpan.FromSeconds(10);

    private Task? _advancing;
    private bool _advanceAgain;

    /// <summary>
    /// One step of the rollout, on every reminder tick, report and cancel. Reports interleave (they are group-committed),
    /// so steps asked for while one runs are folded into one more step after it: one at a time, and a thousand results
    /// arriving together cost a few steps, not a thousand.
    /// </summary>
    private Task Advance()
    {
        if (_advancing is { } running)
        {
            _advanceAgain = true;
            return running;
        }
        var step = AdvanceWhileAsked();
        if (!step.IsCompleted) _advancing = step;
        return step;
    }

    private async Task AdvanceWhileAsked()
    {
        try
        {
            do
            {
                _advanceAgain = false;
                await AdvanceOnce();
            }
            while (_advanceAgain);
        }
        finally
        {
            _advancing = null;
        }
    }

    /// <summary>One step: lost and timed-out nodes, the threshold, the next nodes to start, the end. Writes the state when it changed.</summary>
    private async Task AdvanceOnce()
    {
        if (!Known || S.Status != DeployStatus.Running)
        {
            if (Known && !S.Notified) await Finish();
            // A stop still on its way to a node whose agent was away keeps the reminder, which resends it.
            if (!Known || !await ResendStops(DateTimeOffset.UtcNow, null)) await UnregisterReminder(Reminder);
            return;
        }
        var now = DateTimeOffset.UtcNow;
        var changed = false;
        var members = await MembersByName();
        var strategy = S.Spec.Strategy;

        // Running nodes: a node that failed or left while running is lost; one past its timeout is stopped.
        var resend = new List<string>();
        foreach (var (name, run) in S.Nodes)
        {
            if (run.Status != DeployNodeStatus.Running) continue;
            if (!members.TryGetValue(name, out var entry) || entry.Member.Status is not (NodeStatus.Alive or NodeStatus.Leaving))
            {
                End(name, run, DeployNodeStatus.Lost, $"node {(entry is null ? "removed" : entry.Member.Status)} while running", now);
                LogNodeLost(logger, Id, name, run.Status, run.Reason!);
                changed = true;
            }
            else if (now - run.Started > strategy.NodeTimeout + TimeoutGrace)
            {
                End(name, run, DeployNodeStatus.TimedOut, $"no result within node_timeout {strategy.NodeTimeout}", now);
                await SendOrder(name, members, cancel: true);
                changed = true;
            }
            else if (now - run.Sent > ResendAfter)
            {
                resend.Add(name);
            }
        }

        var failures = 0;
        var total = S.Nodes.Count;
        foreach (var run in S.Nodes.Values)
            if (DeployNodeStatus.IsFailure(run.Status)) failures++;
        var allowed = strategy.AllowedFailures(total);
        if (S.StopReason is null && failures > allowed)
        {
            S.StopReason = $"failure threshold exceeded: {failures} failed, timed-out or lost > {allowed} allowed (strategy.failure_threshold {strategy.FailureThreshold})";
            changed = true;
        }

        var start = new List<string>();
        if (S.StopReason is not null)
        {
            foreach (var (name, run) in S.Nodes)
            {
                if (run.Status != DeployNodeStatus.Pending) continue;
                End(name, run, DeployNodeStatus.Skipped, S.Cancelled ? "deploy cancelled" : "failure threshold exceeded", now);
                changed = true;
            }
        }
        else
        {
            changed |= StartNodes(now, members, start);
        }

        var active = false;
        foreach (var run in S.Nodes.Values) active |= !DeployNodeStatus.IsFinal(run.Status);
        if (!active)
        {
            S.Status = S.Cancelled ? DeployStatus.Cancelled : failures == 0 ? DeployStatus.Succeeded : DeployStatus.Failed;
            S.Finished = now;
            changed = true;
        }
        if (changed) await Save();
        // Sent after the write: a silo dying in between leaves the nodes running in storage, and the next activation resends.
        // All at once: a batch of thousands is not thousands of round trips one after another.
        await Task.WhenAll(start.Select(name => SendOrder(name, members, cancel: false)));
        // Once a cancel stops running nodes, what is resent is the cancel: a node that never got its deploy must not start it now.
        await Task.WhenAll(resend.Select(name => SendOrder(name, members, cancel: S.StopRunning)));
        var stopping = await ResendStops(now, members);
        if (!active)
        {
            LogFinished(logger, Id, S.Status, S.StopReason ?? "every node ran");
            Counters?.OnFinished(S.Status);
            await Finish();
            if (!stopping) await UnregisterReminder(Reminder);
        }
        else if (changed || S.Revision != _historyRevision)
        {
            // Node results stored since the last step change the history's counts too.
            await RecordHistory();
        }
    }

    /// <summary>
    /// Once a cancel stops running nodes: sends <c>deploy-cancel</c> again to each node that ran, has not reported, and was
    /// counted lost (its agent away when the cancel came, so it may still run the deploy when it comes back). Running ones
    /// are resent above. Past the node timeout the agent has stopped the run itself, so the resending ends there. True
    /// while any such stop is outstanding.
    /// </summary>
    private async Task<bool> ResendStops(DateTimeOffset now, Dictionary<string, MemberEntry>? members)
    {
        if (!S.StopRunning) return false;
        var outstanding = false;
        foreach (var (name, run) in S.Nodes)
        {
            if (run.Reported || run.Status != DeployNodeStatus.Lost || run.Started is not { } started) continue;
            if (now - started > S.Spec.Strategy.NodeTimeout + TimeoutGrace) continue;
            outstanding = true;
            if (now - run.Sent <= ResendAfter) continue;
            members ??= await MembersByName();
            await SendOrder(name, members, cancel: true);
        }
        return outstanding;
    }

    /// <summary>Moves through the batches and marks the nodes to start now as running; true when anything changed.</summary>
    private bool StartNodes(DateTimeOffset now, Dictionary<string, MemberEntry> members, List<string> start)
    {
        var changed = false;
        while (S.CurrentBatch < S.Batches.Count)
        {
            var batch = S.Batches[S.CurrentBatch];
            var running = 0;
            var pending = 0;
            foreach (var name in batch)
            {
                var status = S.Nodes[name].Status;
                if (status == DeployNodeStatus.Running) running++;
                else if (status == DeployNodeStatus.Pending) pending++;
            }
            if (running == 0 && pending == 0)
            {
                if (S.CurrentBatch + 1 >= S.Batches.Count) return changed;
                if (S.Spec.Strategy.Pause > TimeSpan.Zero)
                {
                    if (S.BatchEnded is null)
                    {
                        S.BatchEnded = now;
                        changed = true;
                    }
                    if (now - S.BatchEnded < S.Spec.Strategy.Pause) return changed;
                }
                S.CurrentBatch++;
                S.BatchEnded = null;
                changed = true;
                continue;
            }
            var limit = S.Spec.Strategy.MaxParallel > 0 ? S.Spec.Strategy.MaxParallel : batch.Count;
            foreach (var name in batch)
            {
                if (running >= limit) break;
                var run = S.Nodes[name];
                if (run.Status != DeployNodeStatus.Pending) continue;
                if (!members.TryGetValue(name, out var entry) || entry.Member.Status != NodeStatus.Alive)
                {
                    // Its turn came and it is gone: it cannot run, and it must not look like it did.
                    End(name, run, DeployNodeStatus.Lost, $"node {(entry is null ? "removed" : entry.Member.Status)} when its batch started", now);
                    changed = true;
                    continue;
                }
                run.Status = DeployNodeStatus.Running;
                run.Started = now;
                run.Sent = now;
                _nodesChanged.Add(name);
                start.Add(name);
                running++;
                changed = true;
            }
            return changed;
        }
        return changed;
    }

    /// <summary>The silo decides a node's outcome; a node that never started and is skipped stays out of its history.</summary>
    private void End(string name, DeployNodeRun run, string status, string reason, DateTimeOffset now)
    {
        if (status != DeployNodeStatus.Skipped) _nodesChanged.Add(name);
        Counters?.OnNodeEnded(status);
        run.Status = status;
        run.Reason = reason;
        run.Finished = now;
        if (run.Started is { } started) run.DurationMs = (long)(now - started).TotalMilliseconds;
    }

    private async Task<Dictionary<string, MemberEntry>> MembersByName()
    {
        var members = await Fleet.Members();
        var byName = new Dictionary<string, MemberEntry>(members.Count, StringComparer.Ordinal);
        foreach (var entry in members) byName[entry.Member.Name] = entry;
        return byName;
    }

    /// <summary>Sends the node its order (or a cancel) through the hub holding it; a failed send is retried by the resend rule.</summary>
    private async Task SendOrder(string name, Dictionary<string, MemberEntry> members, bool cancel)
    {
        if (!members.TryGetValue(name, out var entry)) return;
        var order = new DeployOrder(Id, cancel, S.Spec.ManifestUrl, S.Spec.Manifest, S.Spec.Strategy.NodeTimeout, S.Spec.Stretch);
        try
        {
            await Fleet.SendDeployOrder(entry.Hub, name, order);
            if (S.Nodes.TryGetValue(name, out var run) && (cancel || run.Status == DeployNodeStatus.Running)) run.Sent = DateTimeOffset.UtcNow;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogNodeLost(logger, Id, name, "not reached", e.Message);
        }
    }

    /// <summary>Records the end in the history, then sets the notification key and fires the user event the request asked for.</summary>
    private async Task Finish()
    {
        await RecordHistory();
        if (S.Notified) return;
        if (S.Spec.OnFinish is { } notify)
        {
            var payload = JsonSerializer.Serialize(new FinishNotice(Id, S.Status));
            try
            {
                if (notify.Key is { } key)
                    await GrainFactory.GetGrain<IKeyspaceGrain>("default").Execute(new KeyRequest { Op = KeyOp.Set, Key = key, Value = payload });
                if (notify.Event is { } name)
                    await Fleet.FireEvent(name, Encoding.UTF8.GetBytes(payload), false, null, null);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LogNotifyFailed(logger, e, Id);
            }
        }
        S.Notified = true;
        await Save();
    }

    private sealed record FinishNotice(string id, string status);
}
