using Microsoft.Extensions.Logging;
using Platform.Grains.Builds;
using Platform.Grains.Nodes;
using Platform.Runtime;
using Platform.Runtime.Observers;
using Platform.Runtime.Storage;

namespace Platform.Grains.Deploys;

/// <summary>
/// One deploy: plans the batches at start, then starts nodes batch by batch through the hub holding each node's
/// connection, and records every node's outcome. Its reminder ticks every second while it runs, so a deploy whose
/// silo died is reactivated from storage elsewhere and goes on (docs/deploys.md, "Cluster deploys").
/// </summary>
[GrainType("deploy")]
internal sealed partial class DeployGrain([PersistentState("deploy")] IPersistentState<DeployState> state, ILogger<DeployGrain> logger)
    : Grain, IDeployGrain, IRemindable
{
    /// <summary>The reminder that drives a running deploy.</summary>
    internal const string Reminder = "rollout";

    /// <summary>The silos following this deploy (in memory: a follower renews, so a new activation learns them again).</summary>
    private readonly ObserverManager<IDeployObserver> _followers = new(DeployFollow.Expiry);

    private string Id => GetPrimaryKeyString();

    private DeployState S => state.State;

    private bool Known => state.RecordExists && S.Status.Length != 0;

    /// <summary>This silo's deploy counters; none when the host registers none (unit tests).</summary>
    private DeployCounters? Counters => ServiceProvider.GetService(typeof(DeployCounters)) as DeployCounters;

    private IFleetGrain Fleet => GrainFactory.GetGrain<IFleetGrain>(FleetGrain.DefaultKey);

    private GroupCommit? _commits;
    private long _historyRevision = -1;

    /// <summary>Every write of the state goes through here: node reports that arrive together share one write.</summary>
    private GroupCommit Commits => _commits ??= new GroupCommit(async () =>
    {
        // The view as it is written: followers hear each durable state once, never one a crash could still undo.
        var view = _followers.Count != 0 ? View() : null;
        var nodes = NodeEntries();
        await state.WriteStateAsync();
        Counters?.OnStateWritten();
        if (view is not null) _followers.Notify(f => f.DeployChanged(view));
        foreach (var (name, entry) in nodes) GrainFactory.GetGrain<INodeHistoryGrain>(name).RecordDeploy(entry).Ignore(logger);
    });

    /// <summary>Nodes that started or ended since the last write: their histories are told once it is durable.</summary>
    private readonly HashSet<string> _nodesChanged = new(StringComparer.Ordinal);

    private List<(string Name, NodeDeployEntry Entry)> NodeEntries()
    {
        if (_nodesChanged.Count == 0) return [];
        var target = S.Spec.Target.Describe();
        var entries = new List<(string, NodeDeployEntry)>(_nodesChanged.Count);
        foreach (var name in _nodesChanged)
        {
            if (!S.Nodes.TryGetValue(name, out var r)) continue;
            entries.Add((name, new NodeDeployEntry(Id, target, r.Status, r.Batch + 1, r.ExitCode, r.DurationMs, r.Started, r.Finished, r.Reason)));
        }
        _nodesChanged.Clear();
        return entries;
    }

    public async Task<DeployStartResult> Start(DeploySpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (Known) return new DeployStartResult(null, $"deploy '{Id}' exists already", 409);
        if (Validate(spec) is { } invalid) return new DeployStartResult(null, invalid);
        var (nodes, error) = DeployTargets.Resolve(spec.Target, await Fleet.Members());
        if (error is not null) return new DeployStartResult(null, error);

        S.Spec = spec;
        S.Status = DeployStatus.Running;
        S.Created = DateTimeOffset.UtcNow;
        S.Batches = DeployPlanner.Plan(nodes!, spec.Strategy);
        for (var b = 0; b < S.Batches.Count; b++)
            foreach (var name in S.Batches[b]) S.Nodes[name] = new DeployNodeRun { Batch = b };
        await Save();
        // The reminder is stored before anything is sent: from here on a dead silo does not stop the rollout.
        await RegisterOrUpdateReminder(Reminder, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        await RecordHistory();
        LogStarted(logger, Id, nodes!.Count, S.Batches.Count, spec.Target.Describe());
        Counters?.OnStarted();
        await Advance();
        return new DeployStartResult(View(), null);
    }

    /// <summary>Why <paramref name="spec"/> cannot run, naming the field; null when it can.</summary>
    internal static string? Validate(DeploySpec spec)
    {
        var hasUrl = !string.IsNullOrWhiteSpace(spec.ManifestUrl);
        var hasText = !string.IsNullOrWhiteSpace(spec.Manifest);
        if (hasUrl == hasText) return "manifest_url, manifest: expected exactly one of them (a manifest URL, or the manifest's YAML inline)";
        if (hasUrl && (!Uri.TryCreate(spec.ManifestUrl, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https" or "file" or "s3")))
            return $"manifest_url: '{spec.ManifestUrl}' is not an http, https, file or s3 URL";
        if (spec.OnFinish is { Key: { } key } && !key.StartsWith('/')) return $"on_finish.key: '{key}' is not a key path; expected one starting with /";
        return spec.Strategy.Validate();
    }

    public Task<DeployView?> Get() => Task.FromResult(Known ? View() : null);

    public async Task<DeployView?> Cancel(bool stop)
    {
        if (!Known) return null;
        if (S.Status != DeployStatus.Running) return View();
        if (!S.Cancelled)
        {
            S.Cancelled = true;
            S.StopReason = stop ? "cancelled; running nodes stopped" : "cancelled; running nodes left to finish";
            LogCancelled(logger, Id, stop);
        }
        if (stop)
        {
            // Stored first: a node that does not answer (its agent away, this silo dying) is sent the cancel again until it reports.
            S.StopRunning = true;
            await Save();
            var members = await MembersByName();
            foreach (var (name, run) in S.Nodes)
                if (run.Status == DeployNodeStatus.Running) await SendOrder(name, members, cancel: true);
        }
        await Save();
        await Advance();
        return View();
    }

    public async Task<bool> Report(DeployNodeReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (!Known || !S.Nodes.TryGetValue(report.Node, out var run)) return true;
        // Idempotent by (deploy, node): a resent result, or one for a node already counted lost or timed out, changes nothing
        // but this: the node answered, so a stop is no longer sent to it.
        if (run.Status != DeployNodeStatus.Running)
        {
            if (!run.Reported)
            {
                run.Reported = true;
                await Save();
                EndLog(report.Node);
            }
            else
            {
                // The first report of this result may still be on its way to storage: no ack before it is there.
                await Commits.DurableAsync();
            }
            return true;
        }
        run.Reported = true;
        run.Status = report.Status is DeployNodeStatus.Succeeded or DeployNodeStatus.TimedOut ? report.Status : DeployNodeStatus.Failed;
        run.ExitCode = report.ExitCode;
        run.DurationMs = report.DurationMs;
        run.Finished = DateTimeOffset.UtcNow;
        run.OutputTail = report.OutputTail;
        if (S.StopRunning && report.Status == DeployNodeStatus.Failed) run.Reason = "stopped by cancel";
        _nodesChanged.Add(report.Node);
        await Save();
        Counters?.OnNodeEnded(run.Status);
        // The agent sends its result once every chunk of its output is stored: the log is complete.
        EndLog(report.Node);
        // The step records the history too, so its counts follow the node ends (once per step, not per result).
        await Advance();
        return true;
    }

    public Task<DeployView?> Follow(IDeployObserver observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        if (!Known) return Task.FromResult<DeployView?>(null);
        _followers.Subscribe(observer);
        return Task.FromResult<DeployView?>(View());
    }

    /// <summary>Writes the state, then tells the followers (the view they get is durable).</summary>
    /// <summary>Stores a change (group-committed with any made meanwhile); followers hear of it once it is durable.</summary>
    private Task Save()
    {
        S.Revision++;
        return Commits.CommitAsync();
    }

    public Task<bool> Includes(string node) => Task.FromResult(Known && S.Nodes.ContainsKey(node));

    public Task ReceiveReminder(string reminderName, TickStatus status) => Advance();

    /// <summary>
    /// Marks node <paramref name="node"/>'s output ended, so followers stop: when its agent reports, which it does only once
    /// every chunk is stored. A node the silo decided (lost, timed out) keeps taking output, which its agent may still send
    /// when it comes back; a follower stops at the node's end anyway. A failed call only leaves followers to notice that.
    /// </summary>
    private void EndLog(string node) => GrainFactory.GetGrain<IJobLogGrain>(DeployLogKeys.Log(Id, node)).End().Ignore(logger);

    private DeployView View()
    {
        var nodes = new List<DeployNodeView>(S.Nodes.Count);
        foreach (var batch in S.Batches)
        {
            foreach (var name in batch)
            {
                var r = S.Nodes[name];
                nodes.Add(new DeployNodeView(name, r.Batch + 1, r.Status, r.ExitCode, r.DurationMs, r.Started, r.Finished, r.Reason, r.OutputTail));
            }
        }
        return new DeployView(Id, S.Status, S.Spec, S.Spec.Target.Describe(), S.Created, S.Finished, Math.Min(S.CurrentBatch + 1, S.Batches.Count), S.Batches.Count, S.StopReason, nodes)
        {
            Revision = S.Revision,
        };
    }

    private Task RecordHistory()
    {
        _historyRevision = S.Revision;
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var run in S.Nodes.Values) counts[run.Status] = counts.GetValueOrDefault(run.Status) + 1;
        return DeployHistory.Record(GrainFactory, new DeploySummary(Id, S.Spec.Target.Describe(), S.Status, S.Created, S.Finished, counts) { Revision = S.Revision });
    }

    [LoggerMessage(EventId = 2101, Level = LogLevel.Information, Message = "deploy {Id}: started on {Nodes} nodes in {Batches} batches (target {Target})")]
    private static partial void LogStarted(ILogger logger, string id, int nodes, int batches, string target);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Information, Message = "deploy {Id}: cancelled (stop running nodes: {Stop})")]
    private static partial void LogCancelled(ILogger logger, string id, bool stop);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Information, Message = "deploy {Id}: ended {Status} ({Reason})")]
    private static partial void LogFinished(ILogger logger, string id, string status, string reason);

    [LoggerMessage(EventId = 2104, Level = LogLevel.Warning, Message = "deploy {Id}: node {Node} is {Status}: {Reason}")]
    private static partial void LogNodeLost(ILogger logger, string id, string node, string status, string reason);

    [LoggerMessage(EventId = 2105, Level = LogLevel.Warning, Message = "deploy {Id}: the finish notification failed")]
    private static partial void LogNotifyFailed(ILogger logger, Exception failure, string id);
}
