namespace Platform.Grains.Nodes;

/// <summary>
/// Checks: TTL reports and registered check sets from the silo that took the request to the one hub holding the node's connection, and stored
/// check changes to every hub.
/// </summary>
internal sealed partial class FleetGrain
{
    public async Task<bool> ReportCheck(string hub, string name, NodeCheck report)
    {
        ArgumentNullException.ThrowIfNull(report);
        // Only the holding hub is asked: a report is for one agent, not a broadcast.
        return await HolderAsync(hub) is { } holder && await holder.OnCheckReport(name, report);
    }

    public async Task<bool> PushChecks(string hub, string name, NodeChecksPush checks)
    {
        ArgumentNullException.ThrowIfNull(checks);
        return await HolderAsync(hub) is { } holder && await holder.OnChecksPush(name, checks);
    }

    public Task CheckChanged(string name, NodeCheck check)
    {
        ArgumentNullException.ThrowIfNull(check);
        foreach (var hub in LiveHubs()) Send(hub, h => h.OnCheckChanged(name, check));
        return Task.CompletedTask;
    }
}
