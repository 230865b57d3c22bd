using Platform.Builds.Running;
using Platform.Protocol;

namespace Platform.Agent.Builds;

/// <summary>
/// One job attempt on this agent: its log and what of it the silo has been sent on the current connection. Only the
/// <see cref="JobHost"/>'s sender touches the sent marks, so frames go out in order, once per connection.
/// </summary>
internal sealed class HostedJob(string jobId, int attempt)
{
    public string JobId { get; } = jobId;

    public int Attempt { get; } = attempt;

    public JobLog Log { get; } = new();

    public CancellationTokenSource Cancel { get; } = new();

    /// <summary>Set when the job ends: the frames that say so (resent on every connection until acknowledged).</summary>
    public volatile JobEnd? End;

    /// <summary>job-started reached some connection (a job refused at once, or recovered after a restart, never sends it).</summary>
    public bool StartedEverSent;

    // Sender state for the current connection.
    public bool StartedSent;
    public long SentThrough;
    public bool EndSent;

    /// <summary>One more at each resend: the sender records what it sent only if no resend came during the send.</summary>
    public long Resends;

    /// <summary>Forgets what was sent: a new connection is sent everything not acknowledged.</summary>
    public void Resend()
    {
        Resends++;
        StartedSent = false;
        EndSent = false;
        SentThrough = Log.Acknowledged;
    }

    /// <summary>Forgets the sent chunks and end not acknowledged yet, on the same connection (job-started is not repeated).</summary>
    public void ResendUnacknowledged()
    {
        Resends++;
        EndSent = false;
        SentThrough = Log.Acknowledged;
    }
}

/// <summary>A job's last frames: the pipeline answer (pipeline jobs only) and job-done.</summary>
internal sealed record JobEnd(JobPipelineFrame? Pipeline, JobDoneFrame Done);
