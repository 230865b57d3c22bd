using Microsoft.Extensions.Logging;
using Platform.Runtime;

namespace Platform.Grains.Nodes;

/// <summary>
/// A node's membership: who holds the name (agent id, hub, connection), its status and its durable facts. Every
/// change is written, then recorded with the fleet, which orders and publishes it; heartbeats never reach here.
/// </summary>
[GrainType("node")]
internal sealed partial class NodeGrain([PersistentState("node")] IPersistentState<NodeState> state, ILogger<NodeGrain> logger) : Grain, INodeGrain
{
    private string Name => GetPrimaryKeyString();

    private NodeState S => state.State;

    private bool Known => state.RecordExists && S.Status.Length != 0;

    private IFleetGrain Fleet => GrainFactory.GetGrain<IFleetGrain>(FleetGrain.DefaultKey);

    public async Task<NodeConnectResult> Connect(NodeHello hello, string hub, string session)
    {
        ArgumentNullException.ThrowIfNull(hello);
        if (Known && S.Status == NodeStatus.Alive && S.AgentId != hello.AgentId)
            return new NodeConnectResult(
                $"node name '{Name}' is already alive at {S.Addr}:{S.Port} (registered by another agent); Serf refuses duplicate names too", null, 0);

        var now = DateTimeOffset.UtcNow;
        string? memberEvent;
        if (Known && S.Status == NodeStatus.Alive)
        {
            // The same agent again (its silo died or stopped): no flap, an update only if it changed.
            memberEvent = S.Addr != hello.Addr || S.Port != hello.Port || !SameTags(S.Tags, hello.Tags) ? MemberEvents.Update : null;
        }
        else
        {
            memberEvent = MemberEvents.Join;
            if (!Known || S.Status == NodeStatus.Left) S.Joined = now;
            S.Incarnation++;
            S.Status = NodeStatus.Alive;
            S.StatusChanged = now;
        }
        // A node without a mark (new, or its agent never handled an event) starts at the fleet's clock: it is sent what
        // is fired from now on, and a reconnect before its first event still gets what it missed, as Serf's new members.
        if (hello.LastEventLTime == 0 && S.LastEventLTime == 0) S.LastEventLTime = await Fleet.UserLTime();
        var replayFrom = hello.LastEventLTime != 0 ? hello.LastEventLTime : S.LastEventLTime;
        S.Addr = hello.Addr;
        S.Port = hello.Port;
        S.Tags = new Dictionary<string, string>(hello.Tags, StringComparer.Ordinal);
        S.Protocol = hello.Protocol;
        S.AgentId = hello.AgentId;
        S.Hub = hub;
        S.Session = session;
        S.LastSeen = now;
        List<NodeCheck>? changedChecks = null;
        var registeredChanged = AdoptConfigChecks(hello);
        if (hello.Checks.Count != 0 || S.Registered.Count != 0)
        {
            foreach (var check in hello.Checks)
                if (!S.Checks.Contains(check)) (changedChecks ??= []).Add(check);
            // The agent reports registered checks once it has them again: until then they keep their last state.
            var configIds = S.ConfigCheckIds.ToHashSet(StringComparer.Ordinal);
            var registeredIds = S.Registered.Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
            S.Checks = [.. hello.Checks, .. S.Checks.Where(c => registeredIds.Contains(c.Id) && !configIds.Contains(c.Id))];
        }
        if (hello.LastEventLTime > S.LastEventLTime) S.LastEventLTime = hello.LastEventLTime;
        if (memberEvent is not null) Remember(memberEvent, now);
        await state.WriteStateAsync();
        var member = S.ToMember(Name);
        await Fleet.Record(new MemberChange(memberEvent, member, hub, now));
        foreach (var check in changedChecks ?? []) await Fleet.CheckChanged(Name, check);
        var push = S.Registered.Count != 0 || hello.ApiChecks || registeredChanged ? ChecksPush() : null;
        return new NodeConnectResult(null, member, replayFrom, push);
    }

    public async Task Disconnected(string session, string reason)
    {
        if (!Known || S.Session != session) return;
        await Lost(reason);
    }

    public async Task Orphaned(string hub, string reason)
    {
        if (!Known || S.Hub != hub) return;
        await Lost(reason);
    }

    /// <summary>The connection is gone: an alive node is failed, a leaving one has left.</summary>
    private async Task Lost(string reason)
    {
        string memberEvent;
        if (S.Status == NodeStatus.Alive)
        {
            S.Status = NodeStatus.Failed;
            memberEvent = MemberEvents.Failed;
            LogNodeFailed(logger, Name, reason);
        }
        else if (S.Status == NodeStatus.Leaving)
        {
            S.Status = NodeStatus.Left;
            memberEvent = MemberEvents.Leave;
        }
        else
        {
            return;
        }
        var now = DateTimeOffset.UtcNow;
        S.StatusChanged = now;
        S.LastSeen = now;
        S.Session = "";
        Remember(memberEvent, now);
        await state.WriteStateAsync();
        await Fleet.Record(new MemberChange(memberEvent, S.ToMember(Name), S.Hub, now));
    }

