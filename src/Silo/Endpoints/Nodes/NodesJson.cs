using Platform.Grains.Nodes;

namespace Platform.Silo.Endpoints.Nodes;

/// <summary>The JSON shapes of the nodes API (camelCase on the wire) and its error answer.</summary>
internal static class NodesJson
{
    public static IResult Error(int status, string message) => TypedResults.Json(new ErrorBody(message), statusCode: status);

    public static IResult From(NodeResult result) => result.ErrorKind switch
    {
        NodeErrorKind.None => TypedResults.Ok(Detail(result.Node!)),
        NodeErrorKind.NotFound => Error(StatusCodes.Status404NotFound, result.Error!),
        NodeErrorKind.Conflict => Error(StatusCodes.Status409Conflict, result.Error!),
        NodeErrorKind.Forbidden => Error(StatusCodes.Status403Forbidden, result.Error!),
        _ => Error(StatusCodes.Status400BadRequest, result.Error!),
    };

    public static NodeView View(MemberEntry e) => new(e.Member.Name, e.Member.Addr, e.Member.Port, e.Member.Tags, e.Member.Status, e.Member.Protocol, e.Member.Incarnation, SiloOf(e.Hub), e.Changed);

    public static NodeDetailView Detail(NodeDetail d) => new(d.Member.Name, d.Member.Addr, d.Member.Port, d.Member.Tags, d.Member.Status, d.Member.Protocol,
        d.Member.Incarnation, d.Joined, d.LastSeen, d.StatusChanged, d.Checks, d.LastEventLTime, SiloOf(d.Hub));

    /// <summary>A hub key is the silo's name and a per-start id; the API shows the silo.</summary>
    public static string SiloOf(string hub)
    {
        var slash = hub.LastIndexOf('/');
        return slash < 0 ? hub : hub[..slash];
    }
}

/// <summary>Every error of the nodes API: <c>{"error":"..."}</c>.</summary>
public sealed record ErrorBody(string Error);

/// <summary>A node in a listing; <paramref name="Changed"/>: when the fleet last recorded a change of it (status, address, tags, its connection moving).</summary>
public sealed record NodeView(string Name, string Addr, int Port, IReadOnlyDictionary<string, string> Tags, string Status, int Protocol, long Incarnation, string Silo,
    DateTimeOffset Changed);

/// <summary>One node with everything stored about it.</summary>
public sealed record NodeDetailView(string Name, string Addr, int Port, IReadOnlyDictionary<string, string> Tags, string Status, int Protocol, long Incarnation,
    DateTimeOffset Joined, DateTimeOffset LastSeen, DateTimeOffset StatusChanged, IReadOnlyList<NodeCheck> Checks, ulong LastEventLTime, string Silo);

/// <summary>Body of PUT /v1/nodes/{name}/tags.</summary>
public sealed record TagsUpdate(Dictionary<string, string>? Set, List<string>? Delete);
