namespace Platform.Grains.Nodes;

/// <summary>
/// Checks registered through the API: stored with the node, sent to its agent (now if it is connected, else after its next
/// welcome), and kept apart from the checks of the agent's own configuration, which the API cannot change.
/// </summary>
internal sealed partial class NodeGrain
{
    public async Task<NodeResult> RegisterCheck(NodeCheckDefinition check)
    {
        ArgumentNullException.ThrowIfNull(check);
        if (!Known) return NotFound();
        if (S.ConfigCheckIds.Contains(check.Id))
            return NodeResult.Fail(NodeErrorKind.Conflict,
                $"check id '{check.Id}' is a check of node '{Name}''s agent configuration; a check registered through the API needs another id");
        if (check.Script && !S.ScriptChecks)
            return NodeResult.Fail(NodeErrorKind.Forbidden,
                $"check '{check.Name}' runs a command, and node '{Name}''s agent does not take script checks through the API; set enable_script_checks to true in its configuration to allow them");

        var at = S.Registered.FindIndex(r => r.Id == check.Id);
        if (at >= 0 && S.Registered[at] == check) return NodeResult.Ok(Detail());
        if (at >= 0) S.Registered[at] = check;
        else S.Registered.Add(check);
        S.RegisteredVersion++;
        S.Deregistered.Remove(check.Id);
        // A new or changed definition starts over from its initial status, as Consul's agent does on a re-registration.
        var initial = new NodeCheck(check.Id, check.Name, check.InitialStatus, "");
        var stateAt = S.Checks.FindIndex(c => c.Id == check.Id);
        if (stateAt >= 0) S.Checks[stateAt] = initial;
        else S.Checks.Add(initial);
        await state.WriteStateAsync();
        await Fleet.CheckChanged(Name, initial);
        await PushChecks();
        return NodeResult.Ok(Detail());
    }

    public async Task<NodeResult> DeregisterCheck(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (!Known) return NotFound();
        var at = S.Registered.FindIndex(r => r.Id == id);
        if (at < 0)
        {
            return S.ConfigCheckIds.Contains(id)
                ? NodeResult.Fail(NodeErrorKind.Conflict, $"check '{id}' is a check of node '{Name}''s agent configuration; remove it there, not through the API")
                : NodeResult.Fail(NodeErrorKind.NotFound, $"node '{Name}' has no check '{id}' registered through the API");
        }
        var removed = S.Registered[at];
        S.Registered.RemoveAt(at);
        S.RegisteredVersion++;
        S.Checks.RemoveAll(c => c.Id == id);
        if (!S.Deregistered.Contains(id)) S.Deregistered.Add(id);
        await state.WriteStateAsync();
        // Wakes monitors and blocking health queries; the status says the check is gone.
        await Fleet.CheckChanged(Name, new NodeCheck(id, removed.Name, "deregistered", ""));
        await PushChecks();
        return NodeResult.Ok(Detail());
    }

    /// <summary>Takes the configuration's check ids and script setting from a hello; drops registered checks its configuration now defines (true if any).</summary>
    private bool AdoptConfigChecks(NodeHello hello)
    {
        S.ScriptChecks = hello.ScriptChecks;
        S.ConfigCheckIds = [.. hello.Checks.Select(c => c.Id)];
        S.Deregistered.Clear();
        var configIds = S.ConfigCheckIds.ToHashSet(StringComparer.Ordinal);
        var dropped = S.Registered.RemoveAll(r => configIds.Contains(r.Id));
        if (dropped == 0) return false;
        // The node's own configuration wins: the API cannot override what the node defines.
        LogRegisteredCheckShadowed(logger, Name, dropped);
        S.RegisteredVersion++;
        return true;
    }

    private NodeChecksPush ChecksPush() => new(S.RegisteredVersion, [.. S.Registered]);

    /// <summary>Sends the registered set to the hub holding the agent; an agent not connected gets it after its next welcome.</summary>
    private async Task PushChecks()
    {
        if (S.Status is not (NodeStatus.Alive or NodeStatus.Leaving) || S.Hub.Length == 0) return;
        try
        {
            if (!await Fleet.PushChecks(S.Hub, Name, ChecksPush())) LogChecksNotPushed(logger, Name, "its hub no longer holds its connection");
        }
        catch (Exception e)
        {
            // Stored already: the agent gets the set with its next welcome.
            LogChecksNotPushed(logger, Name, e.Message);
        }
    }
}
