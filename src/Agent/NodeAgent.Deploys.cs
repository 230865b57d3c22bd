using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Platform.Agent.Deploy;
using Platform.Protocol;

namespace Platform.Agent;

/// <summary>
/// Cluster deploys (docs/deploys.md, "Cluster deploys"): a <c>deploy</c> frame runs Stretcher's procedure in this
/// process, once per deploy id (recorded on disk before it starts); its output streams back as <c>deploy-log</c>
/// frames and its <c>deploy-result</c> is resent until the silo acknowledges it.
/// </summary>
public sealed partial class NodeAgent
{
    /// <summary>How often unacknowledged results are sent again.</summary>
    public static readonly TimeSpan DeployResultResend = TimeSpan.FromSeconds(2);

    private readonly Dictionary<string, CancellationTokenSource> _runningDeploys = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _deployGate = new(1, 1);
    private readonly Channel<AgentFrame> _deployFrames = Channel.CreateUnbounded<AgentFrame>(new UnboundedChannelOptions { SingleReader = true });
    private ClusterDeployRecords? _deployRecords;

    private ClusterDeployRecords DeployRecords => _deployRecords ??= ClusterDeployRecords.Open(_settings.DataDir);

    /// <summary>Raised when a cluster deploy ends on this node, after its result is on disk.</summary>
    public event Action<DeployResultFrame>? DeployFinished;

    private void OnDeploy(DeployFrame order)
    {
        if (order.Node != Name) return;
        if (!_settings.EnableDeploys)
        {
            LogDeployRefused(_logger, order.DeployId);
            QueueDeployFrame(new DeployResultFrame(order.DeployId, Name, "failed", StretchProgram.Failed, 0,
                $"node '{Name}' does not run cluster deploys: set enable_deploys to true in its agent configuration to allow them"));
            return;
        }
        lock (_runningDeploys)
        {
            if (_runningDeploys.ContainsKey(order.DeployId)) return;
            var record = DeployRecords.Find(order.DeployId);
            if (record is { Status: not ClusterDeployRecord.Running })
            {
                // Already ran: the silo did not get (or lost) the result.
                QueueDeployFrame(ResultFrame(order.DeployId, record));
                return;
            }
            if (record is not null)
            {
                // Recorded as running by an earlier agent process that died mid-deploy: never run again, report it failed.
                var interrupted = new ClusterDeployRecord
                {
                    Status = "failed",
                    ExitCode = StretchProgram.Failed,
                    Started = record.Started,
                    OutputTail = "the agent stopped while this deploy ran; it is not run again",
                };
                DeployRecords.Finish(order.DeployId, interrupted);
                QueueDeployFrame(ResultFrame(order.DeployId, interrupted));
                return;
            }
            DeployRecords.Begin(order.DeployId, _time.GetUtcNow());
            _runningDeploys[order.DeployId] = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        }
        _ = Task.Run(() => RunDeployAsync(order));
    }

    private void OnDeployCancel(DeployCancelFrame cancel)
    {
        lock (_runningDeploys)
            if (_runningDeploys.TryGetValue(cancel.DeployId, out var running)) running.Cancel();
    }

    private void OnDeployResultAck(DeployResultAckFrame ack) => DeployRecords.Acknowledge(ack.DeployId);

