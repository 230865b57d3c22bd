using System.Threading.Channels;
using Platform.Grains.Nodes;

namespace Platform.Silo.Agents;

/// <summary>
/// Gathers one query's acks and responses on the silo that received it (an object reference the hubs call) and hands
/// them to the HTTP response as they come; knows when every node the query reached has answered.
/// </summary>
public sealed class QueryCollector(bool wantAcks) : IQueryCollector
{
    private readonly Lock _lock = new();
    private readonly Channel<QueryAnswer> _answers = Channel.CreateUnbounded<QueryAnswer>(new UnboundedChannelOptions { SingleReader = true });
    private readonly HashSet<string> _delivered = new(StringComparer.Ordinal);
    private readonly HashSet<string> _acked = new(StringComparer.Ordinal);
    private readonly HashSet<string> _responded = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _complete = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _hubsReported;
    private int _hubsExpected = -1;

    /// <summary>Acks and responses, in arrival order.</summary>
    public ChannelReader<QueryAnswer> Answers => _answers.Reader;

    /// <summary>Completes once every hub said where it sent the query and every node it reached responded (and acked, if asked).</summary>
    public Task Complete => _complete.Task;

    public int Acks
    {
        get { lock (_lock) return _acked.Count; }
    }

    public int Responses
    {
        get { lock (_lock) return _responded.Count; }
    }

    /// <summary>How many hubs the fleet sent the query to.</summary>
    public void ExpectHubs(int hubs)
    {
        lock (_lock)
        {
            _hubsExpected = hubs;
            CheckComplete();
        }
    }

    public Task OnDelivered(string hub, List<string> nodes)
    {
        lock (_lock)
        {
            _hubsReported++;
            foreach (var n in nodes) _delivered.Add(n);
            CheckComplete();
        }
        return Task.CompletedTask;
    }

    public Task OnAck(string from)
    {
        lock (_lock)
        {
            if (!wantAcks || !_acked.Add(from)) return Task.CompletedTask;
            _answers.Writer.TryWrite(new QueryAnswer("ack", from, null));
            CheckComplete();
        }
        return Task.CompletedTask;
    }

    public Task OnResponse(string from, byte[] payload)
    {
        lock (_lock)
        {
            // Serf keeps the first response of each node.
            if (!_responded.Add(from)) return Task.CompletedTask;
            _answers.Writer.TryWrite(new QueryAnswer("response", from, payload));
            CheckComplete();
        }
        return Task.CompletedTask;
    }

    /// <summary>Under the lock.</summary>
    private void CheckComplete()
    {
        if (_hubsExpected < 0 || _hubsReported < _hubsExpected) return;
        foreach (var node in _delivered)
            if (!_responded.Contains(node) || (wantAcks && !_acked.Contains(node))) return;
        _complete.TrySetResult();
    }
}

/// <summary>One line of a query's answer: an ack or a response from a node.</summary>
public sealed record QueryAnswer(string Type, string From, byte[]? Payload);
