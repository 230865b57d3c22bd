using System.Text.Json;
using System.Text.RegularExpressions;
using Platform.Grains.Nodes;
using Platform.Protocol;

namespace Platform.Silo.Agents;

/// <summary>Queries: matching local agents by name and tag regexps, and forwarding their acks and responses to the query's collector.</summary>
public sealed partial class AgentHub
{
    private readonly Dictionary<string, ActiveQuery> _queries = new(StringComparer.Ordinal);

    /// <summary>Compiles a query's tag filters once; throws <see cref="ArgumentException"/> naming the tag whose regexp does not compile.</summary>
    public static List<(string Tag, Regex Expr)> CompileTagFilters(IReadOnlyDictionary<string, string> tags)
    {
        var compiled = new List<(string, Regex)>(tags.Count);
        foreach (var (tag, expr) in tags)
        {
            try
            {
                compiled.Add((tag, new Regex(expr, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100))));
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"tag filter '{tag}={expr}' is not a valid regular expression: {e.Message}", e);
            }
        }
        return compiled;
    }

    /// <summary>A query from the fleet: sent (the same bytes) to every local agent it matches; the collector hears which.</summary>
    public Task OnQuery(FleetQuery query, IQueryCollector collector)
    {
        List<(string Tag, Regex Expr)> tags;
        try
        {
            tags = CompileTagFilters(query.Tags);
        }
        catch (ArgumentException e)
        {
            // The receiving silo checked the filters already; a hub never guesses what a bad one meant.
            LogQueryFilterBroken(_logger, query.Id, e.Message);
            Forward(collector.OnDelivered(HubKey, []));
            return Task.CompletedTask;
        }
        var names = query.Nodes.Count == 0 ? null : new HashSet<string>(query.Nodes, StringComparer.Ordinal);
        var active = new ActiveQuery(collector, Environment.TickCount64 + query.TimeoutMs + 1000);
        lock (_queries) _queries[query.Id] = active;
        var frame = AgentProtocol.Encode(new QueryFrame(query.Id, query.Name, query.Payload, query.LTime, query.Ack, query.TimeoutMs));
        var delivered = new List<string>();
        foreach (var connection in Volatile.Read(ref _all))
        {
            if (!connection.Accepted || connection.Ended) continue;
            if (names is not null && !names.Contains(connection.Name)) continue;
            if (!MatchesTags(connection.Tags, tags)) continue;
            connection.Send(frame);
            delivered.Add(connection.Name);
        }
        Forward(collector.OnDelivered(HubKey, delivered));
        Monitor.Publish(JsonSerializer.SerializeToUtf8Bytes(new MonitorLine("query", null, null, query.Name, query.LTime, query.Id, query.Payload), MonitorLine.Json));
        return Task.CompletedTask;
    }

    /// <summary>Serf's rule: every tag filter must match the node's value of that tag (a missing tag is the empty string).</summary>
    private static bool MatchesTags(IReadOnlyDictionary<string, string> nodeTags, List<(string Tag, Regex Expr)> filters)
    {
        foreach (var (tag, expr) in filters)
        {
            var value = nodeTags.TryGetValue(tag, out var v) ? v : "";
            try
            {
                if (!expr.IsMatch(value)) return false;
            }
            catch (RegexMatchTimeoutException)
            {
                return false;
            }
        }
        return true;
    }

    private ActiveQuery? FindQuery(string id)
    {
        lock (_queries) return _queries.TryGetValue(id, out var q) ? q : null;
    }

    private void OnQueryResponse(AgentConnection connection, QueryResponseFrame response)
    {
        if (FindQuery(response.QueryId) is not { } query) return;
        var size = response.Payload?.Length ?? 0;
        if (size > _options.QueryResponseSizeLimit)
        {
            LogQueryResponseTooLarge(_logger, connection.Name, response.QueryId, size, _options.QueryResponseSizeLimit);
            return;
        }
        Forward(query.Collector.OnResponse(connection.Name, response.Payload ?? []));
    }

    private void ExpireQueries(long now)
    {
        lock (_queries)
        {
            if (_queries.Count == 0) return;
            List<string>? done = null;
            foreach (var (id, q) in _queries)
                if (now > q.Deadline) (done ??= []).Add(id);
            if (done is not null)
                foreach (var id in done) _queries.Remove(id);
        }
    }

    private sealed record ActiveQuery(IQueryCollector Collector, long Deadline);

    [LoggerMessage(EventId = 3215, Level = LogLevel.Warning, Message = "agent hub: query {Id}: {Error}; sent to no node here")]
    private static partial void LogQueryFilterBroken(ILogger logger, string id, string error);

    [LoggerMessage(EventId = 3216, Level = LogLevel.Warning, Message = "agent hub: node {Name}'s response to query {Id} is {Size} bytes; the limit is {Limit} bytes; dropped")]
    private static partial void LogQueryResponseTooLarge(ILogger logger, string name, string id, int size, int limit);
}