    private async Task RunDeployAsync(DeployFrame order)
    {
        CancellationTokenSource cancel;
        lock (_runningDeploys) cancel = _runningDeploys[order.DeployId];
        var started = Stopwatch.GetTimestamp();
        var output = new DeployOutput((offset, data) => QueueDeployFrame(new DeployLogFrame(order.DeployId, Name, offset, data)));
        var log = new DeployLog(output, TimeProvider.System);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(Math.Max(1, order.TimeoutMs)));
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancel.Token, timeout.Token);
        string status;
        try
        {
            // One deploy at a time on a node, as `platform stretch` runs them.
            await _deployGate.WaitAsync(linked.Token).ConfigureAwait(false);
            try
            {
                LogDeployStarting(_logger, order.DeployId, order.ManifestUrl is null ? "inline manifest" : LogSafe.Url(order.ManifestUrl));
                using var http = new HttpClient(new SocketsHttpHandler { AutomaticDecompression = System.Net.DecompressionMethods.None }) { Timeout = Timeout.InfiniteTimeSpan };
                http.DefaultRequestHeaders.UserAgent.ParseAdd("platform-agent");
                using var source = new ArtifactSource(http, new S3SourceOptions(), Environment.GetEnvironmentVariable);
                var runner = new StretchRunner(new StretchOptions(), source, log, output, output, Environment.GetEnvironmentVariable, TimeProvider.System);
                var ok = order.ManifestUrl is { } url
                    ? await runner.RunAsync(url, linked.Token).ConfigureAwait(false)
                    : await runner.RunTextAsync(order.Manifest ?? "", linked.Token).ConfigureAwait(false);
                status = ok ? "succeeded" : "failed";
            }
            finally
            {
                _deployGate.Release();
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancel.IsCancellationRequested)
        {
            log.Line($"timeout {GoDuration.Format(TimeSpan.FromMilliseconds(order.TimeoutMs))} reached; stopped");
            status = "timed-out";
        }
        catch (OperationCanceledException)
        {
            log.Line("stopped by the silo (deploy cancelled)");
            status = "failed";
        }
        catch (Exception e) when (e is DeployException or IOException or UnauthorizedAccessException or HttpRequestException)
        {
            log.Line($"deploy failed: {e.Message}");
            status = "failed";
        }
        var record = new ClusterDeployRecord
        {
            Status = status,
            ExitCode = status == "succeeded" ? StretchProgram.Ok : StretchProgram.Failed,
            DurationMs = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds,
            OutputTail = output.Tail(),
            Started = _time.GetUtcNow(),
        };
        DeployRecords.Finish(order.DeployId, record);
        lock (_runningDeploys) _runningDeploys.Remove(order.DeployId);
        cancel.Dispose();
        LogDeployFinished(_logger, order.DeployId, status);
        var result = ResultFrame(order.DeployId, record);
        QueueDeployFrame(result);
        try { DeployFinished?.Invoke(result); }
        catch (Exception failure) { LogObserverFailed(_logger, failure); }
    }

    private DeployResultFrame ResultFrame(string deployId, ClusterDeployRecord record)
        => new(deployId, Name, record.Status, record.ExitCode, record.DurationMs, record.OutputTail);

    private void QueueDeployFrame(AgentFrame frame) => _deployFrames.Writer.TryWrite(frame);

    /// <summary>
    /// Sends deploy frames in order (a log chunk is dropped when there is no connection: the result carries the tail),
    /// and every <see cref="DeployResultResend"/> the results not yet acknowledged.
    /// </summary>
    private async Task DeployFramesLoop(CancellationToken stopping)
    {
        var resendAt = _time.GetTimestamp();
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                wait.CancelAfter(DeployResultResend);
                try
                {
                    await _deployFrames.Reader.WaitToReadAsync(wait.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
                {
                    // The resend interval passed.
                }
                while (_deployFrames.Reader.TryRead(out var frame)) await _connection.SendAsync(frame, stopping).ConfigureAwait(false);
                if (_time.GetElapsedTime(resendAt) >= DeployResultResend && _deployRecords is { } records)
                {
                    resendAt = _time.GetTimestamp();
                    foreach (var (id, record) in records.Unacknowledged()) await _connection.SendAsync(ResultFrame(id, record), stopping).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is IOException or System.Net.WebSockets.WebSocketException or ObjectDisposedException or InvalidOperationException)
            {
                // The connection went mid-send; what matters (results) is resent.
                LogDeploySendFailed(_logger, e.Message);
            }
        }
    }

    [LoggerMessage(EventId = 320, Level = LogLevel.Warning, Message = "agent: deploy {DeployId} refused: enable_deploys is not set")]
    private static partial void LogDeployRefused(ILogger logger, string deployId);

    [LoggerMessage(EventId = 321, Level = LogLevel.Information, Message = "agent: deploy {DeployId} starting ({Manifest})")]
    private static partial void LogDeployStarting(ILogger logger, string deployId, string manifest);

    [LoggerMessage(EventId = 322, Level = LogLevel.Information, Message = "agent: deploy {DeployId} {Status}")]
    private static partial void LogDeployFinished(ILogger logger, string deployId, string status);

    [LoggerMessage(EventId = 323, Level = LogLevel.Debug, Message = "agent: sending a deploy frame failed: {Reason}")]
    private static partial void LogDeploySendFailed(ILogger logger, string reason);
}
