using Platform.Grains.Keys;

namespace Platform.Silo.Endpoints.Etcd;

/// <summary>
/// Serves one <c>/v2/keys</c> request for both front ends (the fast path and <see cref="EtcdEndpoints"/>): parses it
/// as etcd does, checks access, runs the store operation or registers the watch, and answers one <see cref="EtcdReply"/>.
/// </summary>
internal sealed partial class EtcdKeysHandler(KeyWatchHub hub, ILogger<EtcdKeysHandler> logger)
{
    /// <summary>The watch hub the facade's watches wait on.</summary>
    public KeyWatchHub Hub => hub;

    /// <summary>
    /// Answers <paramref name="method"/> on <paramref name="path"/> (the target's path, %-decoded once) with
    /// <paramref name="form"/>. A watch that waits is the caller's to dispose; with <c>stream=true</c> a watch found in
    /// the history is such a watch too, so that a streaming reply starts with its head.
    /// </summary>
    public async ValueTask<EtcdReply> HandleAsync(string method, string path, EtcdForm form, string? authorization, CancellationToken cancellationToken = default)
    {
        EtcdKeysRequest parsed;
        try
        {
            parsed = EtcdKeysRequest.Parse(method, EtcdEndpoints.RawKey(path), form);
        }
        catch (KeyException e)
        {
            return EtcdReply.Error(e);
        }

        if (parsed.Operation is { } operation)
        {
            KeyResult result;
            try
            {
                result = await hub.ExecuteAsync(operation);
            }
            catch (Exception failure) when (!cancellationToken.IsCancellationRequested)
            {
                // The keyspace is moving (its silo died) or unreachable: etcd's answer for a cluster that cannot commit.
                return Unavailable(failure, method, parsed.Key);
            }
            if (result.Failed) return EtcdReply.Error(result.ErrorCode, result.ErrorCause, result.ErrorIndex);
            var e = result.Event!;
            // A watch this client makes next, on this silo, must not wake for its own write.
            if (operation.Op != KeyOp.Get) await hub.WaitSeenAsync(e.Index, cancellationToken);
            return EtcdReply.Event(e, result.Term, parsed.NoValueOnSuccess);
        }

        KeyWatch watch;
        try
        {
            watch = await hub.WatchAsync(parsed.Key, parsed.Recursive, parsed.WaitIndex, cancellationToken: cancellationToken);
        }
        catch (KeyException e)
        {
            return EtcdReply.Error(e);
        }
        catch (Exception failure) when (!cancellationToken.IsCancellationRequested)
        {
            return Unavailable(failure, method, parsed.Key);
        }
        if (!parsed.Stream && watch.Event.IsCompletedSuccessfully && watch.Event.Result is { } ready)
        {
            // Found in the history: answered at once.
            watch.Dispose();
            return EtcdReply.Watched(watch.StartIndex, hub.Term, EtcdEventBytes.Of(ready).Body);
        }
        return EtcdReply.Waiting(watch, hub.Term, parsed.Stream);
    }

    /// <summary>
    /// etcd's answer for a cluster that cannot commit. A storage outage says only that (its detail is the storage
    /// monitor's to log, once per outage); anything else is logged here with its exception.
    /// </summary>
    private EtcdReply Unavailable(Exception failure, string method, string key)
    {
        if (Platform.Runtime.StorageUnavailableException.IsCauseOf(failure))
            return EtcdReply.Error(KeyErrorCode.RaftInternal, $"the keyspace is unavailable: {Platform.Runtime.StorageUnavailableException.ClientMessage}", hub.LastIndex);
        LogKeyspaceUnavailable(logger, failure, method, key);
        return EtcdReply.Error(KeyErrorCode.RaftInternal, $"the keyspace is unavailable: {failure.Message}", hub.LastIndex);
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "etcd {Method} {Key}: the keyspace is unavailable; answered error 300")]
    private static partial void LogKeyspaceUnavailable(ILogger logger, Exception failure, string method, string key);
}
