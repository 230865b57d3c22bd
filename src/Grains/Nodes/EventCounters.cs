namespace Platform.Grains.Nodes;

/// <summary>
/// User events fired and queries run through the fleet grain while it runs on this silo (from the API, Consul's
/// event API, rules or deploys); read by the silo's meter when a scrape asks (docs/operations.md, "Telemetry").
/// </summary>
public sealed class EventCounters
{
    private long _fired;
    private long _queries;

    public long Fired => Interlocked.Read(ref _fired);

    public long Queries => Interlocked.Read(ref _queries);

    internal void OnFired() => Interlocked.Increment(ref _fired);

    internal void OnQuery() => Interlocked.Increment(ref _queries);
}
