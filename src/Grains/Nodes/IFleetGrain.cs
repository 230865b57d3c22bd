using Platform.Runtime;

namespace Platform.Grains.Nodes;

/// <summary>
/// The fleet (<c>fleet/default</c>): the ordered, durable log of member and user events with their Lamport times,
/// the member summary, and the publisher that tells every silo's agent hub about each event once.
/// </summary>
public interface IFleetGrain : IGrainWithStringKey
{
    /// <summary>
    /// Subscribes (or renews) hub <paramref name="hubKey"/> of silo <paramref name="silo"/> (its cluster address; null on a
    /// single silo); returns the published events it missed after <paramref name="afterSeq"/> (null for a new hub: none, it starts now).
    /// </summary>
    Task<FleetCatchUp> Subscribe(IFleetObserver hub, string hubKey, string? silo, ulong? afterSeq);

    /// <summary>A node changed: journals the change (and its member event, if any) and publishes the event.</summary>
    Task Record(MemberChange change);

    /// <summary>Fires a user event: takes the next user Lamport time, journals it, publishes it. The filters (Consul's, null for none) travel with it.</summary>
    Task<UserEvent> FireEvent(string name, byte[] payload, bool coalesce, string? nodeFilter, string? tagFilter);

    /// <summary>The Lamport time of the last user event fired: a new node's mark, so it is sent what comes after and nothing before.</summary>
    [ReadOnly]
    Task<ulong> UserLTime();

    /// <summary>The user events kept, after <paramref name="afterLTime"/>, oldest first.</summary>
    [ReadOnly]
    Task<List<UserEvent>> UserEvents(ulong afterLTime);

    /// <summary>Every member the fleet knows, with the hub that holds it.</summary>
    [ReadOnly]
    Task<List<MemberEntry>> Members();

    /// <summary>Starts a query: takes the next query Lamport time, fills the default timeout and sends it to every hub with <paramref name="collector"/>.</summary>
    Task<QueryStart> StartQuery(FleetQuery query, IQueryCollector collector);

    /// <summary>Asks the hub holding <paramref name="name"/> to tell its agent to leave.</summary>
    Task RequestLeave(string name);

    /// <summary>Passes a TTL report for node <paramref name="name"/> to hub <paramref name="hub"/> (the one holding its connection); false when that hub is gone or no longer holds it.</summary>
    Task<bool> ReportCheck(string hub, string name, NodeCheck report);

    /// <summary>Passes node <paramref name="name"/>'s registered checks to hub <paramref name="hub"/>; false when that hub is gone or no longer holds it.</summary>
    Task<bool> PushChecks(string hub, string name, NodeChecksPush checks);

    /// <summary>Node <paramref name="name"/> stored a new state of its check: every hub hears it (monitors, Consul blocking queries on health). Not durable.</summary>
    [OneWay]
    Task CheckChanged(string name, NodeCheck check);

    /// <summary>Passes a deploy order for node <paramref name="name"/> to hub <paramref name="hub"/>; false when that hub is gone or no longer holds it.</summary>
    Task<bool> SendDeployOrder(string hub, string name, DeployOrder order);
}

/// <summary>A silo's agent hub: told about every fleet event in sequence order, every query and every leave request.</summary>
public interface IFleetObserver : IGrainObserver
{
    [OneWay]
    Task OnEvents(FleetEventBatch batch);

    [OneWay]
    Task OnQuery(FleetQuery query, IQueryCollector collector);

    [OneWay]
    Task OnLeaveRequested(string name);

    /// <summary>Node <paramref name="name"/>'s check changed state or output (stored): for the hub's monitor readers.</summary>
    [OneWay]
    Task OnCheckChanged(string name, NodeCheck check);

    /// <summary>Sends a TTL report to node <paramref name="name"/>'s agent if this hub holds its connection; answers whether it did.</summary>
    Task<bool> OnCheckReport(string name, NodeCheck report);

    /// <summary>Sends node <paramref name="name"/>'s registered checks to its agent if this hub holds its connection; answers whether it did.</summary>
    Task<bool> OnChecksPush(string name, NodeChecksPush checks);

    /// <summary>Sends a deploy order to node <paramref name="name"/>'s agent if this hub holds its connection; answers whether it did.</summary>
    Task<bool> OnDeployOrder(string name, DeployOrder order);
}

/// <summary>
/// Run (or, with <see cref="Cancel"/>, stop) deploy <see cref="DeployId"/> on one node: the manifest's URL or inline
/// text, and how long the node may take.
/// </summary>
public sealed record DeployOrder(string DeployId, bool Cancel, string? ManifestUrl, string? Manifest, TimeSpan Timeout, Platform.Protocol.DeployStretchOptions? Stretch = null);

/// <summary>Where a query's acks and responses go: an object on the silo that received the query.</summary>
public interface IQueryCollector : IGrainObserver
{
    /// <summary>Hub <paramref name="hub"/> sent the query to <paramref name="nodes"/> (possibly none).</summary>
    [OneWay]
    Task OnDelivered(string hub, List<string> nodes);

    [OneWay]
    Task OnAck(string from);

    [OneWay]
    Task OnResponse(string from, byte[] payload);
}

/// <summary>A node's change as the fleet records it: the member event (null when only the holding hub changed), the member and its hub.</summary>
public sealed record MemberChange(string? Event, NodeMember Member, string Hub, DateTimeOffset At, bool PushTags = false);

/// <summary>A member in the fleet's summary.</summary>
public sealed record MemberEntry(NodeMember Member, string Hub, DateTimeOffset Changed);

/// <summary>A user event (Serf's): ordered by its Lamport time. <see cref="NodeFilter"/> and <see cref="TagFilter"/> (Consul's) select the nodes that handle it; null for every node.</summary>
public sealed record UserEvent(string Id, string Name, byte[] Payload, ulong LTime, bool Coalesce, DateTimeOffset At, string? NodeFilter = null, string? TagFilter = null);

/// <summary>One published fleet event: a member event or a user event, numbered in the fleet's order.</summary>
public sealed record FleetEvent(ulong Seq, string? MemberEvent, NodeMember? Member, UserEvent? User, bool PushTags);

/// <summary>Consecutive fleet events, oldest first.</summary>
public sealed record FleetEventBatch(List<FleetEvent> Events);

/// <summary>What a hub missed: the fleet's last sequence number and the events after the hub's (<see cref="Cleared"/> when no longer kept).</summary>
public sealed record FleetCatchUp(ulong LastSeq, List<FleetEvent> Events, bool Cleared);

/// <summary>
/// A query: <see cref="Nodes"/> (exact names) and <see cref="Tags"/> (tag → regular expression) select the nodes;
/// <see cref="LTime"/> and <see cref="TimeoutMs"/> are filled by the fleet.
/// </summary>
public sealed record FleetQuery(string Id, string Name, byte[] Payload, bool Ack, List<string> Nodes, Dictionary<string, string> Tags, ulong LTime, int TimeoutMs);

/// <summary>What <see cref="IFleetGrain.StartQuery"/> answers: the query as sent, and how many hubs got it.</summary>
public sealed record QueryStart(FleetQuery Query, int Hubs);
