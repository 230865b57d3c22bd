using Platform.Protocol;

namespace Platform.Agent.Handlers;

/// <summary>An event as handlers see it: <see cref="Type"/> is the value of <c>SERF_EVENT</c>.</summary>
public abstract record HandlerEvent(string Type);

/// <summary>A member event, coalesced: every member whose latest change is of <see cref="HandlerEvent.Type"/>.</summary>
public sealed record MemberHandlerEvent(string Type, IReadOnlyList<MemberInfo> Members) : HandlerEvent(Type);

/// <summary>A user event (<c>SERF_USER_EVENT</c>, <c>SERF_USER_LTIME</c>; the payload on stdin).</summary>
public sealed record UserHandlerEvent(string Name, byte[] Payload, ulong LTime, bool Coalesce) : HandlerEvent("user")
{
    /// <summary>The event's id from the silo (what exactly-once is tracked by).</summary>
    public string Id { get; init; } = "";
}

/// <summary>A query (<c>SERF_QUERY_NAME</c>, <c>SERF_QUERY_LTIME</c>); the handler's output is its response.</summary>
public sealed record QueryHandlerEvent(string Id, string Name, byte[] Payload, ulong LTime, DateTimeOffset Deadline) : HandlerEvent("query");
