namespace Platform.Silo.Agents;

/// <summary>Welcomes share one encoded member list per fleet version; applied reports are written in the background.</summary>
public sealed partial class AgentHub
{
    /// <summary>An agent's applied mark is written to its node grain at most this often (and when its connection ends).</summary>
    private const long AppliedWriteIntervalMs = 2000;

    private (long FanOuts, Task<byte[]> Json)? _welcomeMembers;

    /// <summary>
    /// The member list for a welcome. It is fetched and encoded once and shared until the next fan-out starts: a fan-out
    /// that started before the fetch carried an event the fleet had already applied, so the list has it; every later one
    /// reaches the connection being welcomed, which was registered before this call.
    /// </summary>
    private Task<byte[]> WelcomeMembersAsync()
    {
        var fanOuts = Interlocked.Read(ref _fanOuts);
        lock (_lock)
        {
            if (_welcomeMembers is { } cached && cached.FanOuts == fanOuts && !cached.Json.IsFaulted) return cached.Json;
            var fetch = FetchMembersAsync();
            _welcomeMembers = (fanOuts, fetch);
            return fetch;
        }
    }

    private async Task<byte[]> FetchMembersAsync()
    {
        await Task.Yield();
        return _memberJson.EncodeList(await Fleet.Members());
    }

    /// <summary>Writes the connection's applied mark if it moved since the last write (before its end is reported: a later session ignores it).</summary>
    private async Task WriteApplied(AgentConnection connection)
    {
        if (connection.TakeAppliedDue(long.MaxValue, 0) is not { } applied) return;
        try
        {
            await Node(connection.Name).Applied(connection.Session, applied);
        }
        catch (Exception e)
        {
            LogAppliedMarkNotWritten(_logger, e, connection.Name);
        }
    }

    [LoggerMessage(EventId = 3217, Level = LogLevel.Debug, Message = "agent hub: writing node {Name}'s applied mark failed; its agent reports it again in its next hello")]
    private static partial void LogAppliedMarkNotWritten(ILogger logger, Exception? exception, string name);
}
