using System.Diagnostics.Metrics;
using Platform.Grains.Builds;
using Platform.Grains.Deploys;
using Platform.Grains.Keys;
using Platform.Grains.Nodes;
using Platform.Runtime.Hosting;
using Platform.Runtime.Statistics;
using Platform.Runtime.Storage;
using Platform.Silo.Access;
using Platform.Silo.Agents;

namespace Platform.Silo.Telemetry;

/// <summary>
/// The silo's own instruments (meter "Platform"). Most read counters the runtime, the watch hub and the agent hub
/// keep anyway, when a scrape asks, so the hot paths pay nothing for metrics. Created once the silo has started
/// (the cluster's membership exists by then).
/// </summary>
public sealed class PlatformMeter : IDisposable
{
    public const string Name = "Platform";

    private readonly Meter _meter = new(Name);
    private readonly MembershipSubscription? _membership;

    public PlatformMeter(IRuntimeStatistics statistics, GrainRuntime runtime, KeyWatchHub watches, AgentHub agents, StorageMonitor storage, AccessControl access, DeployCounters deploys,
        EventCounters events, BuildCounters builds)
    {
        _meter.CreateObservableCounter("platform.grain.calls", () => Methods(statistics, failures: false), "{call}", "Grain calls completed, by grain type and method.");
        _meter.CreateObservableCounter("platform.grain.call.failures", () => Methods(statistics, failures: true), "{call}", "Grain calls that ended in an exception, by grain type and method.");
        _meter.CreateObservableGauge("platform.grain.activations", () => Activations(statistics), "{activation}", "Live activations on this silo, by grain type.");
        _meter.CreateObservableCounter("platform.keys.index", () => (long)watches.LastIndex, "{write}", "The keyspace's etcd index as this silo has seen it: it grows by one per key write in the cluster.");
        _meter.CreateObservableGauge("platform.keys.watches", () => watches.WatchCount, "{watch}", "Open etcd and Consul watches on this silo.");
        _meter.CreateObservableCounter("platform.keys.seen_timeouts", () => watches.SeenTimeouts, "{write}", "Writes answered before this silo's watch hub saw them (bounded wait hit).");
        _meter.CreateObservableCounter("platform.keys.ring_sends", () => Platform.Silo.Hosting.SendRing.Sent, "{send}", "Woken etcd long polls whose answer went to the kernel with the rest of its chunk in one io_uring submission (0 where the kernel offers none); in this process.");
        _meter.CreateObservableGauge("platform.agents.connected", () => agents.ConnectionCount, "{agent}", "Node agents connected to this silo.");
        _meter.CreateObservableGauge("platform.agents.connected.direct", () => agents.DirectConnectionCount, "{agent}", "Of those, the agents whose frames this silo writes straight to their socket (a plain listener); the others' go through the web server's stream (TLS, HTTP/2).");
        _meter.CreateObservableGauge("platform.storage.reachable", () => storage.IsReachable ? 1 : 0, null, "1 while this silo reaches its storage (PostgreSQL or the SQLite file), 0 during an outage.");
        _meter.CreateObservableCounter("platform.access.refused", () => Refused(access), "{request}", "Requests refused by access control, by reason (unauthenticated, forbidden, rate_limited).");
        _meter.CreateObservableCounter("platform.deploys.started", () => deploys.Started, "{deploy}", "Deploys started by this silo's deploy grains (from the API or a rule).");
        _meter.CreateObservableCounter("platform.deploys.finished", () => DeployResults(deploys), "{deploy}", "Deploys ended on this silo, by result (succeeded, failed, cancelled).");
        _meter.CreateObservableCounter("platform.deploys.state_writes", () => deploys.StateWrites, "{write}", "Writes of deploy grains' state on this silo; node results that arrive together share one.");
        _meter.CreateObservableCounter("platform.deploys.node_results", () => NodeResults(deploys), "{node}", "Nodes' runs ended in deploys on this silo, by status (succeeded, failed, timed-out, lost, skipped).");
        _meter.CreateObservableCounter("platform.events.fired", () => events.Fired, "{event}", "User events fired through this silo's fleet grain (API, Consul's event API, rules, deploys).");
        _meter.CreateObservableCounter("platform.queries", () => events.Queries, "{query}", "Queries sent to the fleet by this silo's fleet grain.");
        _meter.CreateObservableCounter("platform.builds.started", () => builds.Started, "{build}", "Builds created or retried on this silo's build grains (API, push hooks, rules).");
        _meter.CreateObservableCounter("platform.builds.finished", () => BuildResults(builds), "{build}", "Builds ended on this silo, by result (passed, failed, canceled, skipped).");
        _meter.CreateObservableGauge("platform.builds.queue.waiting", () => Waiting(builds), "{job}", "Jobs waiting for an agent, by the agent tags they ask for; on the silo running the queue (others show 0).");
        _meter.CreateObservableGauge("platform.builds.queue.running", () => builds.Running, "{job}", "Jobs holding an agent's slot; on the silo running the queue (others show 0).");
        _meter.CreateObservableGauge("platform.cluster.silos", () => Silos(runtime), "{silo}", "Silos in this silo's view of the membership table, by status.");
        if (runtime.Cluster?.Membership is { } membership)
        {
            var changes = _meter.CreateCounter<long>("platform.cluster.membership_changes", "{change}", "Changes of the membership view this silo has applied.");
            _membership = new MembershipSubscription(membership, changes);
        }
    }