    public async Task Leave(string session)
    {
        if (!Known || S.Session != session || S.Status != NodeStatus.Alive) return;
        var now = DateTimeOffset.UtcNow;
        S.Status = NodeStatus.Leaving;
        S.StatusChanged = now;
        Remember("leaving", now);
        await state.WriteStateAsync();
        await Fleet.Record(new MemberChange(null, S.ToMember(Name), S.Hub, now));
    }

    public async Task<NodeResult> ForceLeave()
    {
        if (!Known) return NotFound();
        if (S.Status == NodeStatus.Left) return NodeResult.Ok(Detail());
        if (S.Status != NodeStatus.Failed)
            return NodeResult.Fail(NodeErrorKind.Conflict, $"node '{Name}' is {S.Status}; force-leave only moves a failed node to left");
        var now = DateTimeOffset.UtcNow;
        S.Status = NodeStatus.Left;
        S.StatusChanged = now;
        Remember(MemberEvents.Leave, now);
        await state.WriteStateAsync();
        await Fleet.Record(new MemberChange(MemberEvents.Leave, S.ToMember(Name), S.Hub, now));
        return NodeResult.Ok(Detail());
    }

    public async Task<NodeResult> UpdateTags(Dictionary<string, string> set, List<string> delete, bool fromAgent)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(delete);
        if (!Known) return NotFound();
        foreach (var key in set.Keys)
            if (key.Length == 0) return NodeResult.Fail(NodeErrorKind.BadInput, "a tag name is empty; expected names such as 'role'");
        var tags = new Dictionary<string, string>(S.Tags, StringComparer.Ordinal);
        foreach (var key in delete) tags.Remove(key);
        foreach (var (key, value) in set) tags[key] = value;
        if (SameTags(tags, S.Tags)) return NodeResult.Ok(Detail());
        S.Tags = tags;
        var now = DateTimeOffset.UtcNow;
        Remember(MemberEvents.Update, now);
        await state.WriteStateAsync();
        await Fleet.Record(new MemberChange(MemberEvents.Update, S.ToMember(Name), S.Hub, now, PushTags: !fromAgent));
        return NodeResult.Ok(Detail());
    }

    public async Task UpdateCheck(string session, NodeCheck check)
    {
        ArgumentNullException.ThrowIfNull(check);
        if (!Known || S.Session != session || S.Deregistered.Contains(check.Id)) return;
        var at = S.Checks.FindIndex(c => c.Id == check.Id);
        if (at >= 0 && S.Checks[at] == check) return;
        if (at >= 0) S.Checks[at] = check;
        else S.Checks.Add(check);
        await state.WriteStateAsync();
        await Fleet.CheckChanged(Name, check);
    }

    public async Task Applied(string session, ulong ltime)
    {
        if (!Known || S.Session != session || ltime <= S.LastEventLTime) return;
        S.LastEventLTime = ltime;
        await state.WriteStateAsync();
    }

    public async Task Reap()
    {
        if (!Known || S.Status is not (NodeStatus.Failed or NodeStatus.Left)) return;
        var member = S.ToMember(Name);
        var hub = S.Hub;
        await state.ClearStateAsync();
        await Fleet.Record(new MemberChange(MemberEvents.Reap, member, hub, DateTimeOffset.UtcNow));
    }

    public Task<NodeDetail?> Get() => Task.FromResult(Known ? Detail() : null);

    public Task<List<NodeMemberEvent>?> MemberChanges() => Task.FromResult(Known ? new List<NodeMemberEvent>(S.MemberEvents) : null);

    /// <summary>Keeps a membership change with the state it is written with (the state as it is after the change).</summary>
    private void Remember(string memberEvent, DateTimeOffset now)
    {
        S.MemberEvents.Add(new NodeMemberEvent(memberEvent, S.Status, new Dictionary<string, string>(S.Tags, StringComparer.Ordinal), S.Hub, now));
        if (S.MemberEvents.Count > NodeMemberEvent.Kept) S.MemberEvents.RemoveRange(0, S.MemberEvents.Count - NodeMemberEvent.Kept);
    }

    private NodeDetail Detail() => new(S.ToMember(Name), S.Joined, S.LastSeen, S.StatusChanged, [.. S.Checks], S.LastEventLTime, S.Hub);

    private NodeResult NotFound() => NodeResult.Fail(NodeErrorKind.NotFound, $"node '{Name}' is not known");

    private static bool SameTags(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string> b)
    {
        if (a.Count != b.Count) return false;
        foreach (var (key, value) in a)
            if (!b.TryGetValue(key, out var other) || other != value) return false;
        return true;
    }
}
