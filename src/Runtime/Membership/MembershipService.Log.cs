using Microsoft.Extensions.Logging;

namespace Platform.Runtime.Membership;

/// <summary>Log messages of the membership service (event ids 1301–1399).</summary>
public sealed partial class MembershipService
{
    [LoggerMessage(EventId = 1301, Level = LogLevel.Information, Message = "Joined cluster {ClusterId} as {Silo} (table version {Version})")]
    private partial void LogJoined(string clusterId, SiloAddress silo, int version);

    [LoggerMessage(EventId = 1302, Level = LogLevel.Information, Message = "Silo {Silo} is now {Status} (table version {Version})")]
    private partial void LogOwnStatus(SiloAddress silo, SiloStatus status, int version);

    [LoggerMessage(EventId = 1303, Level = LogLevel.Warning, Message = "Marked {Old} Dead: an older incarnation of the endpoint that {Silo} now uses")]
    private partial void LogOlderIncarnationDead(SiloAddress old, SiloAddress silo);

    [LoggerMessage(EventId = 1304, Level = LogLevel.Information, Message = "View changed to table version {Version}: {Active} active of {Members} members")]
    private partial void LogViewChanged(int version, int active, int members);

    [LoggerMessage(EventId = 1305, Level = LogLevel.Warning, Message = "Suspecting {Suspect}: {Reason} ({Votes} of {Needed} fresh votes needed; table version {Version})")]
    private partial void LogSuspected(SiloAddress suspect, string reason, int votes, int needed, int version);

    [LoggerMessage(EventId = 1306, Level = LogLevel.Warning, Message = "Declared {Suspect} Dead: {Reason} ({Votes} fresh votes; table version {Version})")]
    private partial void LogDeclaredSiloDead(SiloAddress suspect, string reason, int votes, int version);

    [LoggerMessage(EventId = 1307, Level = LogLevel.Error, Message = "This silo {Silo} was declared Dead by the cluster ({Why}, table version {Version}); stopping its membership")]
    private partial void LogDeclaredDead(SiloAddress silo, string why, int version);

    [LoggerMessage(EventId = 1308, Level = LogLevel.Warning, Message = "Membership failed {Operation} ({Failures} in a row); keeping the view of table version {Version} and declaring nobody dead meanwhile")]
    private partial void LogLoopFailed(string operation, int failures, int version, Exception e);

    [LoggerMessage(EventId = 1316, Level = LogLevel.Warning, Message = "Membership failed {Operation} ({Failures} in a row); keeping the view of table version {Version} and declaring nobody dead meanwhile: {Detail}")]
    private partial void LogLoopFailedForStorage(string operation, int failures, int version, string detail);

    [LoggerMessage(EventId = 1309, Level = LogLevel.Information, Message = "Membership {Operation} works again after {Failures} failures")]
    private partial void LogLoopRecovered(string operation, int failures);

    [LoggerMessage(EventId = 1310, Level = LogLevel.Debug, Message = "Probe of {Target} missed ({Missed} in a row)")]
    private partial void LogProbeMissed(SiloAddress target, int missed);

    [LoggerMessage(EventId = 1311, Level = LogLevel.Debug, Message = "Probe of {Target} failed: {Error}")]
    private partial void LogProbeFailed(SiloAddress target, string error);

    [LoggerMessage(EventId = 1315, Level = LogLevel.Information, Message = "Probe of {Target} gave up after {Took} ms instead of {Timeout} ms: this silo was stalled, so the probe counts neither way")]
    private partial void LogProbeNoVerdict(SiloAddress target, long took, long timeout);

    [LoggerMessage(EventId = 1312, Level = LogLevel.Information, Message = "Removed {Count} Dead rows older than {Age}")]
    private partial void LogCleanedUp(int count, TimeSpan age);

    [LoggerMessage(EventId = 1313, Level = LogLevel.Warning, Message = "A ViewChanged handler failed on table version {Version}")]
    private partial void LogViewHandlerFailed(int version, Exception e);

    [LoggerMessage(EventId = 1314, Level = LogLevel.Warning, Message = "A SelfDeclaredDead handler failed")]
    private partial void LogSelfDeclaredDeadHandlerFailed(Exception e);

    [LoggerMessage(EventId = 1317, Level = LogLevel.Information, Message = "Checking {Peer} after its connection broke failed: {Error}; the probe rounds judge it")]
    private partial void LogLostPeerCheckFailed(SiloAddress peer, string error);
}
