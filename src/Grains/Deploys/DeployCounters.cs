namespace Platform.Grains.Deploys;

/// <summary>
/// Deploys started and ended on this silo and node results by status, counted by the deploy grains that run here and
/// read by the silo's meter when a scrape asks (docs/operations.md, "Telemetry").
/// </summary>
public sealed class DeployCounters
{
    /// <summary>The results a deploy ends with, in the order <see cref="Finished"/> answers them.</summary>
    public static readonly string[] Results = [DeployStatus.Succeeded, DeployStatus.Failed, DeployStatus.Cancelled];

    /// <summary>The statuses a node's run ends with, in the order <see cref="NodeResults"/> answers them.</summary>
    public static readonly string[] NodeStatuses =
        [DeployNodeStatus.Succeeded, DeployNodeStatus.Failed, DeployNodeStatus.TimedOut, DeployNodeStatus.Lost, DeployNodeStatus.Skipped];

    private readonly long[] _finished = new long[3];
    private readonly long[] _nodes = new long[5];
    private long _started;
    private long _stateWrites;

    /// <summary>Deploys started.</summary>
    public long Started => Interlocked.Read(ref _started);

    /// <summary>Deploys ended, by result (<see cref="Results"/>'s order).</summary>
    public long Finished(int result) => Interlocked.Read(ref _finished[result]);

    /// <summary>Node runs ended, by status (<see cref="NodeStatuses"/>'s order).</summary>
    public long NodeResults(int status) => Interlocked.Read(ref _nodes[status]);

    /// <summary>Writes of deploy grains' state (node results that arrive together share one).</summary>
    public long StateWrites => Interlocked.Read(ref _stateWrites);

    internal void OnStarted() => Interlocked.Increment(ref _started);

    internal void OnStateWritten() => Interlocked.Increment(ref _stateWrites);

    internal void OnFinished(string result)
    {
        var i = Array.IndexOf(Results, result);
        if (i >= 0) Interlocked.Increment(ref _finished[i]);
    }

    internal void OnNodeEnded(string status)
    {
        var i = Array.IndexOf(NodeStatuses, status);
        if (i >= 0) Interlocked.Increment(ref _nodes[i]);
    }
}
