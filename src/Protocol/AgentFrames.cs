using System.Text.Json.Serialization;

namespace Platform.Protocol;

/// <summary>
/// One message of the agent protocol: a WebSocket text message at <c>GET /v1/agent/connect</c> holding one JSON
/// object whose <c>type</c> says which frame it is. The whole protocol is described in docs/nodes.md.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type", UnknownDerivedTypeHandling = JsonUnknownDerivedTypeHandling.FailSerialization)]
[JsonDerivedType(typeof(HelloFrame), "hello")]
[JsonDerivedType(typeof(PingFrame), "ping")]
[JsonDerivedType(typeof(AppliedFrame), "applied")]
[JsonDerivedType(typeof(QueryAckFrame), "query-ack")]
[JsonDerivedType(typeof(QueryResponseFrame), "query-response")]
[JsonDerivedType(typeof(TagsFrame), "tags")]
[JsonDerivedType(typeof(CheckFrame), "check")]
[JsonDerivedType(typeof(ChecksFrame), "checks")]
[JsonDerivedType(typeof(LeaveFrame), "leave")]
[JsonDerivedType(typeof(WelcomeFrame), "welcome")]
[JsonDerivedType(typeof(RefusedFrame), "refused")]
[JsonDerivedType(typeof(PongFrame), "pong")]
[JsonDerivedType(typeof(MemberEventFrame), "member")]
[JsonDerivedType(typeof(MembersFrame), "members")]
[JsonDerivedType(typeof(UserEventFrame), "user")]
[JsonDerivedType(typeof(QueryFrame), "query")]
[JsonDerivedType(typeof(JobCapacityFrame), "job-capacity")]
[JsonDerivedType(typeof(JobStartedFrame), "job-started")]
[JsonDerivedType(typeof(JobPipelineFrame), "job-pipeline")]
[JsonDerivedType(typeof(JobLogFrame), "job-log")]
[JsonDerivedType(typeof(JobDoneFrame), "job-done")]
[JsonDerivedType(typeof(JobFrame), "job")]
[JsonDerivedType(typeof(JobCancelFrame), "job-cancel")]
[JsonDerivedType(typeof(JobLogAckFrame), "job-log-ack")]
[JsonDerivedType(typeof(JobDoneAckFrame), "job-done-ack")]
[JsonDerivedType(typeof(DeployFrame), "deploy")]
[JsonDerivedType(typeof(DeployCancelFrame), "deploy-cancel")]
[JsonDerivedType(typeof(DeployResultAckFrame), "deploy-result-ack")]
[JsonDerivedType(typeof(DeployLogAckFrame), "deploy-log-ack")]
[JsonDerivedType(typeof(DeployLogFrame), "deploy-log")]
[JsonDerivedType(typeof(DeployResultFrame), "deploy-result")]
public abstract record AgentFrame;

// ---- agent → silo ----

