using Platform.Agent.Handlers;
using Platform.Protocol;

namespace Platform.Agent;

public sealed partial class NodeAgent
{
    private async ValueTask OnQueryAsync(QueryFrame frame)
    {
        // Serf acks on receipt, before any handler runs.
        if (frame.RequestAck) await _connection.SendAsync(new QueryAckFrame(frame.Id)).ConfigureAwait(false);
        var deadline = _time.GetUtcNow() + TimeSpan.FromMilliseconds(Math.Max(0, frame.TimeoutMs));
        Dispatch(new QueryHandlerEvent(frame.Id, frame.Name, frame.Payload, frame.LTime, deadline), RespondAsync);
    }

    /// <summary>Serf's rule: the first handler that exits 0 having written something answers, once, before the deadline and within the size limit.</summary>
    private async Task RespondAsync(HandlerEvent e, IReadOnlyList<HandlerResult> results)
    {
        var query = (QueryHandlerEvent)e;
        var responded = false;
        foreach (var result in results)
        {
            if (!result.Succeeded || result.OutputWritten == 0) continue;
            if (responded)
            {
                LogQueryNotAnswered(_logger, query.Name, result.Script.Script, "response already sent");
                continue;
            }
            if (_time.GetUtcNow() > query.Deadline)
            {
                LogQueryNotAnswered(_logger, query.Name, result.Script.Script, "response is past the deadline");
                continue;
            }
            if (result.Output.Length > _settings.QueryResponseSizeLimit)
            {
                LogQueryNotAnswered(_logger, query.Name, result.Script.Script, $"response exceeds limit of {_settings.QueryResponseSizeLimit} bytes");
                continue;
            }
            responded = true;
            if (!await _connection.SendAsync(new QueryResponseFrame(query.Id, result.Output)).ConfigureAwait(false))
                LogQueryNotAnswered(_logger, query.Name, result.Script.Script, "no connection to the silo");
        }
    }
}
