using Platform.Grains.Access;
using Platform.Runtime.Hosting;

namespace Platform.Silo.Access;

/// <summary>
/// The audit log that features call for what must be traceable to a token (events fired, queries run, token changes,
/// deploys, builds): a log line without secrets and a durable entry in the cluster's audit grain.
/// </summary>
public sealed partial class AuditLog(GrainRuntime runtime, ILogger<AuditLog> logger) : Platform.Grains.Rules.IRuleActionAudit
{
    /// <summary>What a rule's action started (no address: no request carried it).</summary>
    Task Platform.Grains.Rules.IRuleActionAudit.RecordAsync(string actor, string action, string target, CancellationToken cancellationToken)
        => RecordAsync(actor, action, target, null, cancellationToken);

    /// <summary>Records that <paramref name="actor"/> did <paramref name="action"/> (<c>deploy.start</c>, …) on <paramref name="target"/>; durable when it returns.</summary>
    public async Task RecordAsync(string actor, string action, string target, string? address, CancellationToken cancellationToken = default)
    {
        LogAudit(logger, actor, action, target, address ?? "-");
        try
        {
            await runtime.GetGrain<IAuditGrain>("default")
                .Append(new AuditEntry(DateTimeOffset.UtcNow, actor, action, target, address, runtime.Options.SiloName))
                .WaitAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogAppendFailed(logger, action, target, e);
        }
    }

    /// <summary>Records what the request <paramref name="context"/> did, with its token's name and client address.</summary>
    public Task RecordAsync(HttpContext context, string action, string target)
        => RecordAsync(AccessMiddleware.ActorOf(context), action, target, context.Connection.RemoteIpAddress?.ToString(), context.RequestAborted);

    /// <summary>The latest <paramref name="count"/> entries, oldest first.</summary>
    public Task<List<AuditEntry>> RecentAsync(int count) => runtime.GetGrain<IAuditGrain>("default").Recent(count);

    [LoggerMessage(EventId = 3110, Level = LogLevel.Information, Message = "audit: {Actor} {Action} {Target} from {Address}")]
    private static partial void LogAudit(ILogger logger, string actor, string action, string target, string address);

    [LoggerMessage(EventId = 3111, Level = LogLevel.Error, Message = "audit: storing the entry for {Action} {Target} failed; the log line above is its only record")]
    private static partial void LogAppendFailed(ILogger logger, string action, string target, Exception error);
}
