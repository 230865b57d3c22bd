using Platform.Agent.Handlers;
using Platform.Protocol;

namespace Platform.Agent;

public sealed partial class NodeAgent
{
    private void OnUserEvent(UserEventFrame frame)
    {
        if (!_applied.TryBegin(frame.Id, frame.LTime))
        {
            LogUserEventSkipped(_logger, frame.Name, frame.LTime, _applied.Applied);
            return;
        }
        var e = new UserHandlerEvent(frame.Name, frame.Payload, frame.LTime, frame.Coalesce) { Id = frame.Id };
        if (!Matches(frame))
        {
            Complete(e);
            return;
        }
        if (frame.Coalesce && _userCoalescer is { } coalescer) coalescer.Add(e);
        else DispatchUser(e);
    }

    private void DispatchUser(UserHandlerEvent e) => Dispatch(e, (_, _) => { Complete(e); return Task.CompletedTask; });

    private void Superseded(UserHandlerEvent e)
    {
        LogUserEventCoalesced(_logger, e.Name, e.LTime);
        Complete(e);
    }

    private void Complete(UserHandlerEvent e)
    {
        ulong? mark;
        try { mark = _applied.Complete(e.Id); }
        catch (Exception failure) when (failure is IOException or UnauthorizedAccessException)
        {
            // Not on disk means not applied: the event comes again after a restart rather than being lost.
            LogAppliedNotSaved(_logger, e.LTime, failure.Message);
            return;
        }
        if (mark is not { } applied) return;
        try { Applied?.Invoke(applied); }
        catch (Exception failure) { LogObserverFailed(_logger, failure); }
        _connection.ReportApplied(applied);
    }

    /// <summary>The event's node and tag filters (<see cref="UserEventFilter"/>); a filter that cannot be compiled matches nothing.</summary>
    private bool Matches(UserEventFrame frame)
    {
        if (string.IsNullOrEmpty(frame.NodeFilter) && string.IsNullOrEmpty(frame.TagFilter)) return true;
        if (!UserEventFilter.TryCreate(frame.NodeFilter, frame.TagFilter, out var filter, out var error))
        {
            LogBadFilter(_logger, frame.Name, frame.NodeFilter + " " + frame.TagFilter, error!);
            return false;
        }
        return filter is null || filter.Matches(Name, Tags);
    }
}
