using Microsoft.Extensions.Logging.Abstractions;
using Platform.Agent.Builds;
using Platform.Agent.Tests.Support;
using Platform.Builds.Running;
using Platform.Protocol;

namespace Platform.Agent.Tests.Builds;

/// <summary>
/// The job host's sender against a send the test holds open: a resend the silo asks for while a frame is on its way
/// must not be lost to the record of that send (the interleaving that left a job's frames unsent until the next
/// resend interval).
/// </summary>
public sealed class JobHostResendTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_job_frame_that_arrives_while_job_done_is_on_its_way_brings_job_done_again()
    {
        var frames = new List<AgentFrame>();
        var firstDoneSending = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseFirstDone = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        ValueTask<bool> Send(AgentFrame frame)
        {
            int doneCount;
            lock (frames)
            {
                frames.Add(frame);
                doneCount = frames.Count(f => f is JobDoneFrame);
            }
            if (frame is JobDoneFrame && doneCount == 1)
            {
                firstDoneSending.TrySetResult();
                return new ValueTask<bool>(releaseFirstDone.Task);
            }
            return ValueTask.FromResult(true);
        }
        int DoneFrames()
        {
            lock (frames) return frames.Count(f => f is JobDoneFrame);
        }

        // A repository the agent does not build: the job ends at once, failed, and its job-done is what goes out. The
        // resend interval is far beyond the test, so only the silo's second job frame can bring job-done again.
        var host = new JobHost(new JobHostOptions { DataDir = _dir.Path, Repositories = ["https://allowed.example/*"], ResendInterval = TimeSpan.FromHours(1) }, Send, NullLogger.Instance);
        try
        {
            await host.OnWelcomeAsync();
            var job = new JobFrame("build-1", "job-1", 1, "https://elsewhere.example/repo.git", "", "main", "build", new Dictionary<string, string>(), 0);
            host.OnFrame(job);
            await firstDoneSending.Task.WaitAsync(TimeSpan.FromSeconds(30));

            // The silo did not hear of the job and sends it again while the agent's job-done is still being written.
            host.OnFrame(job);
            releaseFirstDone.SetResult(true);

            await Eventually.True(() => DoneFrames() >= 2, "job-done sent again after the job frame that came while the first was on its way", TimeSpan.FromSeconds(15));
            JobDoneFrame[] done;
            lock (frames) done = [.. frames.OfType<JobDoneFrame>()];
            Assert.All(done, d => Assert.Equal(("job-1", 1, JobState.Failed), (d.JobId, d.Attempt, d.State)));
        }
        finally
        {
            releaseFirstDone.TrySetResult(true);
            await host.StopAsync(TimeSpan.Zero);
        }
    }
}
