using System.Globalization;
using Platform.Protocol;
using Platform.Silo.Agents;

namespace Platform.Silo.Endpoints.Nodes;

/// <summary>/v1/events: fire a user event (Serf's rules: size limit, '_' reserved) and read the history.</summary>
public static class EventsEndpoints
{
    public static IEndpointRouteBuilder MapEventsEndpoints(this IEndpointRouteBuilder app)
    {
        var events = app.MapGroup("/v1/events");
        events.MapPost("/{name}", Fire);
        events.MapGet("", History);
        return app;
    }

    private static async Task<IResult> Fire(string name, HttpRequest request, AgentHub hub)
    {
        var coalesceText = request.Query["coalesce"].ToString();
        var coalesce = true;
        if (coalesceText.Length != 0 && !bool.TryParse(coalesceText, out coalesce))
            return NodesJson.Error(400, $"coalesce '{coalesceText}' is not true or false");
        var nodeFilter = request.Query["node"].FirstOrDefault() is { Length: > 0 } node ? node : null;
        var tagFilter = request.Query["tag"].FirstOrDefault() is { Length: > 0 } tag ? tag : null;
        if (!UserEventFilter.TryCreate(nodeFilter, tagFilter, out _, out var badFilter)) return NodesJson.Error(400, badFilter!);
        var limit = hub.Options.UserEventSizeLimit;
        var payload = await NodesBody.ReadAsync(request, limit + 1);
        if (UserEvents.Validate(name, payload, limit) is { } invalid) return NodesJson.Error(400, invalid);
        var fired = await hub.Fleet.FireEvent(name, payload, coalesce, nodeFilter, tagFilter);
        return TypedResults.Ok(new FiredEvent(fired.Id, fired.Name, fired.LTime));
    }

    private static async Task<IResult> History(HttpRequest request, AgentHub hub)
    {
        var afterText = request.Query["after"].ToString();
        ulong after = 0;
        if (afterText.Length != 0 && !ulong.TryParse(afterText, NumberStyles.None, CultureInfo.InvariantCulture, out after))
            return NodesJson.Error(400, $"after '{afterText}' is not a Lamport time; expected a whole number such as 42");
        var name = request.Query["name"].ToString();
        var events = await hub.Fleet.UserEvents(after);
        var views = new List<EventView>(events.Count);
        foreach (var e in events)
            if (name.Length == 0 || e.Name == name) views.Add(new EventView(e.Id, e.Name, e.Payload, e.LTime, e.Coalesce, e.At, e.NodeFilter, e.TagFilter));
        return TypedResults.Ok(views);
    }
}

/// <summary>The answer to firing an event.</summary>
public sealed record FiredEvent(string Id, string Name, ulong LTime);

/// <summary>A user event in the history; the payload is base64 in JSON; the filters are null when it went to every node.</summary>
public sealed record EventView(string Id, string Name, byte[] Payload, ulong LTime, bool Coalesce, DateTimeOffset At, string? NodeFilter, string? TagFilter);
