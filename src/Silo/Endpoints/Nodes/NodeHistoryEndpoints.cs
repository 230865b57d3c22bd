using System.Globalization;
using Platform.Grains.Nodes;
using Platform.Runtime;

namespace Platform.Silo.Endpoints.Nodes;

/// <summary>A node's history: <c>GET /v1/nodes/{name}/member-events</c>, <c>/deploys</c> and <c>/jobs</c>, newest first (docs/nodes.md, "A node's history").</summary>
public static class NodeHistoryEndpoints
{
    public static IEndpointRouteBuilder MapNodeHistoryEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/nodes/{name}/member-events", MemberEvents);
        app.MapGet("/v1/nodes/{name}/deploys", Deploys);
        app.MapGet("/v1/nodes/{name}/jobs", Jobs);
        return app;
    }

    private static async Task<IResult> MemberEvents(string name, IGrainFactory grains)
    {
        if (await grains.GetGrain<INodeGrain>(name).MemberChanges() is not { } changes) return NotKnown(name);
        changes.Reverse();
        return TypedResults.Ok(changes.Select(c => new MemberEventView(c.Event, c.Status, c.Tags, NodesJson.SiloOf(c.Hub), c.At)));
    }

    private static async Task<IResult> Deploys(string name, HttpRequest request, IGrainFactory grains)
    {
        if (Limit(request, out var limit) is { } bad) return bad;
        var list = await grains.GetGrain<INodeHistoryGrain>(name).Deploys(limit);
        return list.Count == 0 && await Unknown(name, grains) ? NotKnown(name) : TypedResults.Ok(list);
    }

    private static async Task<IResult> Jobs(string name, HttpRequest request, IGrainFactory grains)
    {
        if (Limit(request, out var limit) is { } bad) return bad;
        var list = await grains.GetGrain<INodeHistoryGrain>(name).Jobs(limit);
        return list.Count == 0 && await Unknown(name, grains) ? NotKnown(name) : TypedResults.Ok(list);
    }

    private static async Task<bool> Unknown(string name, IGrainFactory grains) => await grains.GetGrain<INodeGrain>(name).Get() is null;

    private static IResult NotKnown(string name) => NodesJson.Error(StatusCodes.Status404NotFound, $"node '{name}' is not known");

    private static IResult? Limit(HttpRequest request, out int limit)
    {
        limit = NodeHistoryLimits.Kept;
        var text = request.Query["limit"].ToString();
        if (text.Length == 0) return null;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out limit) && limit is >= 1 and <= NodeHistoryLimits.Kept) return null;
        return NodesJson.Error(StatusCodes.Status400BadRequest, $"limit '{text}' is not a number from 1 to {NodeHistoryLimits.Kept}");
    }
}

/// <summary>A membership change of a node: the event, the status and tags after it, the silo holding its connection, when.</summary>
public sealed record MemberEventView(string Event, string Status, IReadOnlyDictionary<string, string> Tags, string Silo, DateTimeOffset At);
