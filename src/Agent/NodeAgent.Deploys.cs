using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Platform.Agent.Deploy;
using Platform.Builds.Running;
using Platform.Protocol;

namespace Platform.Agent;

/// <summary>
/// Cluster deploys (docs/deploys.md, "Cluster deploys"): a <c>deploy</c> frame runs Stretcher's procedure in this
/// process, once per deploy id (recorded on disk before it starts); its output streams back as <c>deploy-log</c>
/// chunks (numbered, with byte offsets, resent until <c>deploy-log-ack</c> covers them, as build job logs), and its
/// <c>deploy-result</c> goes once the whole output is stored, resent until the silo acknowledges it.
/// </summary>
public sealed partial class NodeAgent
{
    /// <summary>How often unacknowledged results are sent again.</summary>
    public static readonly TimeSpan DeployResultResend = TimeSpan.FromSeconds(2);

    private readonly Dictionary<string, CancellationTokenSource> _runningDeploys = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DeployStream> _deployStreams = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _deployGate = new(1, 1);
    private readonly SemaphoreSlim _deployWake = new(0, 1);
    private readonly Channel<AgentFrame> _deployFrames = Channel.CreateUnbounded<AgentFrame>(new UnboundedChannelOptions { SingleReader = true });
    private ClusterDeployRecords? _deployRecords;
    private int _deployConnection;

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
            if (_deployStreams.ContainsKey(order.DeployId))
            {
                // Ran here and its result waits for its output to be stored: the sender loop sends both.
                WakeDeploys();
                return;
            }
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
            var stream = new DeployStream(order.DeployId);
            stream.Log.Appended += WakeDeploys;
            _deployStreams[order.DeployId] = stream;
        }
        _ = Task.Run(() => RunDeployAsync(order));
    }

    /// <summary>
    /// Stops the deploy if it runs here. One this node never started is recorded stopped (a <c>deploy</c> frame for it
    /// arriving later is answered with that, never run); for a finished one the result goes again. Either way the node
    /// reports, which is what makes the silo stop resending the cancel.
    /// </summary>
    private void OnDeployCancel(DeployCancelFrame cancel)
    {
        if (cancel.Node != Name) return;
        lock (_runningDeploys)
        {
            if (_runningDeploys.TryGetValue(cancel.DeployId, out var running))
            {
                running.Cancel();
                return;
            }
            var record = DeployRecords.Find(cancel.DeployId);
            if (record is null || record.Status == ClusterDeployRecord.Running)
            {
                // Never started here, or started by an earlier agent process that died mid-run: it ends stopped.
                record = new ClusterDeployRecord
                {
                    Status = "failed",
                    ExitCode = StretchProgram.Failed,
                    Started = record?.Started ?? _time.GetUtcNow(),
                    OutputTail = record is null ? "stopped by the silo (deploy cancelled) before it started here" : "the agent stopped while this deploy ran; it is not run again",
                };
                DeployRecords.Finish(cancel.DeployId, record);
            }
            else if (_deployStreams.ContainsKey(cancel.DeployId))
            {
                // Its result goes once its output is stored.
                return;
            }
            QueueDeployFrame(ResultFrame(cancel.DeployId, record));
        }
    }

    private void OnDeployResultAck(DeployResultAckFrame ack)
    {
        if (ack.Node != Name) return;
        DeployRecords.Acknowledge(ack.DeployId);
        _deployStreams.TryRemove(ack.DeployId, out _);
    }

    private void OnDeployLogAck(DeployLogAckFrame ack)
    {
        if (ack.Node != Name || !_deployStreams.TryGetValue(ack.DeployId, out var stream)) return;
        stream.Log.Acknowledge(ack.Seq);
        // The result may now go (it waits for the whole output to be stored).
        if (stream.Result is not null) WakeDeploys();
    }

    private async Task RunDeployAsync(DeployFrame order)
    {
        CancellationTokenSource cancel;
        lock (_runningDeploys) cancel = _runningDeploys[order.DeployId];
        var started = Stopwatch.GetTimestamp();
        var stream = _deployStreams[order.DeployId];
        var output = new DeployOutput(data => stream.Log.Append(data));
        var log = new DeployLog(output, TimeProvider.System, streamCommands: true);
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
                // The agent's own token and TLS files go to its own silos, so a src that is the silo's artifact is read as the agent connects.
                using var siloHttp = SiloHttp();
                using var source = new ArtifactSource(http, new S3SourceOptions(), Environment.GetEnvironmentVariable, new SiloAccess(_settings.Token, _settings.Servers), siloHttp);
                var options = Options(order.Stretch);
                if (options.RandomDelay > TimeSpan.Zero)
                {
                    // Inside the node's timeout: a delay is part of its run, and a cancel ends it.
                    var sleep = TimeSpan.FromTicks(Random.Shared.NextInt64(options.RandomDelay.Ticks));
                    log.Line($"Sleeping {GoDuration.Format(sleep)}");
                    await Task.Delay(sleep, linked.Token).ConfigureAwait(false);
                }
                var runner = new StretchRunner(options, source, log, output, output, Environment.GetEnvironmentVariable, TimeProvider.System);
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
        catch (Exception e) when (e is DeployException or IOException or UnauthorizedAccessException or HttpRequestException or Platform.Client.Tls.TlsSettingsException)
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
        // Sent by the sender loop once every chunk of the output is acknowledged.
        stream.Result = result;
        WakeDeploys();
        try { DeployFinished?.Invoke(result); }
        catch (Exception failure) { LogObserverFailed(_logger, failure); }
    }

    /// <summary>A client for this agent's silos with its CA and client certificate; null when it has no TLS files.</summary>
    private HttpClient? SiloHttp()
    {
        if (_settings.CaFile is null && _settings.CertFile is null) return null;
        var tls = new Platform.Client.Tls.TlsClientSettings { CaFile = _settings.CaFile, CertFile = _settings.CertFile, KeyFile = _settings.KeyFile };
        var client = new HttpClient(tls.Configure(new SocketsHttpHandler { AutomaticDecompression = System.Net.DecompressionMethods.None }, _time)) { Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.UserAgent.ParseAdd("platform-agent");
        return client;
    }

    /// <summary>Stretcher's options as the deploy asks (its defaults where it says nothing), with this agent's cancel grace.</summary>
    private StretchOptions Options(DeployStretchOptions? asked)
    {
        var options = new StretchOptions { CancelGrace = _settings.DeployCancelGrace };
        if (asked is null) return options;
        return options with
        {
            Retry = Math.Max(0, asked.Retry),
            RetryWait = asked.RetryWaitMs is { } wait ? TimeSpan.FromMilliseconds(Math.Max(0, wait)) : options.RetryWait,
            RandomDelay = TimeSpan.FromMilliseconds(Math.Max(0, asked.RandomDelayMs)),
            MaxBandwidth = asked.MaxBandwidth is > 0 ? asked.MaxBandwidth : null,
        };
    }

    private DeployResultFrame ResultFrame(string deployId, ClusterDeployRecord record)
        => new(deployId, Name, record.Status, record.ExitCode, record.DurationMs, record.OutputTail);

    private void QueueDeployFrame(AgentFrame frame)
    {
        _deployFrames.Writer.TryWrite(frame);
        WakeDeploys();
    }

    private void WakeDeploys()
    {
        try { _deployWake.Release(); }
        catch (SemaphoreFullException) { /* the sender is already due to run */ }
    }

    /// <summary>After a welcome: every deploy's output not acknowledged, and every result, goes again on the new connection.</summary>
    private void OnDeployWelcome()
    {
        Interlocked.Increment(ref _deployConnection);
        WakeDeploys();
    }

    /// <summary>
    /// Sends deploy frames in order: queued ones (answers to repeated orders and cancels), then each deploy's output chunks
    /// not sent on this connection, then its result once the output is all acknowledged. Every <see cref="DeployResultResend"/>
    /// the results not acknowledged go again, and so do the chunks of a deploy whose acknowledgements did not move (the silo
    /// that took them may have died while this connection stayed). A new connection starts again from what is acknowledged.
    /// </summary>
    private async Task DeployFramesLoop(CancellationToken stopping)
    {
        var connection = -1;
        var resendAt = _time.GetTimestamp();
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await _deployWake.WaitAsync(DeployResultResend, stopping).ConfigureAwait(false);
                var resend = false;
                if (Volatile.Read(ref _deployConnection) is var current && current != connection)
                {
                    connection = current;
                    resend = true;
                    foreach (var stream in _deployStreams.Values) stream.SentThrough = stream.Log.Acknowledged;
                }
                if (_time.GetElapsedTime(resendAt) >= DeployResultResend)
                {
                    resendAt = _time.GetTimestamp();
                    resend = true;
                    foreach (var stream in _deployStreams.Values)
                    {
                        var acknowledged = stream.Log.Acknowledged;
                        if (acknowledged == stream.AcknowledgedAtCheck && acknowledged < stream.SentThrough) stream.SentThrough = acknowledged;
                        stream.AcknowledgedAtCheck = acknowledged;
                    }
                }
                while (_deployFrames.Reader.TryRead(out var frame)) await _connection.SendAsync(frame, stopping).ConfigureAwait(false);
                foreach (var stream in _deployStreams.Values)
                {
                    foreach (var chunk in stream.Log.After(stream.SentThrough))
                    {
                        if (!await _connection.SendAsync(new DeployLogFrame(stream.DeployId, Name, chunk.Seq, chunk.Offset, chunk.Data), stopping).ConfigureAwait(false)) break;
                        stream.SentThrough = chunk.Seq;
                    }
                    // The result goes after the whole output is stored: once the silo has it, the node's log is complete.
                    if (stream.Result is { } result && (resend || !stream.ResultSent) && stream.Log.Acknowledged == stream.Log.LastSeq)
                    {
                        stream.ResultSent = await _connection.SendAsync(result, stopping).ConfigureAwait(false);
                    }
                }
                if (resend && _deployRecords is { } records)
                {
                    // Results of deploys with no output held here (refused, stopped before they started, run by an earlier agent process).
                    foreach (var (id, record) in records.Unacknowledged())
                        if (!_deployStreams.ContainsKey(id)) await _connection.SendAsync(ResultFrame(id, record), stopping).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (!stopping.IsCancellationRequested)
            {
                // The connection went mid-send (or anything else failed): what is not acknowledged is resent. This loop
                // must outlive any one failure, or no deploy result would ever be sent again.
                LogDeploySendFailed(_logger, e.Message);
            }
        }
    }

    /// <summary>One deploy's output on this node until the silo has its result; only the sender loop touches the sent marks.</summary>
    private sealed class DeployStream(string deployId)
    {
        public string DeployId { get; } = deployId;

        public JobLog Log { get; } = new();

        /// <summary>How the deploy ended; null while it runs.</summary>
        public volatile DeployResultFrame? Result;

        public long SentThrough;
        public long AcknowledgedAtCheck;
        public bool ResultSent;
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