    private static IEnumerable<Measurement<long>> Methods(IRuntimeStatistics statistics, bool failures)
    {
        foreach (var type in statistics.GetGrainStatistics())
            foreach (var m in type.Methods)
                yield return new(failures ? m.Failures : m.Calls, new("grain_type", type.GrainType), new("method", $"{ShortName(m.Interface)}.{m.Method}"));
    }

    private static IEnumerable<Measurement<long>> Refused(AccessControl access)
    {
        var counters = access.Counters();
        yield return new(counters.Unauthenticated, new KeyValuePair<string, object?>("reason", "unauthenticated"));
        yield return new(counters.Forbidden, new KeyValuePair<string, object?>("reason", "forbidden"));
        yield return new(counters.RateLimited, new KeyValuePair<string, object?>("reason", "rate_limited"));
    }

    private static IEnumerable<Measurement<long>> DeployResults(DeployCounters deploys)
    {
        for (var i = 0; i < DeployCounters.Results.Length; i++)
            yield return new(deploys.Finished(i), new KeyValuePair<string, object?>("result", DeployCounters.Results[i]));
    }

    private static IEnumerable<Measurement<long>> BuildResults(BuildCounters builds)
    {
        for (var i = 0; i < BuildCounters.Results.Length; i++)
            yield return new(builds.Finished(i), new KeyValuePair<string, object?>("result", BuildCounters.Results[i]));
    }

    private static IEnumerable<Measurement<int>> Waiting(BuildCounters builds)
    {
        foreach (var (agents, count) in builds.Waiting())
            yield return new(count, new KeyValuePair<string, object?>("agents", agents));
    }

    private static IEnumerable<Measurement<long>> NodeResults(DeployCounters deploys)
    {
        for (var i = 0; i < DeployCounters.NodeStatuses.Length; i++)
            yield return new(deploys.NodeResults(i), new KeyValuePair<string, object?>("status", DeployCounters.NodeStatuses[i]));
    }

    private static string ShortName(string type) => type[(type.LastIndexOf('.') + 1)..];

    private static IEnumerable<Measurement<long>> Activations(IRuntimeStatistics statistics)
    {
        foreach (var type in statistics.GetGrainStatistics())
            yield return new(type.Activations, new KeyValuePair<string, object?>("grain_type", type.GrainType));
    }

    private static IEnumerable<Measurement<int>> Silos(GrainRuntime runtime)
    {
        if (runtime.Cluster?.Membership is not { } membership)
        {
            yield return new(1, new KeyValuePair<string, object?>("status", "active"));
            yield break;
        }
        foreach (var group in membership.Members.GroupBy(m => m.Status.ToString().ToLowerInvariant()))
            yield return new(group.Count(), new KeyValuePair<string, object?>("status", group.Key));
    }

    public void Dispose()
    {
        _membership?.Dispose();
        _meter.Dispose();
    }

    private sealed class MembershipSubscription : IDisposable
    {
        private readonly Platform.Runtime.Membership.MembershipService _membership;
        private readonly Counter<long> _changes;

        public MembershipSubscription(Platform.Runtime.Membership.MembershipService membership, Counter<long> changes)
        {
            _membership = membership;
            _changes = changes;
            _membership.ViewChanged += OnViewChanged;
        }

        private void OnViewChanged(Platform.Runtime.Membership.ClusterView view) => _changes.Add(1);

        public void Dispose() => _membership.ViewChanged -= OnViewChanged;
    }
}