/// <summary>
/// The agent's first frame: who it is. <see cref="AgentId"/> is new for every agent process, so a reconnect of the same
/// process is told apart from a second agent claiming the name. <see cref="MemberEvents"/> false: the agent runs no
/// member handler, so its welcome carries no member list and no member event is sent to it (a join then costs the silo
/// one send, not one per connected agent); absent means true. <see cref="ScriptChecks"/>: the agent's configuration sets
/// <c>enable_script_checks</c>, so it runs script checks registered through the API (the silo refuses them otherwise).
/// <see cref="ApiChecks"/>: the agent runs checks registered through the API, so the silo sends it the registered set
/// after the welcome even when that set is now empty.
/// </summary>
public sealed record HelloFrame(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("addr")] string Addr,
    [property: JsonPropertyName("port")] int Port,
    [property: JsonPropertyName("tags")] IReadOnlyDictionary<string, string> Tags,
    [property: JsonPropertyName("agent_id")] string AgentId,
    [property: JsonPropertyName("protocol")] int Protocol,
    [property: JsonPropertyName("last_event_ltime")] ulong LastEventLTime,
    [property: JsonPropertyName("checks")] IReadOnlyList<CheckState>? Checks = null,
    [property: JsonPropertyName("member_events")] bool MemberEvents = true,
    // Left out when false: most agents have neither, and a reconnect storm sends every hello at once.
    [property: JsonPropertyName("script_checks"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] bool ScriptChecks = false,
    [property: JsonPropertyName("api_checks"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] bool ApiChecks = false) : AgentFrame;

/// <summary>
/// Liveness: sent every heartbeat interval; the silo answers <see cref="PongFrame"/> with the same sequence number when it
/// has sent the agent nothing for the welcome's <see cref="WelcomeFrame.PongAfterMs"/>.
/// <paramref name="Applied"/>, when not 0, is the agent's applied mark (as <see cref="AppliedFrame"/>), carried by the
/// next ping after user events were handled rather than in a frame of its own per event.
/// </summary>
public sealed record PingFrame(
    [property: JsonPropertyName("seq")] long Seq,
    [property: JsonPropertyName("applied"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] ulong Applied = 0) : AgentFrame;

/// <summary>The agent has handled every user event up to <see cref="LTime"/> (kept on its disk too).</summary>
public sealed record AppliedFrame([property: JsonPropertyName("ltime")] ulong LTime) : AgentFrame;

/// <summary>The node received query <see cref="QueryId"/> (sent only when the query asks for acks).</summary>
public sealed record QueryAckFrame([property: JsonPropertyName("query_id")] string QueryId) : AgentFrame;

/// <summary>The node's answer to a query: its handler's output.</summary>
public sealed record QueryResponseFrame(
    [property: JsonPropertyName("query_id")] string QueryId,
    [property: JsonPropertyName("payload")] byte[] Payload) : AgentFrame;

/// <summary>Agent → silo: the agent's tags changed locally (tags file, reload). Silo → agent: the node's tags were changed through the API; the agent adopts them (and writes its tags file, as Serf does).</summary>
public sealed record TagsFrame([property: JsonPropertyName("tags")] IReadOnlyDictionary<string, string> Tags) : AgentFrame;

/// <summary>A health check changed state.</summary>
public sealed record CheckFrame([property: JsonPropertyName("check")] CheckState Check) : AgentFrame;

/// <summary>Agent → silo: a graceful leave (the node goes leaving, then left, never failed); the agent waits for the socket to close. Silo → agent: leave now (platform leave).</summary>
public sealed record LeaveFrame : AgentFrame;

// ---- silo → agent ----

/// <summary>
/// The silo accepted the hello: the node as registered, every member the cluster knows, and the liveness rules: ping
/// every <see cref="HeartbeatIntervalMs"/>; the silo fails a node silent for <see cref="HeartbeatTimeoutMs"/>, and answers
/// a ping only after <see cref="PongAfterMs"/> in which it sent the agent nothing.
/// </summary>
public sealed record WelcomeFrame(
    [property: JsonPropertyName("self")] MemberInfo Self,
    [property: JsonPropertyName("members")] IReadOnlyList<MemberInfo> Members,
    [property: JsonPropertyName("heartbeat_interval_ms")] int HeartbeatIntervalMs,
    [property: JsonPropertyName("heartbeat_timeout_ms")] int HeartbeatTimeoutMs,
    [property: JsonPropertyName("silo")] string Silo,
    // 0 (a silo that does not say): every ping is answered.
    [property: JsonPropertyName("pong_after_ms")] int PongAfterMs = 0) : AgentFrame;

/// <summary>
/// Every check registered for the node through the API (<c>PUT /v1/agent/check/register</c>), as Consul definitions: the
/// agent runs exactly these besides its configuration's checks. Sent after the welcome and on every change;
/// <see cref="Version"/> grows with each change, so a set overtaken by a newer one is ignored.
/// </summary>
public sealed record ChecksFrame(
    [property: JsonPropertyName("version")] long Version,
    [property: JsonPropertyName("checks")] IReadOnlyList<RegisteredCheck> Checks) : AgentFrame;

/// <summary>A check registered through the API: its id and its definition as the caller sent it (Consul's JSON).</summary>
public sealed record RegisteredCheck(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("definition")] string Definition);

/// <summary>The silo refused the hello (duplicate name, bad input, missing certificate); the socket closes after it.</summary>
public sealed record RefusedFrame([property: JsonPropertyName("error")] string Error) : AgentFrame;

/// <summary>Answer to <see cref="PingFrame"/> from a silo that has been quiet: lets the agent notice a silo that hangs.</summary>
public sealed record PongFrame([property: JsonPropertyName("seq")] long Seq) : AgentFrame;

/// <summary>A member changed: <see cref="Event"/> is member-join, member-leave, member-failed, member-update or member-reap.</summary>
public sealed record MemberEventFrame(
    [property: JsonPropertyName("event")] string Event,
    [property: JsonPropertyName("member")] MemberInfo Member) : AgentFrame;

/// <summary>Several member events in the fleet's order, in one message: the silo batches the member events that arrive together (a join ramp, a rack failing) instead of sending one message each.</summary>
public sealed record MembersFrame([property: JsonPropertyName("events")] IReadOnlyList<MemberEventFrame> Events) : AgentFrame;

/// <summary>A user event, ordered by its Lamport time. <see cref="NodeFilter"/>/<see cref="TagFilter"/>: Consul's regexp filters, applied by the agent.</summary>
public sealed record UserEventFrame(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("payload")] byte[] Payload,
    [property: JsonPropertyName("ltime")] ulong LTime,
    [property: JsonPropertyName("coalesce")] bool Coalesce,
    [property: JsonPropertyName("node_filter")] string? NodeFilter = null,
    [property: JsonPropertyName("tag_filter")] string? TagFilter = null) : AgentFrame;

/// <summary>A query for this node (the silo already matched its node and tag filters): ack if <see cref="RequestAck"/>, run the handler, respond before <see cref="TimeoutMs"/> ends.</summary>
public sealed record QueryFrame(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("payload")] byte[] Payload,
    [property: JsonPropertyName("ltime")] ulong LTime,
    [property: JsonPropertyName("ack")] bool RequestAck,
    [property: JsonPropertyName("timeout_ms")] int TimeoutMs) : AgentFrame;

// ---- shared shapes ----

/// <summary>A member as agents see it (Serf's member: name, address, port, tags, status).</summary>
public sealed record MemberInfo(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("addr")] string Addr,
    [property: JsonPropertyName("port")] int Port,
    [property: JsonPropertyName("tags")] IReadOnlyDictionary<string, string> Tags,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("protocol")] int Protocol);

/// <summary>A health check's state (Consul's model): status is passing, warning or critical.</summary>
public sealed record CheckState(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("output")] string Output);
