using System.Text;
using Platform.Protocol;
using Platform.Silo.Tests.Nodes.Api;

namespace Platform.Silo.Tests.Builds;

/// <summary>
/// An agent that speaks the build-job frames over a real WebSocket as the job runner does (hello, pings, job-capacity;
/// job-started, job-pipeline, job-log, job-done in answer to job frames), each step driven by the test, so a scenario
/// reads as the protocol exchange it checks. Every frame the silo sent is kept.
/// </summary>
internal sealed class SimulatedBuildAgent : IAsyncDisposable
{
    private readonly RawAgent _agent;

    private SimulatedBuildAgent(RawAgent agent) => _agent = agent;

    public string Name => _agent.Name;

    public RawAgent Raw => _agent;

    /// <summary>Connects, is welcomed, and offers <paramref name="slots"/> job slots (and a container engine, if given).</summary>
    public static async Task<SimulatedBuildAgent> ConnectAsync(int port, string name, int slots = 8, string? engine = null, Dictionary<string, string>? tags = null)
    {
        var raw = await RawAgent.ConnectAsync(port, RawAgent.NewHello(name, tags));
        if (raw.Welcome is null) throw new InvalidOperationException($"agent {name} was not welcomed: {raw.Describe()}");
        await raw.SendAsync(new JobCapacityFrame(slots, engine));
        return new SimulatedBuildAgent(raw);
    }

    /// <summary>Waits for a job frame that matches.</summary>
    public Task<JobFrame> JobAsync(Func<JobFrame, bool> match, TimeSpan? timeout = null) => _agent.WaitForAsync(match, timeout ?? TimeSpan.FromSeconds(60));

    /// <summary>Waits for the pipeline job of build <paramref name="buildId"/>.</summary>
    public Task<JobFrame> PipelineJobAsync(string buildId) => JobAsync(f => f.BuildId == buildId && f.Step is null);

    /// <summary>Waits for attempt <paramref name="attempt"/> of step <paramref name="step"/> of build <paramref name="buildId"/>.</summary>
    public Task<JobFrame> StepJobAsync(string buildId, string step, int attempt = 1) => JobAsync(f => f.BuildId == buildId && f.Step == step && f.Attempt == attempt);

    /// <summary>Every job frame received for build <paramref name="buildId"/>.</summary>
    public List<JobFrame> Jobs(string buildId) => _agent.All<JobFrame>(f => f.BuildId == buildId);

    public Task StartedAsync(JobFrame job) => _agent.SendAsync(new JobStartedFrame(job.JobId, job.Attempt));

    /// <summary>Answers a pipeline job with the file's text (or the error the runner found) and ends it.</summary>
    public async Task AnswerPipelineAsync(JobFrame job, string? yaml, string? error = null)
    {
        await StartedAsync(job);
        await _agent.SendAsync(new JobPipelineFrame(job.JobId, job.Attempt, ".platform/pipeline.yml", yaml, error));
        await DoneAsync(job, error is null ? "passed" : "failed", error is null ? 0 : 1);
    }

    /// <summary>Sends a log chunk, resending it every second (as a runner resends what is not acknowledged), until the silo acknowledges its sequence number.</summary>
    public async Task LogAsync(JobFrame job, long seq, long offset, string text)
    {
        var frame = new JobLogFrame(job.JobId, job.Attempt, seq, offset, Encoding.UTF8.GetBytes(text));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            await _agent.SendAsync(frame);
            try
            {
                await _agent.WaitForAsync<JobLogAckFrame>(a => a.JobId == job.JobId && a.Attempt == job.Attempt && a.Seq >= seq, TimeSpan.FromSeconds(1));
                return;
            }
            catch (TimeoutException) when (DateTime.UtcNow < deadline)
            {
            }
        }
    }

    /// <summary>Ends an attempt and waits until the silo acknowledges that it stored the end.</summary>
    public async Task DoneAsync(JobFrame job, string state, int? exitStatus, long logLength = 0)
    {
        await _agent.SendAsync(new JobDoneFrame(job.JobId, job.Attempt, state, exitStatus, logLength, []));
        await _agent.WaitForAsync<JobDoneAckFrame>(a => a.JobId == job.JobId && a.Attempt == job.Attempt, TimeSpan.FromSeconds(60));
    }

    /// <summary>Runs a step as a runner would: started, its output, then its end.</summary>
    public async Task RunAsync(JobFrame job, string output, string state = "passed", int exitStatus = 0)
    {
        await StartedAsync(job);
        if (output.Length != 0) await LogAsync(job, 1, 0, output);
        await DoneAsync(job, state, exitStatus, Encoding.UTF8.GetByteCount(output));
    }

    /// <summary>The process dies: the socket is aborted without a leave.</summary>
    public void Crash() => _agent.Abort();

    public ValueTask DisposeAsync() => _agent.DisposeAsync();
}
