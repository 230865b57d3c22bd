using System.Buffers;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using Platform.Nodes.Bench;
using Platform.Protocol;

namespace Platform.Dashboard.Bench;

/// <summary>
/// An agent with build slots over the real agent protocol that finishes every job at once: a pipeline job is answered
/// with a one-step pipeline, a step job is started and ended (every <see cref="FailEvery"/>th build's step fails, so the
/// history holds both states). It never checks anything out: what the silo does per build (queue, dispatch, build and
/// log grains, feed) is real, only the work on the node is skipped.
/// </summary>
public sealed class BuildAgent(string name, int slots) : IAsyncDisposable
{
    public const int FailEvery = 10;
    public const string Pipeline = "steps:\n  - key: test\n    run: scripts/test.sh\n";

    private readonly ClientWebSocket _socket = new();
    private readonly SemaphoreSlim _send = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _finished = new(StringComparer.Ordinal);
    private Task? _receive;
    private Task? _pings;

    /// <summary>Called with each job frame as it arrives (on the receive loop: keep it short), before the job is answered.</summary>
    public Action<JobFrame>? JobReceived { get; init; }

    /// <summary>Completes once the silo acknowledged the end of the step job of <paramref name="buildId"/>.</summary>
    public Task Finished(string buildId) => _finished.GetOrAdd(buildId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public void Forget(string buildId) => _finished.TryRemove(buildId, out _);

    /// <summary>Called with the build id each time the silo acknowledged the end of a step job (on the receive loop).</summary>
    public Action<string>? StepEnded { get; init; }

    /// <summary>Offers <paramref name="count"/> slots from now on (an agent connected with none takes no job until then).</summary>
    public Task OfferSlotsAsync(int count) => SendAsync(new JobCapacityFrame(count, null));

    public async Task ConnectAsync(string siloUrl)
    {
        _socket.Options.AddSubProtocol(AgentProtocol.SubProtocol);
        _socket.Options.KeepAliveInterval = TimeSpan.Zero;
        await _socket.ConnectAsync(new Uri(siloUrl.Replace("http://", "ws://", StringComparison.Ordinal) + AgentProtocol.ConnectPath), _stop.Token);
        await SendAsync(new HelloFrame(name, "127.0.0.1", 7946, new Dictionary<string, string> { ["role"] = "builder" }, Guid.NewGuid().ToString("N"), AgentProtocol.Version, 0, MemberEvents: false));
        var buffer = new ArrayBufferWriter<byte>(4096);
        var first = await ReceiveAsync(buffer) ?? throw new BenchFailure($"{name}: the silo closed the socket before its welcome");
        if (first is not WelcomeFrame) throw new BenchFailure($"{name}: expected a welcome, got {first.GetType().Name}");
        await SendAsync(new JobCapacityFrame(slots, null));
        _receive = ReceiveLoopAsync(buffer);
        _pings = PingLoopAsync();
    }

    private async Task PingLoopAsync()
    {
        long seq = 0;
        using var timer = new PeriodicTimer(AgentProtocol.DefaultHeartbeatInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token)) await SendAsync(new PingFrame(++seq));
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task ReceiveLoopAsync(ArrayBufferWriter<byte> buffer)
    {
        try
        {
            while (await ReceiveAsync(buffer) is { } frame)
            {
                if (frame is JobFrame received) JobReceived?.Invoke(received);
                switch (frame)
                {
                    case JobFrame job when job.Step is null:
                        await SendAsync(new JobStartedFrame(job.JobId, job.Attempt));
                        await SendAsync(new JobPipelineFrame(job.JobId, job.Attempt, ".platform/pipeline.yml", Pipeline, null));
                        await SendAsync(new JobDoneFrame(job.JobId, job.Attempt, "passed", 0, 0, []));
                        break;
                    case JobFrame job:
                        var number = int.Parse(job.BuildId[(job.BuildId.LastIndexOf('/') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
                        var fails = number % FailEvery == 0;
                        await SendAsync(new JobStartedFrame(job.JobId, job.Attempt));
                        await SendAsync(new JobDoneFrame(job.JobId, job.Attempt, fails ? "failed" : "passed", fails ? 1 : 0, 0, []));
                        break;
                    case JobDoneAckFrame ack when !ack.JobId.EndsWith("/~pipeline", StringComparison.Ordinal):
                        var buildId = ack.JobId[..ack.JobId.LastIndexOf('/')];
                        StepEnded?.Invoke(buildId);
                        _finished.GetOrAdd(buildId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
                        break;
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
        }
    }

    private async Task<AgentFrame?> ReceiveAsync(ArrayBufferWriter<byte> buffer)
    {
        buffer.ResetWrittenCount();
        while (true)
        {
            var result = await _socket.ReceiveAsync(buffer.GetMemory(4096), _stop.Token);
            if (result.MessageType == WebSocketMessageType.Close) return null;
            buffer.Advance(result.Count);
            if (result.EndOfMessage) return AgentProtocol.Decode(buffer.WrittenSpan);
        }
    }

    private async Task SendAsync(AgentFrame frame)
    {
        var bytes = AgentProtocol.Encode(frame);
        await _send.WaitAsync();
        try
        {
            if (_socket.State == WebSocketState.Open) await _socket.SendAsync(bytes, WebSocketMessageType.Text, true, CancellationToken.None);
        }
        finally
        {
            _send.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bench over", cts.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
        }
        await _stop.CancelAsync();
        foreach (var task in new[] { _receive, _pings })
            if (task is not null) await task.WaitAsync(TimeSpan.FromSeconds(2)).ContinueWith(_ => { });
        _socket.Dispose();
    }
}
